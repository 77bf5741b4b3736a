"""Snapshots of the Regressions pane (120x36 and 80x24) and of the diff of two runs (its view
built ahead, as the console does in a pause of the user: waited for before any key)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.snapshots.conftest import NOW
from tests.support.eval_seed import seed_evals
from tests.support.views_ahead import views_built
from tui.app import TunedeckApp
from tui.screens.regressions import RegressionsScreen
from tui.widgets.regressions.runs import RunTable
from tui.widgets.regressions.suites import SuiteTable

SnapCompare = Callable[..., bool]
MakeApp = Callable[..., TunedeckApp]


pytestmark = pytest.mark.views_ahead  # each view opens as a user finds it: built ahead


async def settle(pilot: Pilot[None]) -> None:
    """Wait for every read and for what its result starts."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def on_capitals(*keys: str, run: int | None = None) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Open the `qa-capitals` suite, put the cursor on run `run` if given, then press `keys`."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, RegressionsScreen)
        await views_built(pilot, screen)
        suites = screen.query_one(SuiteTable)
        suites.focus()
        suites.move_cursor(row=[suite.name for suite in suites.suites].index("qa-capitals"))
        await pilot.press("enter")
        await settle(pilot)
        if run is not None:
            runs = screen.query_one(RunTable)
            runs.move_cursor(row=runs.get_row_index(str(run)))
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def seeded(make_app: MakeApp) -> TunedeckApp:
    app = make_app(mode="regressions")
    seed_evals(app.engine.store, NOW)
    return app


def test_regressions_pane_120x36(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    run_before = on_capitals("space", run=3)  # run 3 marked A
    assert snap_compare(seeded(make_app), terminal_size=(120, 36), run_before=run_before)


def test_regressions_pane_80x24(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    assert snap_compare(seeded(make_app), terminal_size=(80, 24), run_before=on_capitals())


def test_regressions_diff_120x36(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    run_before = on_capitals("c", "end", run=6)  # run 6 against the pinned run 3; on c-tokyo
    assert snap_compare(seeded(make_app), terminal_size=(120, 36), run_before=run_before)


def test_regressions_diff_80x24_regressions_only(
    snap_compare: SnapCompare, make_app: MakeApp
) -> None:
    run_before = on_capitals("c", "x", "down", run=6)  # on c-rome: its hostile answer inert
    assert snap_compare(seeded(make_app), terminal_size=(80, 24), run_before=run_before)
