"""Rough edges of the diff view found by QA: `b` refreshes the pinned mark of run B's title,
the notes heading takes the focus only when its notes overflow it (the wheel scrolls it all
the same), and the cases table marks the cases whose checks or input changed between the
runs' suite versions, with a legend in the summary."""

from __future__ import annotations

import os

import pytest
from rich.cells import cell_len
from textual import events
from textual.pilot import Pilot

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
from tests.support.eval_seed import CAPITALS, _content, suite_version
from tui.dialogs.confirm import ConfirmDialog
from tui.widgets.regressions.cases import FLIP_WIDTH, DiffCaseTable
from tui.widgets.regressions.diff import NotesHeading, RunDiffScreen
from tui.widgets.regressions.figures import BASELINE_MARK

SMALL = (80, 24)
SIZE = (120, 36)

pytestmark = pytest.mark.usefixtures("local_time_utc")


def title_line(view: RunDiffScreen) -> tuple[str, str]:
    """The summary's first line, split at the arrow: run A's title, run B's."""
    first = text_of(view.query_one("#diff-summary")).splitlines()[0]
    a, b = first.split("→")
    return a, b


async def test_b_in_the_diff_marks_run_b_pinned_then_unpinned_in_its_title(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 6)
        await pilot.press("c")  # run 6 (gpt-4.1) against the pinned run 3 (gpt-4o-mini)
        await settle(pilot)
        view = app.screen
        assert isinstance(view, RunDiffScreen)
        a, b = title_line(view)
        assert "#3" in a and BASELINE_MARK in a and "#6" in b and BASELINE_MARK not in b
        await pilot.press("b")
        await settle(pilot)
        a, b = title_line(view)
        assert BASELINE_MARK in b  # pinned now
        assert BASELINE_MARK in a  # another model's pin: still pinned
        assert view.diff is not None and view.diff.b.is_baseline
        await pilot.press("b")  # unpin it, confirmed
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is view
        a, b = title_line(view)
        assert BASELINE_MARK not in b and BASELINE_MARK in a


async def open_capitals_diff(pilot: Pilot[None], a_id: int, b_id: int) -> RunDiffScreen:
    screen = await open_pane(pilot)
    screen.open_diff(a_id, b_id)
    await settle(pilot)
    view = pilot.app.screen
    assert isinstance(view, RunDiffScreen)
    return view


async def test_the_notes_heading_takes_no_focus_unless_its_notes_overflow(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        view = await open_capitals_diff(pilot, 3, 6)  # a few lines: the whole summary shows
        heading = view.query_one(NotesHeading)
        assert heading.max_scroll_y == 0 and not heading.can_focus
        assert app.focused is view.query_one(DiffCaseTable)
        await pilot.press("shift+tab")
        assert app.focused is not heading
        await pilot.press("tab")
        await pilot.press("tab")
        assert app.focused is not heading
    app = build_app()
    async with app.run_test(size=SMALL) as pilot:
        view = await open_capitals_diff(pilot, 1, 6)  # across versions: notes overflow 40%
        heading = view.query_one(NotesHeading)
        assert heading.max_scroll_y > 0 and heading.can_focus
        assert app.focused is view.query_one(DiffCaseTable)  # the cases first, still
        await pilot.press("shift+tab")
        assert app.focused is heading  # reachable by keys, to read the notes below
        await pilot.press("end")
        await pilot.pause()
        assert heading.scroll_y == heading.max_scroll_y


async def test_the_wheel_scrolls_the_notes_heading_without_focusing_it(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SMALL) as pilot:
        view = await open_capitals_diff(pilot, 1, 6)
        heading = view.query_one(NotesHeading)
        assert heading.scroll_y == 0 and heading.max_scroll_y > 0
        x, y = heading.region.x + 2, heading.region.y + 1
        for _ in range(3):
            event = events.MouseScrollDown(heading, x, y, 0, 1, 0, False, False, False,
                                           screen_x=x, screen_y=y)  # fmt: skip
            heading.post_message(event)
            await pilot.pause()
        assert heading.scroll_y > 0
        assert app.focused is view.query_one(DiffCaseTable)


def changed_version(evals: EvalStore) -> int:
    """A run of a third version of qa-capitals in which `c-rome` checks another answer and
    `c-paris` asks about another country (its input changed, its checks the same)."""
    content = _content("qa-capitals", "4d")
    cases = {case["id"]: case for case in content["cases"]}
    cases["c-rome"]["assertions"][0]["value"] = "Roma"
    cases["c-paris"]["vars"]["country"] = "the French Republic"
    suite = evals.save_suite(suite_version("qa-capitals", "4d", 8, iso(NOW), content))
    start = RunStart(suite_id=suite, model="gpt-4.1", started_at=iso(NOW), pid=os.getpid(),
                     cases_total=8)  # fmt: skip
    run_id = evals.start_run(start)
    for case in CAPITALS:
        status = "fail" if case == "c-rome" else "pass"
        evals.record_result(run_id, CaseResult(case_id=case, status=status, finished_at=iso(NOW)))
    evals.finish_run(run_id, "completed", iso(NOW))
    return run_id


async def test_the_cases_whose_checks_or_input_changed_are_marked_with_a_legend(
    home: object,
) -> None:
    app = build_app()
    run_id = changed_version(EvalStore(app.engine.store))
    async with app.run_test(size=SIZE) as pilot:
        view = await open_capitals_diff(pilot, 3, run_id)
        table = view.query_one(DiffCaseTable)
        shown = text_of(table).splitlines()
        rows = {case: line for line in shown for case in CAPITALS if f" {case} " in line}
        assert set(rows) == set(CAPITALS)
        flip_column = {case: line[1 : 1 + FLIP_WIDTH] for case, line in rows.items()}
        assert flip_column["c-rome"].endswith("≠") and "broke" in flip_column["c-rome"]
        assert flip_column["c-paris"].rstrip().endswith("~")
        for case in set(CAPITALS) - {"c-rome", "c-paris"}:
            assert not flip_column[case].rstrip().endswith(("≠", "~"))
        for cell in flip_column.values():  # within the column: the case ids start after it
            assert cell_len(cell) == FLIP_WIDTH
        summary = text_of(view.query_one("#diff-summary"))
        assert "≠ checks changed" in summary and "~ input changed" in summary
        view.action_toggle_regressions()  # only the regressions: the marks stay
        await settle(pilot)
        shown = text_of(table)
        assert "c-rome" in shown and "≠" in shown
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        view = await open_capitals_diff(pilot, 3, 6)  # one suite version: no mark, no legend
        assert "≠" not in text_of(view.query_one(DiffCaseTable))
        assert "changed" not in text_of(view.query_one("#diff-summary"))
