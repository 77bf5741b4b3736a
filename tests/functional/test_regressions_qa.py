"""Findings of a QA pass on the Regressions pane, each driven as the user met it: the diff's
direction whatever the marking order, a run refused for a bad suite keeping its form, the
focus on opening, the stop question and the hint line fitted to the screen, the keys help
lists, and no negative zero in the diff."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from textual.widgets import Input, Label

from core.settings import Settings
from tests.functional.test_regressions_pane import (
    SIZE,
    build_app,
    choose_suite,
    fill_dialog,
    highlight_run,
    notes_of,
    open_pane,
    settle,
    text_of,
)
from tests.support.fake_openai import FakeOpenAI
from tui.dialogs.confirm import ConfirmDialog
from tui.screens.help import HelpScreen
from tui.screens.regressions import STOP_QUESTION, RegressionsScreen
from tui.widgets.regressions.diff import RunDiffScreen
from tui.widgets.regressions.runs import RunTable
from tui.widgets.regressions.start import StartRunDialog
from tui.widgets.regressions.suites import SuiteTable

# -- the diff's direction -------------------------------------------------------------------


pytestmark = pytest.mark.usefixtures("local_time_utc")


async def mark_and_diff(pilot: object, screen: RegressionsScreen, *run_ids: int) -> str:
    """Mark `run_ids` in that order, press d, and return the diff's summary."""
    for run_id in run_ids:
        await highlight_run(pilot, screen, run_id)  # type: ignore[arg-type]
        await pilot.press("space")  # type: ignore[attr-defined]
    await pilot.press("d")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    view = screen.app.screen
    assert isinstance(view, RunDiffScreen)
    summary = text_of(view.query_one("#diff-summary"))
    await pilot.press("escape")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    await pilot.press("escape")  # type: ignore[attr-defined]  # the marks go
    return summary


async def test_d_compares_the_newer_run_with_the_older_whatever_the_marking_order(
    home: object,
) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        # Run 6 (gpt-4.1, newest) broke c-rome and c-paris against run 2 (gpt-4.1, older,
        # not pinned): top-down marking (newest first) must not show it as an improvement.
        top_down = await mark_and_diff(pilot, screen, 6, 2)
        bottom_up = await mark_and_diff(pilot, screen, 2, 6)
        for summary in (top_down, bottom_up):
            assert "A #2 gpt-4.1" in summary and "B #6 gpt-4.1" in summary
            assert "REGRESSION" in summary and "2 broke, 1 fixed of 8" in summary

        # The hint and the table's flags say which is which once both are marked.
        await highlight_run(pilot, screen, 6)
        await pilot.press("space")
        await highlight_run(pilot, screen, 2)
        await pilot.press("space")
        assert screen.query_one(RunTable).marks == {2: "A", 6: "B"}
        assert "A #2 gpt-4.1 · B #6 gpt-4.1 · d diffs them" in text_of(
            screen.query_one("#runs-hint")
        )
    app.engine.close()


async def test_d_takes_the_pinned_baseline_as_a_and_agrees_with_c(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        # Run 1 is older than the pinned run 3, yet the pinned run is the baseline side.
        summary = await mark_and_diff(pilot, screen, 1, 3)
        assert "A #3 gpt-4o-mini ★" in summary and "B #1 gpt-4o-mini" in summary
        # Run 5 (interrupted) against the pinned run 3: `d` shows what `c` shows, note too.
        by_d = await mark_and_diff(pilot, screen, 5, 3)
        await highlight_run(pilot, screen, 5)
        await pilot.press("c")
        await settle(pilot)
        by_c = text_of(app.screen.query_one("#diff-summary"))
        assert by_d == by_c
        assert "A #3 gpt-4o-mini ★" in by_d and "B #5 gpt-4.1" in by_d
        assert "note: run 5 is interrupted: only its recorded cases count" in by_d
    app.engine.close()


# -- a run refused before it starts -----------------------------------------------------------

BROKEN = """
name: broken
cases:
  - {id: a, input: hi, assert: [{type: nope}]}
"""


async def test_a_bad_suite_reopens_the_form_with_what_was_typed_and_the_reason(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(textwrap.dedent(BROKEN), encoding="utf-8")
    app = build_app(seeded=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        typed = {"path": str(broken), "model": "my-ft", "concurrency": "3", "baseline": "12"}
        await fill_dialog(pilot, **typed)
        await pilot.press("enter")
        await settle(pilot)

        dialog = app.screen
        assert isinstance(dialog, StartRunDialog)  # the form again, as it was typed
        for name, value in typed.items():
            assert dialog.query_one(f"#start-{name}", Input).value == value
        problem = str(dialog.query_one("#start-error", Label).content)
        assert str(broken) in problem and "nope" in problem
        assert "BadInput" not in problem and "\n" not in problem
        assert not any("BadInput" in note for note in notes_of(app))
        assert app.focused is dialog.query_one("#start-path", Input)
        assert not screen.launcher.running and not fake.chat_requests
        assert app.engine.store.db.execute("SELECT count(*) FROM eval_runs").fetchone()[0] == 0

        await pilot.press("escape")  # given up: back to the pane, nothing runs
        await settle(pilot)
        assert app.screen is screen and not screen.launcher.running
    app.engine.close()


async def test_a_run_stopped_once_recorded_says_how_to_resume_it_and_no_form_reopens(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.errors import BudgetExceeded
    from core.evals import runner
    from core.evals.estimate import Estimate

    suite = tmp_path / "good.yaml"
    suite.write_text("cases:\n  - {id: a, input: hi, assert: [{type: contains, value: hi}]}\n")
    estimate = Estimate(1, 1, 1, "assumed", True, 0, 0, 0, None)

    async def recorded_then_refused(*args: object) -> None:
        args[-1](41, estimate)  # type: ignore[operator]  # on_start: the run is recorded
        message = "budget 'daily' reached: $5.00 of $5.00; use --over-budget to send this call"
        message += " anyway"  # as the client's guard words it, for one call
        raise BudgetExceeded(message, budget="daily", committed_usd=5.0, limit_usd=5.0)

    monkeypatch.setattr(runner, "run_suite", recorded_then_refused)
    app = build_app(seeded=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await fill_dialog(pilot, path=str(suite), model="my-ft")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen  # no form: the run exists, it is to be resumed
        assert (
            "Run #41 interrupted: budget 'daily' reached: $5.00 of $5.00"
            " (R resumes it, or `tunedeck eval resume 41`)."
        ) in notes_of(app)
        assert not any("BudgetExceeded" in note for note in notes_of(app))
        assert not any("--over-budget" in note for note in notes_of(app))  # a run has none

        rubric = tmp_path / "rubric.yaml"  # graded by the model under test: said first
        case = "{id: a, input: hi, assert: [{type: llm-rubric, value: polite}]}"
        rubric.write_text(f"cases:\n  - {case}\n")
        await fill_dialog(pilot, path=str(rubric), model="my-ft")
        await pilot.press("enter")
        await settle(pilot)
        assert (
            "llm-rubric: graded by my-ft, the model under test, grading its own answers;"
            " choose another judge with --judge-model"
        ) in notes_of(app)
    app.engine.close()


# -- focus, the stop question, the hint -------------------------------------------------------


async def test_f5_from_another_pane_focuses_the_runs_and_keeps_the_users_focus(
    home: object,
) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")  # from the Prompt pane, its editor focused
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RegressionsScreen)
        assert app.focused is screen.runs
        first = screen.runs.cursor_row
        await pilot.press("down")  # walks the runs at once
        await settle(pilot)
        assert screen.runs.cursor_row == first + 1

        suites = screen.query_one(SuiteTable)
        await pilot.press("shift+tab")  # the suites; a view and back, or another pane, keep it
        await settle(pilot)
        assert app.focused is suites
        await pilot.press("f2", "f5")
        await settle(pilot)
        assert app.focused is suites
    app.engine.close()


async def test_the_stop_question_is_shown_whole(home: object) -> None:
    app = build_app(seeded=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        question = STOP_QUESTION.format(run_id=12345)
        screen._confirm(question, "Stop", lambda: None)
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        label = dialog.query_one(Label)
        box = label.parent
        assert box is not None and label.region in box.content_region  # not cut by the box
        shown = " ".join(text_of(label).split())
        assert shown == question and "`tunedeck eval resume 12345`" in shown
    app.engine.close()


async def test_the_hint_fits_at_120_and_80_columns(home: object) -> None:
    for size, running in (((120, 40), False), ((120, 40), True), ((80, 24), True)):
        app = build_app()
        async with app.run_test(size=size) as pilot:
            screen = await open_pane(pilot)
            await choose_suite(pilot, screen, "qa-capitals")
            screen.launcher.running = running  # as while a run started here goes
            screen._show_hint()
            await pilot.pause()
            hint = screen.query_one("#runs-hint")
            shown = text_of(hint).strip()
            assert "…" not in shown and shown.endswith("enter: results"), (size, shown)
            assert ("s stops the run" in shown or "s: stop" in shown) == running
            # Two marks with a long model: the runs and `d` still show.
            await highlight_run(pilot, screen, 4)  # ft:gpt-4o-mini:acme::v2
            await pilot.press("space")
            await highlight_run(pilot, screen, 6)
            await pilot.press("space")
            shown = text_of(hint).strip()
            assert "A #4" in shown and "B #6" in shown and shown.endswith("d diffs them"), shown
            screen.launcher.running = False
        app.engine.close()


# -- help and figures -----------------------------------------------------------------------


async def test_help_lists_the_data_pane_and_the_keys_of_the_diff(home: object) -> None:
    app = build_app(seeded=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = text_of(help_screen.query_one("DataTable"))
        assert "5 / alt+5 / f6" in rows and "Data pane" in rows
        listed = help_screen.pane_keys
        assert ("x", "diff: Regressions only") in listed and ("o", "diff: Outputs") in listed
        assert "Regressions: diff: Regressions only" in rows
    app.engine.close()
