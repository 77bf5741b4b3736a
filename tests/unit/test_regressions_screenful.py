"""What the Regressions pane reads at once (tui/widgets/regressions/screenful.py), on a real
SQLite file, and its chart drawn off the event loop (chart.draw_chart) as its widget draws it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.app import App, ComposeResult

from storage.evals import EvalStore
from storage.store import Store
from tests.support.eval_seed import seed_evals
from tui.widgets.regressions.chart import PassRateChart, PassRatePlot, chart_place, draw_chart
from tui.widgets.regressions.screenful import ScreenfulPlan, choose_suite, read_screenful

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("local_time_utc")


@pytest.fixture
def evals(store: Store) -> EvalStore:
    seed_evals(store, NOW)  # json-extract (2 runs), qa-capitals (6 runs)
    return EvalStore(store)


def plan(
    shown: str | None = None, keep_runs: bool = False, wanted: str | None = None, page: int = 2
) -> ScreenfulPlan:
    return ScreenfulPlan(
        shown=shown, keep_runs=keep_runs, wanted=wanted, chart=None, page_size=page
    )


def test_the_suite_shown_is_the_one_wanted_else_the_one_shown_else_the_first() -> None:
    names = ["a", "b", "c"]
    assert choose_suite(names, None, None) == "a"
    assert choose_suite(names, "b", None) == "b"
    assert choose_suite(names, "b", "c") == "c"
    assert choose_suite(names, "gone", "also-gone") == "a"
    assert choose_suite([], "b", "c") is None


def test_a_screenful_holds_the_suites_two_pages_of_runs_and_the_history(evals: EvalStore) -> None:
    screenful = read_screenful(evals, plan(page=2))
    assert [suite.name for suite in screenful.suites] == ["json-extract", "qa-capitals"]
    assert screenful.suite == "json-extract"
    expected = [run.id for run in evals.runs("json-extract", limit=4)]
    assert screenful.runs is not None and [run.id for run in screenful.runs] == expected
    assert screenful.history == evals.pass_rate_history("json-extract")

    wanted = read_screenful(evals, plan(shown="json-extract", wanted="qa-capitals", page=2))
    assert wanted.suite == "qa-capitals" and wanted.runs is not None
    assert [run.id for run in wanted.runs] == [run.id for run in evals.runs("qa-capitals")][:4]


def test_runs_the_user_scrolled_to_are_not_read_again(evals: EvalStore) -> None:
    kept = read_screenful(evals, plan(shown="qa-capitals", keep_runs=True))
    assert kept.suite == "qa-capitals" and kept.runs is None
    assert set(kept.history) == {"gpt-4o-mini", "gpt-4.1", "ft:gpt-4o-mini:acme::v2"}
    # The suite shown is gone: the first suite's runs are read, whatever was kept.
    moved = read_screenful(evals, plan(shown="gone", keep_runs=True))
    assert moved.suite == "json-extract" and moved.runs


def test_no_suite_no_runs(store: Store) -> None:
    screenful = read_screenful(EvalStore(store), plan())
    assert (screenful.suites, screenful.suite, screenful.runs, screenful.history) == (
        [],
        None,
        [],
        {},
    )


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PassRateChart()


@pytest.mark.parametrize("suite", ["qa-capitals", "json-extract", None])
async def test_a_chart_drawn_in_a_thread_is_the_one_its_widget_draws(
    evals: EvalStore, suite: str | None
) -> None:
    history = evals.pass_rate_history(suite) if suite else {}
    app = ChartApp()
    async with app.run_test(size=(90, 14)) as pilot:
        chart = app.query_one(PassRateChart)
        await pilot.pause()
        place = chart_place(chart)
        assert place is not None and (place.width, place.height) == (90, 13)
        drawn = draw_chart(place, suite, history)
        chart.show(suite, history)  # drawn by the widget itself
        plot = chart.query_one(PassRatePlot)
        assert plot.render() == drawn.text
        chart.show(suite, history, drawn)  # given the one drawn: shown as it is
        assert plot.render() is drawn.text
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        assert chart_place(chart) != place  # another theme: drawn again, not the one given
        chart.show(suite, history, drawn)
        assert plot.render() is not drawn.text
