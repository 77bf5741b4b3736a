"""Snapshots of the Data pane with a checked file (120x36, 80x24) and of its versions view.

The file is generated in a fixed working directory shown by its relative name; versions are
recorded at the snapshot clock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.snapshots.conftest import NOW
from tests.support.data_files import training_file
from tui.app import TunedeckApp

SnapCompare = Callable[..., bool]
MakeApp = Callable[..., TunedeckApp]


@pytest.fixture(autouse=True)
def checked_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`train.jsonl` in the working directory; dataset versions dated at the snapshot clock."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setattr("core.data.lineage.utc_now", lambda: NOW)
    return training_file(folder)[0]


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def check_then(*keys: str) -> Callable[[Pilot[Any]], Any]:
    """Check `train.jsonl` from the path field, then press `keys`."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("o")
        pilot.app.screen.query_one("#data-path", Input).value = "train.jsonl"
        await pilot.press("enter")
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_data_pane_120x36(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    app = make_app(seeded=False, mode="data")
    assert snap_compare(app, terminal_size=(120, 36), run_before=check_then())


def test_data_pane_80x24(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    app = make_app(seeded=False, mode="data")
    assert snap_compare(app, terminal_size=(80, 24), run_before=check_then())


def test_data_pane_versions_and_lineage(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    app = make_app(seeded=False, mode="data")
    # A split with the dialog's defaults (10% held out, seed 0), its outcome closed, then `v`.
    run_before = check_then("s", "enter", "escape", "v")
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
