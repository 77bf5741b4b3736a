"""Findings of a QA pass on the Regressions pane at 80x24: the diff's notes all readable,
the selected suite kept in view, footers that show whole keys (`b` in the diff's too), and a
results view without a `rep` column for a run that asked each case once."""

from __future__ import annotations

import os

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Label
from textual.widgets._footer import FooterKey

from core.clock import iso
from storage.eval_records import CaseResult, RunStart
from storage.evals import EvalStore
from tests.functional.test_regressions_pane import (
    NOW,
    build_app,
    choose_suite,
    highlight_run,
    open_pane,
    settle,
    text_of,
)
from tests.functional.test_regressions_pane import pinned as pinned_runs
from tests.support.eval_seed import suite_version
from tui.dialogs.confirm import ConfirmDialog
from tui.screens.regressions import RegressionsScreen
from tui.widgets.regressions.diff import RunDiffScreen
from tui.widgets.regressions.results import RunResultsScreen
from tui.widgets.regressions.suites import SuiteTable

SMALL = (80, 24)

pytestmark = pytest.mark.usefixtures("local_time_utc")


def footer_keys(screen: Screen[None]) -> tuple[list[str], list[FooterKey]]:
    """The keys a footer shows, and every key drawn past the command palette's edge."""
    keys = list(screen.query(FooterKey))
    palette = next(key for key in keys if key.has_class("-command-palette"))
    shown = [key for key in keys if key.display and key is not palette]
    cut = [key for key in shown if key.region.right > palette.region.x]
    return [key.key for key in shown], cut


async def test_the_diff_at_80x24_shows_every_note_whole_the_essentials_first(
    home: object,
) -> None:
    app = build_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_pane(pilot)
        screen.open_diff(1, 6)  # across suite versions: two notes, a reason
        await settle(pilot)
        view = app.screen
        assert isinstance(view, RunDiffScreen) and view.diff is not None
        assert len(view.diff.notes) >= 2
        heading = view.query_one("#diff-heading")  # the summary, scrolled beyond 40%
        assert heading.size.height <= 0.4 * SMALL[1]
        top = visible_lines(view)
        assert "REGRESSION" in top[1] and "broke" in top[1] and "pass" in top[1]
        view.set_focus(heading)  # shift+tab from the cases
        await pilot.press("end")
        await pilot.pause()
        seen = top + visible_lines(view)  # the lines at the top, then at the end
        shown = " ".join(" ".join(seen).split())
        for note in view.diff.notes:
            assert " ".join(note.split()) in shown


def visible_lines(view: RunDiffScreen) -> list[str]:
    """The lines of the diff's summary its heading shows now."""
    heading = view.query_one("#diff-heading")
    lines = text_of(view.query_one("#diff-summary")).splitlines()
    top = round(heading.scroll_y)
    return lines[top : top + heading.size.height]


async def test_the_selected_suite_stays_in_view_when_its_box_gets_smaller(home: object) -> None:
    app = build_app()
    evals = EvalStore(app.engine.store)
    for index in range(8):
        evals.save_suite(suite_version(f"zz-suite-{index}", "ab", 2, iso(NOW)))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "zz-suite-7")  # the last of ten
        await pilot.resize_terminal(*SMALL)  # the suites above the runs, 4 rows high
        await settle(pilot)
        table = screen.query_one(SuiteTable)
        rows = table.size.height - 1  # under the header
        assert screen.suite_name == "zz-suite-7" and rows < 10
        assert table.scroll_y <= table.cursor_row < table.scroll_y + rows


async def test_footers_at_80_columns_show_whole_keys_help_first(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        shown, cut = footer_keys(screen)
        assert not cut
        assert shown == ["space", "d", "c", "n", "question_mark"]  # b: in the help

        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        shown, cut = footer_keys(screen)
        assert not cut and shown[:6] == ["space", "d", "c", "n", "b", "ctrl+q"]


async def test_b_in_the_diff_pins_run_b_and_its_footer_says_so(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 6)
        await pilot.press("c")  # run 6 (gpt-4.1) against the pinned run 3
        await settle(pilot)
        view = app.screen
        assert isinstance(view, RunDiffScreen)
        shown, cut = footer_keys(view)
        assert "b" in shown and not cut
        assert ("b", "diff: Pin run B") in RegressionsScreen.HELP_VIEW_KEYS
        await pilot.press("b")
        await settle(pilot)
        assert pinned_runs(app.engine.store) == {3, 6}  # one per model
        assert app.screen is view
        assert any("Run #6 is now the baseline of gpt-4.1" in str(n.message)
                   for n in app._notifications)  # fmt: skip
        await pilot.press("b")  # pinned now: b offers to unpin it, not to replace it by itself
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert "Unpin run #6 as the baseline of gpt-4.1" in str(dialog.query_one(Label).content)


def repeated_run(evals: EvalStore) -> int:
    """A run of qa-capitals that asked each of two cases three times."""
    suite = next(s for s in evals.suites() if s.name == "qa-capitals")
    start = RunStart(suite_id=suite.latest_suite_id, model="gpt-4.1", started_at=iso(NOW),
                     pid=os.getpid(), cases_total=6, repeats=3)  # fmt: skip
    run_id = evals.start_run(start)
    for case in ("c-lima", "c-rome"):
        for repeat in range(3):
            result = CaseResult(case_id=case, status="pass", finished_at=iso(NOW),
                                repeat_index=repeat)  # fmt: skip
            evals.record_result(run_id, result)
    evals.finish_run(run_id, "completed", iso(NOW))
    return run_id


async def open_results(pilot: Pilot[None], screen: RegressionsScreen, run_id: int) -> list[str]:
    """The column keys of run `run_id`'s results view (then back to the pane)."""
    await highlight_run(pilot, screen, run_id)
    await pilot.press("enter")
    await settle(pilot)
    view = pilot.app.screen
    assert isinstance(view, RunResultsScreen)
    keys = [str(column.key.value) for column in view.table.ordered_columns]
    rows = [view.table.get_row_at(index) for index in range(view.table.row_count)]
    assert rows and all(len(row) == len(keys) for row in rows)
    await pilot.press("escape")
    await settle(pilot)
    return keys


async def test_the_rep_column_is_shown_only_for_a_run_with_repeats(home: object) -> None:
    app = build_app()
    repeated = repeated_run(EvalStore(app.engine.store))
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        once = await open_results(pilot, screen, 6)
        assert "repeat" not in once and once[:2] == ["case", "status"]
        assert "repeat" in await open_results(pilot, screen, repeated)
        assert "repeat" not in await open_results(pilot, screen, 6)  # the kept view again
