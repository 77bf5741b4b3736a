"""The Regressions pane opened before it is built ahead (a user faster than the build ahead):
its first frame comes before anything is read, then one worker reads what it shows, which fills
in steps, each in a frame of its own: the runs, the suites, the chart (drawn in the worker).
Keys pressed meanwhile neither crash it nor show another suite's runs or chart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from textual.screen import Screen
from textual.widgets import ProgressBar

from storage.evals import EvalStore
from tests.functional.test_regressions_on_key import gate, held, until
from tests.functional.test_regressions_pane import (
    SIZE,
    build_app,
    run_ids,
    settle,
    sql_run_ids,
    text_of,
)
from tui.app import TunedeckApp
from tui.screens import regressions as pane_module
from tui.screens.regressions import RegressionsScreen
from tui.widgets.regressions.chart import PassRatePlot
from tui.widgets.regressions.suites import SuiteTable

pytestmark = pytest.mark.usefixtures("local_time_utc")
__all__ = ["gate"]  # a fixture, used by name

Event = tuple[str, ...]
"""("frame", runs, suites, chart) with "0"/"1" for each shown, or ("read", what)."""


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Event]]:
    """The pane's frames (what each showed) and the reads of the evaluation history, in order
    (the reads come from worker threads)."""
    noted: list[Event] = []
    lock = threading.Lock()
    refresh = Screen._compositor_refresh

    def framed(screen: Screen[Any]) -> None:
        refresh(screen)
        if isinstance(screen, RegressionsScreen) and screen.is_current:
            with lock:
                noted.append(("frame", *shown(screen)))

    monkeypatch.setattr(Screen, "_compositor_refresh", framed)
    for name in ("mark_interrupted_dead_runs", "suites", "runs", "pass_rate_history"):
        monkeypatch.setattr(EvalStore, name, reading(getattr(EvalStore, name), name, noted, lock))
    yield noted


def reading(method: Any, name: str, noted: list[Event], lock: threading.Lock) -> Any:
    def noting(self: EvalStore, *args: Any, **kwargs: Any) -> Any:
        with lock:
            noted.append(("read", name))
        return method(self, *args, **kwargs)

    return noting


def shown(screen: RegressionsScreen) -> tuple[str, str, str]:
    """Whether the runs, the suites and the chart are in the pane ("1") or not ("0")."""
    runs = screen.runs.row_count > 0
    suites = screen.query_one(SuiteTable).row_count > 0
    chart = "Pass rate" in text_of(screen.query_one(PassRatePlot))
    return tuple("1" if part else "0" for part in (runs, suites, chart))  # type: ignore[return-value]


def on_the_key() -> TunedeckApp:
    """The console, its Regressions pane not built ahead (opened on the key)."""
    app = build_app()
    app.PREBUILT_PANES = tuple(mode for mode in app.PREBUILT_PANES if mode != "regressions")
    return app


async def test_its_first_frame_comes_first_then_runs_suites_and_chart_each_in_a_frame(
    home: object, events: list[Event]
) -> None:
    app = on_the_key()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.set_focus(None)
        events.clear()
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RegressionsScreen)
        store = app.engine.store
        assert run_ids(screen) == sql_run_ids(store, "json-extract")
        assert "json-extract" in text_of(screen.query_one(PassRatePlot))
        assert not screen.query(ProgressBar)  # made when a run starts
    app.engine.close()
    # The frame first, empty: nothing was read before it (a thread would slow it down).
    assert events[0] == ("frame", "0", "0", "0")
    # Then one read of what it shows, each part once, before anything of it is drawn.
    reads = [event[1] for event in events if event[0] == "read"]
    first_filled = next(i for i, event in enumerate(events) if event[:2] == ("frame", "1"))
    assert [event[1] for event in events[:first_filled] if event[0] == "read"] == [
        "mark_interrupted_dead_runs",
        "suites",
        "runs",
        "pass_rate_history",
    ]
    assert reads.count("pass_rate_history") == 1
    # Then the parts in turn, each step drawn before the next is shown: the runs, the
    # suites, the chart (a step may share the frame of the one before when Textual draws
    # the widget of the one before late: no part ever comes before the one before it).
    states = {event[1:] for event in events if event[0] == "frame"}
    assert ("1", "1", "1") in states
    assert states <= {("0", "0", "0"), ("1", "0", "0"), ("1", "1", "0"), ("1", "1", "1")}
    assert ("1", "0", "0") in states  # the runs first, alone


async def test_keys_pressed_while_it_reads_neither_crash_nor_show_stale_runs(
    home: object, gate: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pane_module, "read_screenful", held(gate, pane_module.read_screenful))
    app = on_the_key()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.set_focus(None)
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, RegressionsScreen)
        await until(pilot, lambda: screen.runs.has_focus)
        # Its frame is on screen, its read held: keys meanwhile, and away and back.
        await pilot.press("escape", "down", "pagedown", "space", "d", "alt+4", "alt+1", "alt+4")
        assert app.screen is screen and screen.runs.row_count == 0
        gate.set()
        await settle(pilot)
        store = app.engine.store
        assert run_ids(screen) == sql_run_ids(store, "json-extract")
        assert screen.query_one(SuiteTable).row_count == 2
        assert "json-extract" in text_of(screen.query_one(PassRatePlot))
        assert screen.marked == []
    app.engine.close()


async def test_another_suite_chosen_while_a_chart_is_drawn_keeps_its_own_chart(
    home: object, gate: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = on_the_key()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.set_focus(None)
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RegressionsScreen) and screen.suite_name == "json-extract"
        # Read again (r): the chart of json-extract is drawn in the worker, held there while
        # the user chooses qa-capitals; it comes after that suite's own chart.
        draw = held(gate, pane_module.draw_chart)
        monkeypatch.setattr(pane_module, "draw_chart", draw)
        await pilot.press("r")
        await until(pilot, lambda: screen.runs.held and screen.runs.loaded)  # runs drawn
        suites = screen.query_one(SuiteTable)
        suites.focus()
        suites.move_cursor(row=[suite.name for suite in suites.suites].index("qa-capitals"))
        await pilot.press("enter")
        plot = screen.query_one(PassRatePlot)
        await until(pilot, lambda: "qa-capitals" in text_of(plot) and screen.runs.loaded)
        gate.set()

        await settle(pilot)
        assert screen.suite_name == "qa-capitals"
        assert run_ids(screen) == sql_run_ids(app.engine.store, "qa-capitals")
        assert "qa-capitals" in text_of(screen.query_one(PassRatePlot))
        assert set(screen.history) == {"gpt-4o-mini", "gpt-4.1", "ft:gpt-4o-mini:acme::v2"}
        suites = screen.query_one(SuiteTable)
        assert suites.suite_at_cursor() is not None
        assert suites.suite_at_cursor().name == "qa-capitals"  # type: ignore[union-attr]
    app.engine.close()
