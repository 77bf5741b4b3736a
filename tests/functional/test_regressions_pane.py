"""The Regressions pane driven by Pilot on a real SQLite file: suites and runs against SQL,
paging, the chart, diffs with flips and the regressions-only filter, inert answers, baselines
pinned with confirmation, a run's results, and a run started from the pane against the local
fake OpenAI server, watched as it progresses."""

from __future__ import annotations

import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, ProgressBar, Static

from core.clock import iso
from core.settings import Settings, load_settings
from storage.eval_records import RunStart
from storage.evals import EvalStore
from storage.store import Store
from tests.support.eval_seed import CAPITALS, seed_evals, suite_version
from tests.support.fake_openai import FakeOpenAI
from tests.support.paging import walk
from tui.app import TunedeckApp
from tui.dialogs.confirm import ConfirmDialog
from tui.engine import Engine
from tui.screens.help import HelpScreen
from tui.screens.regressions import RegressionsScreen
from tui.widgets.paging import PagedTable
from tui.widgets.regressions.cases import DiffCaseTable
from tui.widgets.regressions.chart import PassRateChart
from tui.widgets.regressions.diff import RunDiffScreen
from tui.widgets.regressions.progress import RunProgress
from tui.widgets.regressions.results import ResultTable, RunResultsScreen
from tui.widgets.regressions.runs import RunTable
from tui.widgets.regressions.start import StartRunDialog
from tui.widgets.regressions.suites import SuiteTable

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SIZE = (120, 36)


pytestmark = pytest.mark.usefixtures("local_time_utc")


def build_app(*, seeded: bool = True) -> TunedeckApp:
    """The console on a fresh database with the seeded evaluation history."""
    engine = Engine(load_settings())
    store = engine.store  # open it here: two workers opening it at once can collide
    if seeded:
        seed_evals(store, NOW)
    return TunedeckApp(engine, clock=lambda: NOW, warm_up=False, cursor_blink=False)


async def settle(pilot: Pilot[None]) -> None:
    """Wait for workers and for what their results start (a page may load the next)."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_pane(pilot: Pilot[None]) -> RegressionsScreen:
    """Switch to the Regressions pane with its key, from wherever the focus was."""
    await settle(pilot)
    pilot.app.set_focus(None)
    await pilot.press("4")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RegressionsScreen)
    return screen


async def choose_suite(pilot: Pilot[None], screen: RegressionsScreen, name: str) -> None:
    """Move to suite `name` in the list and open it with enter."""
    table = screen.query_one(SuiteTable)
    table.focus()
    table.move_cursor(row=[suite.name for suite in table.suites].index(name))
    await pilot.press("enter")
    await settle(pilot)


async def highlight_run(pilot: Pilot[None], screen: RegressionsScreen, run_id: int) -> None:
    table = screen.query_one(RunTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(str(run_id)))
    await pilot.pause()


def run_ids(screen: RegressionsScreen) -> list[int]:
    return [int(str(row.key.value)) for row in screen.query_one(RunTable).ordered_rows]


def sql_run_ids(store: Store, suite: str) -> list[int]:
    sql = "SELECT id FROM eval_runs WHERE suite_name = ? ORDER BY id DESC"
    return [row[0] for row in store.db.execute(sql, [suite])]


def text_of(widget: Widget) -> str:
    """What the widget draws, as plain text."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


def notes_of(app: TunedeckApp) -> list[str]:
    return [notification.message for notification in app._notifications]


# -- browsing -------------------------------------------------------------------------------


async def test_the_pane_opens_on_the_suites_and_the_runs_of_the_first(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        store = app.engine.store

        names = [row[0] for row in store.db.execute("SELECT DISTINCT name FROM eval_suites")]
        assert [suite.name for suite in screen.query_one(SuiteTable).suites] == sorted(names)
        assert screen.suite_name == "json-extract"
        assert run_ids(screen) == sql_run_ids(store, "json-extract")
        assert app.focused is screen.query_one(RunTable)
        assert set(screen.history) == {"gpt-4o-mini"}
        suites_text = text_of(screen.query_one(SuiteTable))
        assert "qa-capitals" in suites_text and "2b2b2b2" in suites_text  # the newest version

        await choose_suite(pilot, screen, "qa-capitals")
        ids = sql_run_ids(store, "qa-capitals")
        assert run_ids(screen) == ids and len(ids) == 6
        assert set(screen.history) == {"gpt-4o-mini", "gpt-4.1", "ft:gpt-4o-mini:acme::v2"}
        assert [p.run_id for p in screen.history["gpt-4.1"]] == [2, 6]  # completed runs only
        legend = text_of(screen.query_one(PassRateChart).query_one("#chart-legend", Static))
        assert "gpt-4.1" in legend and "gpt-4o-mini" in legend
        rows = text_of(screen.query_one(RunTable))
        pinned_line = next(line for line in rows.splitlines() if " 3 " in line)
        assert "★" in pinned_line and "87.5%" in pinned_line and "completed" in pinned_line
        assert "interrupted" in rows
    app.engine.close()


async def test_runs_page_from_sql_two_pages_at_most(home: object) -> None:
    app = build_app(seeded=False)
    evals = EvalStore(app.engine.store)
    suite_id = evals.save_suite(suite_version("long", "9f", 1, iso(NOW)))  # 260 runs, no results
    for n in range(260):
        start = RunStart(suite_id=suite_id, model=f"m{n % 3}", started_at=iso(NOW), pid=1,
                         cases_total=1)  # fmt: skip
        evals.finish_run(evals.start_run(start), "completed", iso(NOW + timedelta(seconds=n)))
    shown: list[int] = []

    def hook(message: Message) -> None:
        if isinstance(message, PagedTable.RowsChanged):
            shown.append(message.rows)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await open_pane(pilot)
        table = screen.query_one(RunTable)
        newest_first = [str(run_id) for run_id in sql_run_ids(app.engine.store, "long")]
        for _ in range(3):
            await pilot.press("down")
        down = await walk(pilot, table, newest_first, "pagedown", settle)
        assert run_ids(screen)[-1] == 1 and len(down) > 5
        up = await walk(pilot, table, newest_first, "pageup", settle)
        assert up[-1] == 0 and table.at_start
        assert max(shown) <= 2 * table.window.page_size < 260
    app.engine.close()


# -- diffs ----------------------------------------------------------------------------------


async def test_two_marked_runs_open_their_diff_with_the_flips(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 3)
        await pilot.press("space")
        await highlight_run(pilot, screen, 6)
        await pilot.press("space")
        assert [run.id for run in screen.marked] == [3, 6]
        assert "A #3 gpt-4o-mini · B #6 gpt-4.1" in text_of(screen.query_one("#runs-hint"))
        assert screen.query_one(RunTable).marks == {3: "A", 6: "B"}
        await pilot.press("d")
        await settle(pilot)

        diff_screen = app.screen
        assert isinstance(diff_screen, RunDiffScreen) and diff_screen.diff is not None
        comparison = diff_screen.diff.comparison
        assert (comparison.broke, comparison.fixed) == (("c-paris", "c-rome"), ("c-lima",))
        assert comparison.verdict == "regression" and comparison.critical_failures == ("c-paris",)
        summary = text_of(diff_screen.query_one("#diff-summary"))
        assert "REGRESSION" in summary and "2 broke, 1 fixed of 8" in summary
        assert "87.5% → 75.0% (-12.5 pts)" in summary and "McNemar p=1" in summary
        assert "why: critical case(s) failing: c-paris" in summary
        cases = text_of(diff_screen.query_one(DiffCaseTable))
        for case in CAPITALS:
            assert case in cases
        assert "▼ broke" in next(line for line in cases.splitlines() if "c-rome" in line)
        assert "▲ fixed" in next(line for line in cases.splitlines() if "c-lima" in line)

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
    app.engine.close()


async def test_x_keeps_the_regressions_and_answers_show_side_by_side_inert(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 6)
        await pilot.press("c")  # run 6 (gpt-4.1) has no pinned run of its own: the suite's
        await settle(pilot)
        diff_screen = app.screen
        assert isinstance(diff_screen, RunDiffScreen)
        assert (diff_screen.a_id, diff_screen.b_id) == (3, 6)
        table = diff_screen.query_one(DiffCaseTable)

        await pilot.press("x")
        await settle(pilot)
        assert [str(row.key.value) for row in table.ordered_rows] == ["c-paris", "c-rome"]
        assert "2 cases · regressions only" in text_of(diff_screen.query_one("#diff-hint"))
        await pilot.press("down")
        await settle(pilot)
        left = text_of(diff_screen.query_one("#side-a-text"))
        right = text_of(diff_screen.query_one("#side-b-text"))
        assert "A #3 gpt-4o-mini · c-rome" in left and "The answer is Rome." in left
        assert "found 'Rome'" in left
        for visible in ("[bold red]Rome[/]", "\\x1b[2J", "\\x1b]0;pwned\\x07"):
            assert visible in right
        assert "\x1b" not in right and "'Rome' not found" in right

        await pilot.press("x")
        await settle(pilot)
        assert len(table.ordered_rows) == 8
    app.engine.close()


async def test_c_finds_each_runs_baseline_or_says_there_is_none(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await highlight_run(pilot, screen, 8)  # json-extract: nothing pinned
        await pilot.press("c")
        await settle(pilot)
        assert app.screen is screen
        assert any("Run #8 has no baseline" in note for note in notes_of(app))

        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 1)  # gpt-4o-mini: its own pinned run, #3
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, RunDiffScreen)
        assert (app.screen.a_id, app.screen.b_id) == (3, 1)
        assert app.screen.diff is not None
        assert any("the suite changed between the runs" in n for n in app.screen.diff.notes)
    app.engine.close()


# -- baselines ------------------------------------------------------------------------------


def pinned(store: Store) -> set[int]:
    return {row[0] for row in store.db.execute("SELECT id FROM eval_runs WHERE is_baseline = 1")}


async def test_b_pins_a_baseline_and_asks_before_replacing_one(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        store = app.engine.store
        await choose_suite(pilot, screen, "qa-capitals")
        assert pinned(store) == {3}

        await highlight_run(pilot, screen, 6)  # gpt-4.1 has no baseline: pinned at once
        await pilot.press("b")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert pinned(store) == {3, 6}

        await highlight_run(pilot, screen, 1)  # gpt-4o-mini: replaces #3, once confirmed
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "Replace run #3" in app.screen.question
        await pilot.press("n")
        await settle(pilot)
        assert pinned(store) == {3, 6}
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert pinned(store) == {1, 6}
        rows = {line.split()[1] if "★" in line else "": line for line in
                text_of(screen.query_one(RunTable)).splitlines()}  # fmt: skip
        assert {"1", "6"} <= set(rows) and "3" not in rows

        await highlight_run(pilot, screen, 5)  # interrupted: refused
        await pilot.press("b")
        await settle(pilot)
        assert pinned(store) == {1, 6}
        assert any("only a completed run" in note for note in notes_of(app))
    app.engine.close()


# -- a run's results --------------------------------------------------------------------------


async def test_enter_shows_a_runs_results_and_x_keeps_the_failures(home: object) -> None:
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await choose_suite(pilot, screen, "qa-capitals")
        await highlight_run(pilot, screen, 6)
        await pilot.press("enter")
        await settle(pilot)
        results = app.screen
        assert isinstance(results, RunResultsScreen)
        table = results.query_one(ResultTable)
        assert [row.case_id for row in table.window.rows] == sorted(CAPITALS)
        assert "6 pass · 2 fail · 0 error of 8" in text_of(results.query_one("#results-heading"))

        await pilot.press("x")
        await settle(pilot)
        assert [row.case_id for row in table.window.rows] == ["c-paris", "c-rome"]
        detail = text_of(results.query_one("#result-text"))
        assert "c-paris" in detail and "'Paris' not found" in detail
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
    app.engine.close()


# -- a run from the pane ----------------------------------------------------------------------

SUITE = """
name: capitals-live
params: {temperature: 0}
prompt: "Capital of {{country}}?"
cases:
  - {id: fr, vars: {country: France}, critical: true, assert: [{type: icontains, value: france}]}
  - {id: de, vars: {country: Germany}, assert: [{type: contains, value: Berlin}]}
  - {id: it, vars: {country: Italy}, assert: [{type: contains, value: Italy}]}
  - {id: es, vars: {country: Spain}, assert: [{type: contains, value: Spain}]}
  - {id: pt, vars: {country: Portugal}, assert: [{type: contains, value: Lisbon}]}
  - {id: gr, vars: {country: Greece}, assert: [{type: contains, value: Greece}]}
"""


async def fill_dialog(pilot: Pilot[None], **fields: str) -> StartRunDialog:
    await pilot.press("n")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, StartRunDialog)
    for name, value in fields.items():
        dialog.query_one(f"#start-{name}", Input).value = value
    return dialog


async def test_a_run_started_from_the_pane_progresses_and_completes(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = tmp_path / "capitals.yaml"
    suite.write_text(textwrap.dedent(SUITE), encoding="utf-8")
    fake.latency = 0.25  # each answer takes a while: the progress shows in between
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await fill_dialog(pilot, path=str(suite), concurrency="1", baseline="")
        await pilot.press("enter")
        seen: list[tuple[int, float | None]] = []
        progress = screen.query_one(RunProgress)
        deadline = time.monotonic() + 20
        while screen.launcher.running and time.monotonic() < deadline:
            await pilot.pause(0.05)
            if progress.has_class("-running"):
                seen.append((screen.launcher.figures.done if screen.launcher.figures else -1,
                             progress.query_one(ProgressBar).progress))  # fmt: skip
        await settle(pilot)

        outcome = screen.launcher.outcome
        assert outcome is not None and outcome.run.status == "completed"
        assert outcome.run.summary is not None
        assert (outcome.run.summary.passed, outcome.run.summary.failed) == (4, 2)  # de, pt fail
        assert len(fake.chat_requests) == 6
        assert any(0 < done < 6 and 0 < (bar or 0) < 6 for done, bar in seen), seen
        assert [done for done, _ in seen] == sorted(done for done, _ in seen)
        assert not progress.has_class("-running")  # hidden once the run ended
        await choose_suite(pilot, screen, "capitals-live")
        assert run_ids(screen) == [outcome.run.id]
        assert any(f"Run #{outcome.run.id} completed: pass rate 66.7% (4/6)" in note
                   for note in notes_of(app))  # fmt: skip
    app.engine.close()


async def test_a_bad_suite_or_field_is_reported_and_nothing_runs(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\ncases:\n  - {id: a, input: hi, assert: [{type: nope}]}\n")
    notes: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            notes.append(message.notification.message)

    app = build_app(seeded=False)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await open_pane(pilot)
        dialog = await fill_dialog(pilot, path=str(tmp_path / "missing.yaml"))
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog  # stays open with the rule
        assert "is not a file" in str(dialog.query_one("#start-error", Static).render())
        dialog.query_one("#start-path", Input).value = str(broken)
        dialog.query_one("#start-concurrency", Input).value = "0"
        await pilot.press("enter")
        await settle(pilot)
        assert "concurrency: a whole number from 1 to 256" in str(
            dialog.query_one("#start-error", Static).render()
        )
        dialog.query_one("#start-concurrency", Input).value = "4"
        await pilot.press("enter")
        await settle(pilot)

        assert app.screen is not dialog and isinstance(app.screen, StartRunDialog)  # again
        problem = str(app.screen.query_one("#start-error", Static).render())
        assert "broken.yaml" in problem and "nope" in problem
        assert not any("BadInput" in note for note in notes), notes
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert app.engine.store.db.execute("SELECT count(*) FROM eval_runs").fetchone()[0] == 0
        assert not fake.chat_requests
        assert not screen.launcher.running
    app.engine.close()


async def test_the_pane_lists_its_keys_for_help_and_the_palette(home: object) -> None:
    app = build_app(seeded=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        assert screen.query_one("#runs-empty").display  # no suite yet: how to make one
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        listed = " ".join(action for _, action in app.screen.pane_keys)
        for description in ("Mark A/B", "Diff A/B", "vs baseline", "Pin baseline", "New run"):
            assert description in listed
        assert "4 / alt+4 / f5" in text_of(app.screen.query_one("DataTable"))
    app.engine.close()


async def test_s_stops_a_run_which_keeps_its_finished_cases(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = tmp_path / "capitals.yaml"
    suite.write_text(textwrap.dedent(SUITE), encoding="utf-8")
    fake.latency = 0.3
    app = build_app(seeded=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pane(pilot)
        await fill_dialog(pilot, path=str(suite), concurrency="1")
        await pilot.press("enter")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            figures = screen.launcher.figures
            if figures is not None and figures.done >= 2:
                break
            await pilot.pause(0.05)
        assert "s stops the run" in text_of(screen.query_one("#runs-hint"))
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)

        assert not screen.launcher.running and screen.launcher.outcome is None
        store = app.engine.store
        status, run_id = store.db.execute("SELECT status, id FROM eval_runs").fetchone()
        recorded = store.db.execute(
            "SELECT count(*) FROM eval_results WHERE run_id = ?", [run_id]
        ).fetchone()[0]
        assert status == "interrupted" and 2 <= recorded < 6
        assert "s stops the run" not in text_of(screen.query_one("#runs-hint"))

        # R on the run finishes it here, sending only the cases it had not recorded.
        sent, fake.latency = len(fake.chat_requests), 0.01
        await choose_suite(pilot, screen, "capitals-live")
        await highlight_run(pilot, screen, run_id)
        await pilot.press("R")
        deadline = time.monotonic() + 20
        while screen.launcher.running and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await settle(pilot)
        outcome = screen.launcher.outcome
        assert outcome is not None and outcome.run.id == run_id
        assert outcome.run.status == "completed" and outcome.run.summary is not None
        assert outcome.run.summary.recorded == 6
        assert len(fake.chat_requests) - sent == 6 - recorded
        notes = notes_of(app)
        resumed = f"Run #{run_id} resumed: {6 - recorded} calls"
        assert any(note.startswith(resumed) for note in notes)
        assert any(f"Run #{run_id} completed: pass rate 66.7% (4/6)" in note for note in notes)

        await pilot.press("R")  # completed: nothing to resume, nothing sent
        await settle(pilot)
        assert f"Run #{run_id} is completed: nothing to resume." in notes_of(app)
        assert not screen.launcher.running and len(fake.chat_requests) - sent == 6 - recorded
    app.engine.close()
