"""Fixtures shared by every test: the user's real home, config and keys stay out."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.client import ChatClient
from core.settings import Settings, load_settings
from storage.store import Store
from tests.support.fake_openai import FakeOpenAI

TEST_KEY = "sk-test-SECRETKEY-1234567890abcdef"


@pytest.fixture(scope="session")
def tiktoken_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One vocabulary cache for the session: seeded from the installed package."""
    return tmp_path_factory.mktemp("tiktoken")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiktoken_cache: Path) -> Path:
    """A fresh data directory and an environment without the user's keys or settings."""
    for name in list(os.environ):
        if name.startswith(("TUNEDECK_", "OPENAI_")) or name == "NO_COLOR":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("TUNEDECK_HOME", str(home))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache))
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    return home


@pytest.fixture(autouse=True)
def views_ahead_only_when_marked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Regressions pane builds its views ahead on wall-clock timers: only in the tests
    marked `views_ahead`, so that no other test's course depends on the machine's speed."""
    if request.node.get_closest_marker("views_ahead") is None:
        from tui.widgets.regressions.ahead import ViewsAhead

        monkeypatch.setattr(ViewsAhead, "ENABLED", False)


@pytest.fixture
def home(isolated_env: Path) -> Path:
    """The test's data directory (TUNEDECK_HOME)."""
    return isolated_env


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    """A scriptable OpenAI-compatible server on 127.0.0.1."""
    with FakeOpenAI() as server:
        yield server


def write_config(home: Path, text: str) -> Path:
    """Write `config.toml` in the data directory."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def fake_profile_toml(base_url: str, *, max_retries: int = 2, timeout: float = 5.0) -> str:
    """A config with a `fake` profile pointing at the test server, keyed by TEST_KEY."""
    return f"""
default_profile = "fake"

[profiles.fake]
base_url = "{base_url}"
api_key_env = "FAKE_API_KEY"
default_model = "gpt-4o-mini"
timeout = {timeout}
max_retries = {max_retries}
"""


@pytest.fixture
def settings(home: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose default profile is the fake server (2 retries, 5 s timeout)."""
    monkeypatch.setenv("FAKE_API_KEY", TEST_KEY)
    write_config(home, fake_profile_toml(fake.base_url))
    return load_settings()


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """The real SQLite file in the test's data directory."""
    opened = Store.open(settings.database_path)
    yield opened
    opened.close()


@pytest.fixture
def client(settings: Settings, store: Store) -> Iterator[ChatClient]:
    """A chat client on the fake server's profile."""
    made = ChatClient(settings, store)
    yield made
    made.close()


@pytest.fixture
def local_time_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC for the test (local days are UTC days), and what it was after.
    A module takes it with `pytestmark = pytest.mark.usefixtures("local_time_utc")`."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
