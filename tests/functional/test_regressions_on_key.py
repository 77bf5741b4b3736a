"""The Regressions pane's views opened on the key, before they are built ahead (a user faster
than the build ahead; the tests' default: see tests/conftest.py): the view's first frame comes
at once, with its titles, headers and a line saying what is being read, and its rows fill in
from a worker after it. Keys pressed meanwhile never show another run's rows or comparison.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Label

from tests.functional.test_regressions_pane import (
    CAPITALS,
    SIZE,
    build_app,
    choose_suite,
    highlight_run,
    open_pane,
    settle,
    text_of,
)
from tui.widgets.regressions import diff as diff_module
from tui.widgets.regressions.cases import DiffCaseTable
from tui.widgets.regressions.diff import COMPARING, RunDiffScreen
from tui.widgets.regressions.results import READING, ResultTable, RunResultsScreen

pytestmark = pytest.mark.usefixtures("local_time_utc")

Frame = tuple[str, int, str, str]
"""What a frame of a view showed: its class, its table's rows, its hint, its heading."""


@pytest.fixture
def frames(monkeypatch: pytest.MonkeyPatch) -> list[Frame]:
    """What each frame of a results or diff view showed, in order."""
    shown: list[Frame] = []
    refresh = Screen._compositor_refresh

    def noted(screen: Screen[Any]) -> None:
        refresh(screen)
        view = isinstance(screen, RunResultsScreen | RunDiffScreen)
        if view and screen.is_current and screen.query("#results-hint, #diff-hint"):
            shown.append(what_it_shows(screen))  # once composed

    monkeypatch.setattr(Screen, "_compositor_refresh", noted)
    return shown


def what_it_shows(view: RunResultsScreen | RunDiffScreen) -> Frame:
    if isinstance(view, RunResultsScreen):
        table, hint, heading = view.table, "#results-hint", "#results-heading"
    else:
        table, hint, heading = view.query_one(DiffCaseTable), "#diff-hint", "#diff-summary"
    label = str(view.query_one(hint, Label).content)
    return type(view).__name__, table.row_count, label, text_of(view.query_one(heading))


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """Held shut while a test presses keys during a read; opened at the end whatever happens."""
    event = threading.Event()
    yield event
    event.set()


def held(gate: threading.Event, read: Callable[..., Any], times: int = 1) -> Callable[..., Any]:
    """`read`, whose first `times` calls wait for `gate` (then read as usual)."""
    calls = iter(range(times))

    def waiting(*args: Any, **kwargs: Any) -> Any:
        if next(calls, None) is not None:
            assert gate.wait(10), "the gate was never opened"
        return read(*args, **kwargs)

    return waiting


async def until(pilot: Pilot[None], condition: Callable[[], bool]) -> None:
    """Let the app run until `condition()` (workers may be held: no waiting for them)."""
    for _ in range(300):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("never happened")


async def test_results_opened_on_the_key_show_their_frame_first_then_their_rows(
    home: object, frames: list[Frame]
) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 4)
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, RunResultsScreen)
        assert [row.case_id for row in view.table.window.rows] == sorted(CAPITALS)
    app.engine.close()
    first, last = frames[0], frames[-1]
    # The first frame: the run's heading and the columns' headers, no row yet, and the hint
    # says the results are being read; then the rows, and the hint says what they are.
    assert first[:3] == ("RunResultsScreen", 0, READING)
    assert "run #4 ft:gpt-4o-mini:acme::v2" in first[3]
    assert last[:3] == ("RunResultsScreen", len(CAPITALS), "every result")


async def test_a_diff_opened_on_the_key_shows_its_runs_first_then_the_comparison(
    home: object, frames: list[Frame]
) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 4)
        await pilot.press("c")  # against the suite's pinned run 3
        await settle(pilot)
        assert isinstance(app.screen, RunDiffScreen)
    app.engine.close()
    first, last = frames[0], frames[-1]
    assert first[:3] == ("RunDiffScreen", 0, COMPARING)
    assert "A #3 gpt-4o-mini" in first[3] and "B #4 ft:gpt-4o-mini:acme::v2" in first[3]
    assert "broke" not in first[3]  # the comparison is not read yet
    assert last[:3] == ("RunDiffScreen", len(CAPITALS), "8 cases · every case")
    assert "2 broke, 1 fixed of 8" in last[3]


async def test_keys_pressed_while_results_are_read_never_show_another_run_s_rows(
    home: object, monkeypatch: pytest.MonkeyPatch, gate: threading.Event
) -> None:
    monkeypatch.setattr(ResultTable, "read_page", held(gate, ResultTable.read_page))
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 6)
        await pilot.press("enter")  # run 6's first page is held
        await until(pilot, lambda: isinstance(app.screen, RunResultsScreen))
        view = app.screen
        assert isinstance(view, RunResultsScreen)
        await pilot.press("enter", "x", "escape")  # while it is read: nothing breaks
        await until(pilot, lambda: app.screen is screen)
        await highlight_run(pilot, screen, 4)
        await pilot.press("enter")  # the kept view, with run 4's first page
        await until(pilot, lambda: app.screen is view and view.table.loaded)
        gate.set()  # run 6's page comes in now: too late, and dropped
        await settle(pilot)
        assert app.screen is view and view.run is not None and view.run.id == 4
        assert [row.run_id for row in view.table.window.rows] == [4] * len(CAPITALS)
        assert str(view.query_one("#results-hint", Label).content) == "every result"
        assert "run #4 " in text_of(view.query_one("#results-heading"))
    app.engine.close()


async def test_keys_pressed_while_a_diff_is_compared_never_show_another_comparison(
    home: object, monkeypatch: pytest.MonkeyPatch, gate: threading.Event
) -> None:
    monkeypatch.setattr(diff_module, "read_diff", held(gate, diff_module.read_diff))
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 6)
        await pilot.press("c")  # run 6 against run 3: its comparison is held
        await until(pilot, lambda: isinstance(app.screen, RunDiffScreen))
        view = app.screen
        assert isinstance(view, RunDiffScreen) and view.diff is None
        await pilot.press("enter", "b", "o", "escape")  # while it is compared: nothing breaks
        await until(pilot, lambda: app.screen is screen)
        await highlight_run(pilot, screen, 4)
        await pilot.press("c")  # run 4 against run 3, in the kept view
        await until(pilot, lambda: app.screen is view and view.diff is not None)
        gate.set()  # the comparison of run 6 comes in now: too late, and dropped
        await settle(pilot)
        assert app.screen is view and (view.a_id, view.b_id) == (3, 4)
        assert view.diff is not None and (view.diff.a.id, view.diff.b.id) == (3, 4)
        assert view.diff.comparison.broke == ("c-oslo", "c-tokyo")
        assert "2 broke, 1 fixed of 8" in text_of(view.query_one("#diff-summary"))
        assert "B #4 " in text_of(view.query_one("#side-b-text"))
    app.engine.close()
