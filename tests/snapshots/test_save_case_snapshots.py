"""Snapshot of the "save as eval case" dialog at the smallest supported size (80x24).

The prompt is answered by the built-in demo endpoint (deterministic); the working directory is
the test's folder, so the default suite file shows as `home/suites/prompts.jsonl`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from tui.app import TunedeckApp
from tui.dialogs.save_case import SaveCaseDialog
from tui.widgets.prompt.editor import PromptEditor


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def dialog_open(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    screen = pilot.app.screen
    screen.query_one("#system", TextArea).load_text("Answer in one short sentence.")
    screen.query_one(PromptEditor).load_text("What is the capital of France?")
    await pilot.press("ctrl+s")
    await settle(pilot)
    await pilot.press("ctrl+t")
    await settle(pilot)
    assert isinstance(pilot.app.screen, SaveCaseDialog)


def test_save_case_dialog_80x24(
    snap_compare: Any,
    make_app: Callable[..., TunedeckApp],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=dialog_open)
