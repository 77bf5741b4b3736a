"""The garbage collector's settings for a headless command's long work (tui/cli/heap.py)."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import heap

ROOT = Path(__file__).resolve().parents[2]


def test_the_commands_own_process_freezes_what_it_holds_and_collects_less_often() -> None:
    code = (
        "import gc\n"
        "from tui.cli import heap\n"
        "before = gc.get_threshold()\n"
        "heap.own_process()\n"
        "heap.settle_for_long_work()\n"
        "after = gc.get_threshold()\n"
        "print(gc.get_freeze_count() > 1000, after[0], before[1:] == after[1:])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", str(heap.YOUNG_COLLECTION_EVERY), "True"]


def test_another_process_calling_the_command_line_keeps_its_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(heap, "_owned", False)
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    heap.settle_for_long_work()
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)
