"""The real `tunedeck` in a real terminal (tmux), driven by keys, on the offline demo endpoint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

TUNEDECK = str(Path(sys.executable).with_name("tunedeck"))


class Tmux:
    """A private tmux server (`tmux -L NAME`) running one session."""

    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *args: str) -> str:
        # Textual sizes itself from COLUMNS/LINES when they are set (pytest's may be 80x24).
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
        done = subprocess.run(
            ["tmux", "-L", self.name, *args], capture_output=True, text=True, timeout=20, env=env
        )
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "deck")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", "deck", *(["-l"] if literal else []), *keys)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")


@pytest.fixture
def tmux(home: Path) -> Iterator[Tmux]:
    assert shutil.which("tmux"), "tmux is needed for the end-to-end test (.ci/run installs it)"
    session = Tmux(f"tunedeck-test-{os.getpid()}")
    session.run(
        "-f", "/dev/null",
        "new-session", "-d", "-s", "deck", "-x", "120", "-y", "36",
        "-e", f"TUNEDECK_HOME={home}",
        "-e", f"TIKTOKEN_CACHE_DIR={os.environ['TIKTOKEN_CACHE_DIR']}",
        "-e", "TERM=xterm-256color",
        TUNEDECK,
    )  # fmt: skip
    try:
        yield session
    finally:
        session.run("kill-server")


def test_send_a_prompt_see_it_answered_and_cached_then_quit(tmux: Tmux, home: Path) -> None:
    tmux.wait_for("OFFLINE DEMO")
    tmux.keys("hello from tmux", literal=True)
    tmux.wait_for("hello from tmux")
    tmux.keys("C-s")
    screen = tmux.wait_for("offline demo model")
    assert "3 words" in screen
    tmux.keys("C-s")
    tmux.wait_for("CACHE HIT")
    tmux.keys("F3")
    tmux.wait_for("tunedeck — Cache")
    tmux.keys("C-q")
    deadline = time.monotonic() + 15
    while "deck" in tmux.run("list-sessions") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "deck" not in tmux.run("list-sessions")
    assert (home / "tunedeck.db").exists()
