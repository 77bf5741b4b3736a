"""The Regressions pane's views (a run's results, a diff) are kept once built and shown again:
shown again, a view shows its new run or comparison from the start, nothing left of the last
one (filter, cursor, answers), and, laid out already, it is pushed with its rows in. They are
built ahead, in a pause of the user, once the pane shows its runs: the first opening finds
them, and shows the run or comparison asked for in them, never what they held. Their tables
(and the pane's runs) render one-line cells straight, into the lines DataTable would make.
"""

from __future__ import annotations

import pytest
from textual.screen import Screen
from textual.widgets import DataTable, Label

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
)
from tests.support.views_ahead import views_built
from tui.app import TunedeckApp
from tui.widgets.paging import PagedTable
from tui.widgets.regressions.cases import DiffCaseTable
from tui.widgets.regressions.diff import DIFF_VIEW, RunDiffScreen
from tui.widgets.regressions.quick_cells import QuickCells
from tui.widgets.regressions.results import RESULTS_VIEW, ResultTable, RunResultsScreen
from tui.widgets.regressions.runs import RunTable
from tui.widgets.regressions.suites import SuiteTable


def watch_pushes(app: TunedeckApp, into: list[tuple[str, int]]) -> None:
    """Note, as each screen is pushed, the rows in its paged table (0 if none is mounted)."""

    def pushed(screen: Screen[object]) -> None:
        tables = screen.query(PagedTable)
        rows = len(tables.first().window.rows) if tables else 0
        into.append((type(screen).__name__, rows))

    app.screen_change_signal.subscribe(app, pushed, immediate=True)


pytestmark = pytest.mark.usefixtures("local_time_utc")


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
        crit = [first.table.get_cell(row.key, "critical").plain for row in first.table.ordered_rows]
        assert crit == ["yes", ""]  # c-paris is critical, c-rome is not
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


def watch_diff_pushes(app: TunedeckApp, into: list[tuple[str, str, str]]) -> None:
    """Note, as each diff view is pushed, its summary and its two answers."""

    def pushed(screen: Screen[object]) -> None:
        if isinstance(screen, RunDiffScreen):
            texts = [text_of(screen.query_one(f"#{name}")) for name in DIFF_TEXTS]
            into.append((texts[0], texts[1], texts[2]))

    app.screen_change_signal.subscribe(app, pushed, immediate=True)


DIFF_TEXTS = ("diff-summary", "side-a-text", "side-b-text")


@pytest.mark.views_ahead
@pytest.mark.parametrize("kept", [False, True])
async def test_a_diff_s_answers_come_after_its_first_frame_never_the_last_one_s(
    home: object, kept: bool
) -> None:
    app, pushed = build_app(), list[tuple[str, str, str]]()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await views_built(pilot, screen)  # the first `c` finds the diff view built ahead
        if kept:  # a first diff, whose answers the kept view shows when it is hidden
            await highlight_run(pilot, screen, 6)
            await pilot.press("c")
            await settle(pilot)
            assert "c-berlin" in text_of(app.screen.query_one("#side-a-text"))
            await pilot.press("escape")
            await settle(pilot)
        watch_diff_pushes(app, pushed)
        await highlight_run(pilot, screen, 4)
        await pilot.press("c")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, RunDiffScreen) and view.is_current
        summary, side_a, side_b = pushed[-1]
        assert "B #4 ft:gpt-4o-mini:acme::v2" in summary  # pushed with its summary
        assert not side_a.strip() and not side_b.strip()  # its answers come a frame later
        assert "A #3 gpt-4o-mini · c-berlin" in text_of(view.query_one("#side-a-text"))
        assert "B #4 ft:gpt-4o-mini:acme::v2 · c-berlin" in text_of(view.query_one("#side-b-text"))
        await pilot.press("down")  # the answers follow the cursor again
        await settle(pilot)
        assert "A #3 gpt-4o-mini · c-cairo" in text_of(view.query_one("#side-a-text"))
    app.engine.close()


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


# -- built ahead -----------------------------------------------------------------------------


def watch_shown(app: TunedeckApp, into: list[tuple[str, object, list[str]]]) -> None:
    """Note, as each view is pushed, what it shows: its run (or runs) and its table's rows."""

    def pushed(screen: Screen[object]) -> None:
        if isinstance(screen, RunResultsScreen):
            run = screen.run.id if screen.run else None
            into.append(("results", run, [r.case_id for r in screen.table.window.rows]))
        elif isinstance(screen, RunDiffScreen):
            rows = [line.case_id for line in screen.query_one(DiffCaseTable).window.rows]
            into.append(("diff", (screen.a_id, screen.b_id), rows))

    app.screen_change_signal.subscribe(app, pushed, immediate=True)


@pytest.mark.views_ahead
async def test_the_views_are_built_ahead_and_open_on_the_run_asked_for(home: object) -> None:
    app, shown = build_app(), list[tuple[str, object, list[str]]]()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        watch_shown(app, shown)
        await views_built(pilot, screen)
        results = app.get_screen(RESULTS_VIEW, RunResultsScreen)
        diff = app.get_screen(DIFF_VIEW, RunDiffScreen)
        for view in (results, diff):  # mounted and laid out, off every screen stack
            assert view.is_mounted and view.size == app.size
            assert all(view not in stack for stack in app._screen_stacks.values())
        assert results.run is None and not results.table.window.rows
        assert diff.diff is None and not diff.query_one(DiffCaseTable).row_count

        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 4)  # fails c-oslo and c-tokyo
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is results
        assert [row.run_id for row in results.table.window.rows] == [4] * len(CAPITALS)
        # Filled before it was pushed: its rows are rendered ahead once it is on show.
        assert results.table.warmed and not results.table.due_when_shown
        assert "run #4 ft:gpt-4o-mini:acme::v2" in text_of(results.query_one("#results-heading"))
        assert "c-berlin" in text_of(results.query_one("#result-text"))
        await pilot.press("x")  # its failures
        await settle(pilot)
        assert [row.case_id for row in results.table.window.rows] == ["c-oslo", "c-tokyo"]
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("c")  # run 4 against the suite's pinned run 3
        await settle(pilot)
        assert app.screen is diff
        assert diff.diff is not None and diff.diff.comparison.broke == ("c-oslo", "c-tokyo")
        assert "2 broke, 1 fixed of 8" in text_of(diff.query_one("#diff-summary"))
        assert "B #4 ft:gpt-4o-mini:acme::v2 · c-berlin" in text_of(diff.query_one("#side-b-text"))
    app.engine.close()
    # Each view was pushed once, with the run asked for and its rows in: never empty, nothing
    # of another run.
    assert shown == [
        ("results", 4, sorted(CAPITALS)),
        ("diff", (3, 4), sorted(CAPITALS)),
    ]


async def test_a_view_opened_before_it_is_built_ahead_replaces_the_one_being_built(
    home: object,
) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        ahead = screen.views_ahead
        ahead._advance(ahead._pending[0])  # the results view made, mounting: not ready yet
        being_built = ahead._pending[0].view
        assert being_built is not None and not app.is_screen_installed(RESULTS_VIEW)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 6)
        await pilot.press("enter")
        await settle(pilot)
        opened = app.screen
        assert isinstance(opened, RunResultsScreen) and opened is not being_built
        assert [row.run_id for row in opened.table.window.rows] == [6] * len(CAPITALS)
        await pilot.press("escape")
        await settle(pilot)

        ahead._step()  # the next step finds the view opened: the one being built goes
        await settle(pilot)
        assert app.get_screen(RESULTS_VIEW) is opened
        assert not being_built.is_attached
        assert [build.name for build in ahead._pending] == [DIFF_VIEW]
    app.engine.close()


# -- cells rendered straight -----------------------------------------------------------------


def cells_as_datatable_renders_them(table: QuickCells) -> list[tuple[int, int, bool, bool]]:
    """The cells of `table` (each with and without the cursor, and hovered) whose lines differ
    from DataTable's own rendering; every one must be rendered the same."""
    differ = []
    for row in range(table.row_count):
        style = table._get_row_style(row, table.rich_style)
        for column, spec in enumerate(table.ordered_columns):
            width = spec.get_render_width(table)
            for cursor, hover in ((False, False), (True, False), (False, True)):
                table._cell_render_cache.clear()
                ours = table._render_cell(row, column, style, width, cursor, hover)
                table._cell_render_cache.clear()
                theirs = DataTable._render_cell(table, row, column, style, width, cursor, hover)
                if ours != theirs:
                    differ.append((row, column, cursor, hover))
    return differ


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_the_tables_render_their_cells_as_a_datatable_does(
    home: object, size: tuple[int, int]
) -> None:
    app = build_app()
    async with app.run_test(size=size) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        runs = screen.query_one(RunTable)
        assert runs.row_count and not cells_as_datatable_renders_them(runs)
        suites = screen.query_one(SuiteTable)
        assert suites.row_count and not cells_as_datatable_renders_them(suites)
        await highlight_run(pilot, screen, 6)  # its hostile answer, inert
        await pilot.press("enter")
        await settle(pilot)
        assert not cells_as_datatable_renders_them(app.screen.query_one(ResultTable))
        await pilot.press("escape", "c")  # run 6 against the pinned run 3: flips in colour
        await settle(pilot)
        assert not cells_as_datatable_renders_them(app.screen.query_one(DiffCaseTable))
    app.engine.close()


async def test_a_kept_view_reads_and_renders_ahead_only_once_it_is_on_show(home: object) -> None:
    # Threads started as the view is filled would hold the interpreter's lock during its
    # first frame: the run read again and the rows rendered ahead wait for that frame.
    app, at_push = build_app(), list[tuple[bool, bool, list[str]]]()

    def pushed(screen: Screen[object]) -> None:
        if isinstance(screen, RunResultsScreen):
            busy = {w.group for w in app.workers if not w.is_finished}
            started = sorted(busy & {"results-run", "page"})  # the run, pages past the ends
            at_push.append((screen.table.due_when_shown, screen.table.warmed, started))

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 6)
        await pilot.press("enter", "escape")  # builds the view, then keeps it
        await settle(pilot)
        app.screen_change_signal.subscribe(app, pushed, immediate=True)
        await highlight_run(pilot, screen, 4)
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, RunResultsScreen) and view.run is not None and view.run.id == 4
        assert at_push == [(True, False, [])]  # filled, nothing started
        assert not view.table.due_when_shown and view.table.warmed
        assert not view._reload_due and "run #4" in text_of(view.query_one("#results-heading"))
    app.engine.close()


async def test_the_tables_row_styles_follow_focus_and_theme(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one(ResultTable)
        seen = set()
        for step in ("focused", "blurred", "light theme"):
            if step == "blurred":
                app.screen.set_focus(None)
            elif step == "light theme":
                app.theme = "textual-light"
            await settle(pilot)
            table._pseudo_class_state = table.get_pseudo_class_state()  # as render_lines does
            base = table.rich_style
            for row in (-1, 0, 1):
                kept = table._get_row_style(row, base)
                assert kept == DataTable._get_row_style(table, row, base), (step, row)
                seen.add(kept)
        assert len(seen) >= 6  # each step changed them
    app.engine.close()
