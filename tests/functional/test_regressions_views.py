"""The Regressions pane's views (a run's results, a diff) are kept once built and shown again:
shown again, a view shows its new run or comparison from the start, nothing left of the last
one (filter, cursor, answers), and, laid out already, it is pushed with its rows in.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Label

from storage.evals import EvalStore
from tests.functional.test_regressions_pane import (
    CAPITALS,
    SIZE,
    build_app,
    choose_suite,
    highlight_run,
    notes_of,
    open_pane,
    settle,
    text_of,
    utc,  # noqa: F401  # autouse: local days are UTC days
)
from tui.app import TunedeckApp
from tui.widgets.paging import PagedTable
from tui.widgets.regressions.cases import DiffCaseTable
from tui.widgets.regressions.diff import RunDiffScreen
from tui.widgets.regressions.results import ResultTable, RunResultsScreen


def watch_pushes(app: TunedeckApp, into: list[tuple[str, int]]) -> None:
    """Note, as each screen is pushed, the rows in its paged table (0 if none is mounted)."""

    def pushed(screen: Screen[object]) -> None:
        tables = screen.query(PagedTable)
        rows = len(tables.first().window.rows) if tables else 0
        into.append((type(screen).__name__, rows))

    app.screen_change_signal.subscribe(app, pushed, immediate=True)


async def test_a_run_s_results_shown_again_start_over_with_the_new_run(home: object) -> None:
    app, pushed_rows = build_app(), list[tuple[str, int]]()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        watch_pushes(app, pushed_rows)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 6)
        await pilot.press("enter")
        await settle(pilot)
        first = app.screen
        assert isinstance(first, RunResultsScreen)
        await pilot.press("x", "down")  # the failures, the second one
        await settle(pilot)
        assert [row.case_id for row in first.table.window.rows] == ["c-paris", "c-rome"]
        await pilot.press("escape")
        await settle(pilot)

        await highlight_run(pilot, screen, 4)  # fails c-oslo and c-tokyo
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is first  # kept, shown again
        table = first.query_one(ResultTable)
        assert (table.run_id, table.status) == (4, None)
        assert [row.case_id for row in table.window.rows] == sorted(CAPITALS)
        assert table.cursor_row == 0 and app.screen.focused is table
        assert str(first.query_one("#results-hint", Label).content) == "every result"
        heading = text_of(first.query_one("#results-heading"))
        assert "run #4 ft:gpt-4o-mini:acme::v2" in heading and "6 pass · 2 fail" in heading
        assert "c-berlin" in text_of(first.query_one("#result-text"))
    app.engine.close()
    # A new view reads its first page itself; the kept one is pushed with it in its table.
    assert pushed_rows[-1] == ("RunResultsScreen", 8)
    assert ("RunResultsScreen", 0) in pushed_rows


async def test_a_diff_shown_again_shows_every_case_of_the_new_comparison(home: object) -> None:
    app, pushed_rows = build_app(), list[tuple[str, int]]()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        watch_pushes(app, pushed_rows)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 6)
        await pilot.press("c")  # run 6 against the suite's pinned run 3
        await settle(pilot)
        first = app.screen
        assert isinstance(first, RunDiffScreen)
        await pilot.press("x", "down")  # regressions only, on c-rome
        await settle(pilot)
        assert "A #3 gpt-4o-mini · c-rome" in text_of(first.query_one("#side-a-text"))
        await pilot.press("escape")
        await settle(pilot)

        await highlight_run(pilot, screen, 4)  # ft: broke c-oslo and c-tokyo, fixed c-lima
        await pilot.press("c")
        await settle(pilot)
        assert app.screen is first
        assert (first.a_id, first.b_id) == (3, 4) and not first.regressions_only
        assert first.diff is not None and first.diff.comparison.broke == ("c-oslo", "c-tokyo")
        table = first.query_one(DiffCaseTable)
        assert [str(row.key.value) for row in table.ordered_rows] == sorted(CAPITALS)
        assert table.cursor_row == 0 and app.screen.focused is table
        hint = first.query_one("#diff-hint", Label)
        assert str(hint.content) == "8 cases · every case" and not hint.has_class("-filtered")
        assert "B #4 ft:gpt-4o-mini:acme::v2" in text_of(first.query_one("#diff-summary"))
        assert "2 broke, 1 fixed of 8" in text_of(first.query_one("#diff-summary"))
        assert "A #3 gpt-4o-mini · c-berlin" in text_of(first.query_one("#side-a-text"))
        assert "B #4 ft:gpt-4o-mini:acme::v2 · c-berlin" in text_of(first.query_one("#side-b-text"))
    app.engine.close()
    # Compared before it is pushed: a new view fills its table once laid out, the kept one
    # is pushed with its cases in.
    assert pushed_rows[-1] == ("RunDiffScreen", 8)


async def test_a_diff_of_a_run_deleted_meanwhile_says_so_and_opens_nothing(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        for run_id in (3, 6):
            await highlight_run(pilot, screen, run_id)
            await pilot.press("space")
        EvalStore(app.engine.store).delete_run(6)
        await pilot.press("d")
        await settle(pilot)
        assert app.screen is screen
        assert "run #6 is gone" in notes_of(app)
    app.engine.close()
