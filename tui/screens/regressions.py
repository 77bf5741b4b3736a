"""The Regressions pane: suites, their runs and pass-rate history, diffs, baselines, new runs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from functools import partial
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.timer import Timer
from textual.types import NoActiveAppError
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from core.errors import TunedeckError
from storage.eval_records import EvalRun, HistoryPoint, SuiteListing
from storage.evals import EvalStore
from tui.dialogs.confirm import ConfirmDialog
from tui.screens.base import PaneScreen
from tui.screens.regressions_hint import HintLine, diff_sides, hint_forms
from tui.text import inert
from tui.widgets.footer import SteadyFooter
from tui.widgets.paging import PagedTable
from tui.widgets.regressions.ahead import ViewsAhead
from tui.widgets.regressions.chart import DrawnChart, PassRateChart, chart_place, draw_chart
from tui.widgets.regressions.diff import RunDiffScreen, compare_and_show, open_diff_view
from tui.widgets.regressions.footer import FittingFooter
from tui.widgets.regressions.launch import RunLauncher
from tui.widgets.regressions.progress import RunProgress
from tui.widgets.regressions.results import RunResultsScreen, open_results_view
from tui.widgets.regressions.runs import RunTable
from tui.widgets.regressions.screenful import (
    Screenful,
    ScreenfulPlan,
    choose_suite,
    read_screenful,
)
from tui.widgets.regressions.start import RunDefaults, RunRequest, StartRunDialog
from tui.widgets.regressions.suites import SuiteTable
from tui.widgets.regressions.view import breakpoint_classes

FOOTER_AT_LATEST = 1.0
"""Seconds after a pane opened before it was built: its footer's keys are mounted then if
what it shows has not come in yet (they come after it: ~20-30 ms of the event loop)."""
RUNS_FRAME_AT_LATEST = 0.5
"""Seconds the pane's worker waits for the frame of the runs it read before it draws the
chart (see `_read_screenful`)."""
READ_AT_LATEST = 0.25
"""Seconds after a pane opened before it was built ahead: what it shows is read then if its
first frame was not drawn yet (it is read once that frame is)."""
SELECT_DELAY = 0.15  # seconds on a suite before its runs are read (arrowing through the list)
EMPTY = "No evaluation suite yet: n runs a suite file (or `tunedeck eval run SUITE --model M`)."
STOP_QUESTION = (
    "Stop run #{run_id}? The finished cases stay: R on the run resumes it"
    " (or `tunedeck eval resume {run_id}`)."
)
"""Asked before a run is stopped (`str.format` it with the run's id)."""


def view_keys(*views: tuple[str, type[Screen[None]]]) -> list[tuple[str, str]]:
    """The keys of the views the pane opens, for its help: `("x", "diff: Regressions only")`."""
    return [
        (binding.key, f"{name}: {binding.description}")
        for name, view in views
        for binding in view.BINDINGS
        if isinstance(binding, Binding) and binding.action != "close"
    ]


class RegressionsScreen(PaneScreen):
    """Evaluation history: is a model, prompt or fine-tune better or worse than the baseline?"""

    SUB_TITLE = "Regressions"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Mark A/B"),
        Binding("d", "diff", "Diff A/B"),
        Binding("c", "compare_baseline", "vs baseline"),
        Binding("n", "new_run", "New run"),
        Binding("b", "pin_baseline", "Pin baseline"),  # the first to go from a narrow footer
        Binding("s", "stop_run", "Stop run", show=False),
        Binding("R", "resume_run", "Resume run", show=False),
        Binding("enter", "open_run", "Results", show=False),
        Binding("escape", "clear_marks", "Clear marks", show=False),
        Binding("r", "refresh", "Refresh", show=False),
    ]
    """Read by the help screen and the command palette."""
    HELP_VIEW_KEYS: ClassVar[list[tuple[str, str]]] = view_keys(
        ("diff", RunDiffScreen), ("results", RunResultsScreen)
    )
    """The keys of the diff and results views, listed by the pane's help too."""

    def __init__(self) -> None:
        super().__init__()
        self._evals: EvalStore | None = None
        self.suite_name: str | None = None
        """The suite whose runs are listed."""
        self.suites: list[SuiteListing] = []
        self.history: dict[str, list[HistoryPoint]] = {}
        """The chart's points: the selected suite's completed runs per model."""
        self.marked: list[EvalRun] = []
        """The runs marked for a diff, in the order they were marked (`_sides`: A and B)."""
        self._request: RunRequest | None = None  # the last run asked for (its form)
        self._focus_placed = False
        self._seen: object = None  # the database's version when the suites were read
        self._select_timer: Timer | None = None
        self._wanted: str | None = None  # a suite to show once it is listed
        self.launcher = RunLauncher(self)
        self.views_ahead = ViewsAhead(self, lambda: self.evals)
        self._footer_later = False
        self._filling: Screenful | None = None
        """The screenful whose runs are shown, its suites and chart to come (see
        `_show_screenful`): a step of an older one is dropped."""
        self._first_read_asked = False
        self._read_when_drawn = False
        self._styled_at: int | None = None
        """The app's count of style changes when the pane was last styled (see
        `on_screen_resume`)."""
        with suppress(NoActiveAppError):
            self.add_class(*breakpoint_classes(self, self.app.size))

    @property
    def evals(self) -> EvalStore:
        """The evaluation history (made on first use, in a worker: it may open the database)."""
        if self._evals is None:
            self._evals = EvalStore(self.deck.engine.store)
        return self._evals

    def compose(self) -> ComposeResult:
        # Opened before it was built ahead (it is on show as it composes), its footer is
        # mounted after its first frame, as the views' (see `RegressionsView.footer`).
        self._footer_later = self.is_current
        for widget in super().compose():  # its footer shows the keys that fit whole
            if isinstance(widget, SteadyFooter):
                later = self._footer_later
                widget = Static("", classes="footer-space") if later else FittingFooter()
            yield widget

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="regressions-pane"):
            yield SuiteTable(id="suite-table")
            with Vertical(id="regressions-main"):
                yield PassRateChart(id="pass-rate-chart")
                yield RunProgress(id="run-progress")
                yield HintLine(id="runs-hint")
                yield RunTable(id="run-table")
                yield Label(EMPTY, id="runs-empty", markup=False)

    @property
    def runs(self) -> RunTable:
        """The runs of the selected suite."""
        return self.query_one(RunTable)

    def on_mount(self) -> None:
        if not self.query(RunTable):  # the console quit while this pane was built ahead
            return
        self._styled_at = self.app._css_update_count  # its widgets styled as they mounted
        if self._footer_later:  # after what the pane shows (`_fill_chart`), or this long
            self.set_timer(FOOTER_AT_LATEST, self._mount_footer)

        self.runs.read_evals = lambda: self.evals
        self.query_one("#runs-empty").display = False
        self._show_hint()
        self.views_ahead.start()  # a results view and a diff view, built in idle time

    def _mount_footer(self) -> None:
        if self._footer_later:
            self._footer_later = False
            self.query(".footer-space").remove()
            self.mount(FittingFooter())

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Opening the pane sends it two of these (Textual's `_init_mode` and `switch_mode`),
        # each styling the whole pane again (~15-25 ms each of its first frame when built on
        # the key): its widgets were styled as they mounted, so only a change of the app's
        # styles (a theme) meanwhile calls for it, as for the kept views (see `reuse`).
        changes = self.app._css_update_count
        if self._styled_at == changes:
            event.refresh_styles = False
        self._styled_at = changes
        if self._seen is not None:
            self.read_if_changed()  # when runs were recorded meanwhile
        elif not self._first_read_asked:  # resumed twice as it opens (see above): read once
            self._first_read_asked = True
            if self.is_current:  # opened before it was built ahead: after its first frame
                self._read_when_drawn = True
                self.set_timer(READ_AT_LATEST, self._drawn)
            else:
                self.load_suites()

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = super().render_lines(crop)
        if self._read_when_drawn and self.is_current:
            self.call_later(self._drawn)
        return lines

    def _drawn(self) -> None:
        """The pane's first frame is drawn (or it is `READ_AT_LATEST`): read what it shows.
        A thread started before would slow that frame down (the interpreter's lock), and the
        chart is drawn in it at its size, known once laid out."""
        if self._read_when_drawn:
            self._read_when_drawn = False
            self.load_suites()

    def focus_default(self) -> None:
        # The first time: the runs of the first suite (enter opens one, c compares it,
        # shift+tab: the suites), not the first table, which Textual would focus. Back from a
        # view, a dialog or another pane: where the user was.
        if not self._focus_placed or self.focused is None:
            self._focus_placed = True
            self.runs.focus()

    # -- suites, runs and the chart -------------------------------------------------------

    @work(thread=True, exclusive=True, group="regressions-check", exit_on_error=False)
    def read_if_changed(self) -> None:
        """Read the suites again if the database changed since they were read (thread
        worker): a check of microseconds when nothing changed."""
        seen = self.deck.engine.store.version()
        if seen != self._seen and not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.load_suites)

    def load_suites(self) -> None:
        """Read the suites, and with them the first page of runs and the chart's points of
        the suite to show (one worker: see `screenful`)."""
        runs = self.runs
        plan = ScreenfulPlan(
            shown=self.suite_name,
            keep_runs=runs.loaded and not runs.at_start,  # a run the user scrolled to stays
            wanted=self._wanted,
            chart=chart_place(self.query_one(PassRateChart)),
            page_size=runs.first_page_size(),
        )
        self._read_screenful(plan)

    @work(thread=True, exclusive=True, group="regressions-suites", exit_on_error=False)
    def _read_screenful(self, plan: ScreenfulPlan) -> None:
        """Read what the pane shows at once and show it; then draw its chart, off the event
        loop, while the runs are drawn on screen, and show it (thread worker)."""
        seen = self.deck.engine.store.version()  # before: a change meanwhile reads again
        screenful = read_screenful(self.evals, plan)
        if get_current_worker().is_cancelled:
            return
        runs_drawn = threading.Event()
        self.app.call_from_thread(self._show_screenful, screenful, plan, seen, runs_drawn)
        # Drawn meanwhile, plotext would hold the interpreter's lock for half of that frame
        # (~2x longer: a key waits that long); after it, it takes as long.
        runs_drawn.wait(RUNS_FRAME_AT_LATEST)
        place = plan.chart
        drawn = None if place is None else draw_chart(place, screenful.suite, screenful.history)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._screenful_drawn, screenful, drawn)

    def _show_screenful(
        self, screenful: Screenful, plan: ScreenfulPlan, seen: object, drawn: threading.Event
    ) -> None:
        """Show a screenful in steps, each drawn before the next (a key typed meanwhile
        waits for one step at most): the runs now; once the chart is drawn in the worker
        (`_screenful_drawn`), the suites, then the chart; then what the runs table put off
        (its pages and rows ahead) and the footer (`_filled`)."""

        self._seen = seen
        self.call_after_refresh(drawn.set)  # the frame of the runs, if shown (else at once)
        names = [suite.name for suite in screenful.suites]
        chosen = choose_suite(names, self.suite_name, self._wanted)
        if self._wanted in names:
            self._wanted = None
        restart = chosen != self.suite_name or not self.runs.loaded or self.runs.at_start
        self._filling = None
        if chosen != screenful.suite or (restart and screenful.runs is None):
            self._show_suites(screenful.suites, chosen)  # the pane moved on meanwhile
            if restart:
                self.select_suite(chosen)
            else:
                self.load_history(chosen)
            self.call_after_refresh(self._filled)
            return
        if restart and screenful.runs is not None:
            self._list_runs(chosen, screenful.runs, plan.page_size)
        self._filling = screenful

    def _screenful_drawn(self, screenful: Screenful, drawn: DrawnChart | None) -> None:
        if self._filling is screenful:  # after the frame of the runs
            self.call_after_refresh(self._fill_suites, screenful, drawn)

    def _fill_suites(self, screenful: Screenful, drawn: DrawnChart | None) -> None:
        if self._filling is screenful:  # no newer screenful meanwhile
            self._show_suites(screenful.suites, screenful.suite)
            self.call_after_refresh(self._fill_chart, screenful, drawn)

    def _fill_chart(self, screenful: Screenful, drawn: DrawnChart | None) -> None:
        if self._filling is screenful:
            self._filling = None
            self._show_history(screenful.suite, screenful.history, drawn)
            self.call_after_refresh(self._filled)

    def _filled(self) -> None:
        """What the pane shows is on screen: what it put off comes now."""
        self.runs.release()
        self._mount_footer()

    def _show_suites(self, suites: list[SuiteListing], chosen: str | None) -> None:
        self.suites = suites
        self.query_one(SuiteTable).show(suites, self.suite_name or chosen)
        self.query_one("#runs-empty").display = not suites

    def _list_runs(self, name: str | None, rows: list[EvalRun], page_size: int) -> None:
        """List the runs of suite `name` from its first rows, read already."""
        self._forget_marks(name)
        self.suite_name = name
        self.runs.hold()  # its pages and rows ahead once the suites and chart are drawn
        self.runs.show_first_rows(name, rows, page_size)
        self._show_hint()

    def follow_suite(self, name: str) -> None:
        """Show suite `name` (a run of it was just recorded): read the suites again."""
        self._wanted = name
        self.load_suites()

    def select_suite(self, name: str | None) -> None:
        """List the runs of suite `name` and chart its history."""
        self._forget_marks(name)
        self.suite_name = name
        self.runs.release()  # a screenful's chart still to come is dropped (another suite)
        self.runs.show_suite(name)

        self.load_history(name)
        self._show_hint()

    def _forget_marks(self, name: str | None) -> None:
        if name != self.suite_name:
            self.marked = []
            self.runs.marks = {}

    @work(thread=True, exclusive=True, group="regressions-history", exit_on_error=False)
    def load_history(self, name: str | None) -> None:
        """Read the pass-rate history of a suite for the chart (thread worker)."""
        history = self.evals.pass_rate_history(name) if name else {}
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_history, name, history)

    def _show_history(
        self,
        name: str | None,
        history: dict[str, list[HistoryPoint]],
        drawn: DrawnChart | None = None,
    ) -> None:
        if name == self.suite_name:
            self.history = history
            self.query_one(PassRateChart).show(name, history, drawn)
            self.render_ahead()

    @on(DataTable.RowHighlighted, "#suite-table")
    def _suite_highlighted(self) -> None:
        suite = self.query_one(SuiteTable).suite_at_cursor()
        if suite is None or suite.name == self.suite_name:
            return
        if self._select_timer is not None:
            self._select_timer.stop()
        self._select_timer = self.set_timer(SELECT_DELAY, partial(self.select_suite, suite.name))

    @on(DataTable.RowSelected, "#suite-table")
    def _suite_selected(self) -> None:
        suite = self.query_one(SuiteTable).suite_at_cursor()
        if suite is not None and suite.name != self.suite_name:
            self.select_suite(suite.name)
        self.runs.focus()

    @on(DataTable.RowSelected, "#run-table")
    def _run_selected(self) -> None:
        self.action_open_run()

    @on(PagedTable.RowsChanged, "#run-table")
    def _runs_changed(self) -> None:
        self._show_hint()
        self.render_ahead()  # built ahead, off screen: its first frame finds its lines ready

    def _show_hint(self) -> None:
        forms = hint_forms(self._sides(), self.launcher.running)
        self.query_one("#runs-hint", HintLine).show(forms)

    # -- marks and diffs ------------------------------------------------------------------

    def action_mark(self) -> None:
        """Mark the highlighted run A, then B (again: unmark it)."""
        run = self.runs.run_at_cursor()
        if run is None:
            return
        ids = [marked.id for marked in self.marked]
        if run.id in ids:
            self.marked.pop(ids.index(run.id))
        elif len(self.marked) < 2:
            self.marked.append(run)
        else:
            self.marked[1] = run
        self.runs.set_marks({run.id: side for side, run in self._sides()})
        self._show_hint()

    def _sides(self) -> list[tuple[str, EvalRun]]:
        """The marked runs with their side, A first (see `diff_sides`), then B."""
        if len(self.marked) == 2:
            return list(zip("AB", diff_sides(*self.marked), strict=True))
        return list(zip("AB", self.marked, strict=False))

    def action_clear_marks(self) -> None:
        """Forget the runs marked A and B."""
        self.marked = []
        self.runs.set_marks({})
        self._show_hint()

    def action_diff(self) -> None:
        """Compare the two marked runs (or the marked one and the highlighted one): the newer
        against the older, or against the pinned baseline (`diff_sides`)."""
        current = self.runs.run_at_cursor()
        if len(self.marked) == 2:
            a, b = diff_sides(*self.marked)
        elif self.marked and current is not None and current.id != self.marked[0].id:
            a, b = diff_sides(self.marked[0], current)
        else:
            self.notify("Mark two runs with space first (or c: a run against its baseline).")
            return
        self.open_diff(a.id, b.id, (a, b))

    def open_diff(self, a_id: int, b_id: int, runs: tuple[EvalRun, EvalRun] | None = None) -> None:
        """Show the diff of run B against run A (`runs`: both, for the titles shown while
        they are compared, in a worker)."""
        open_diff_view(self, lambda: self.evals, a_id, b_id, runs)

    def action_compare_baseline(self) -> None:
        """Compare the highlighted run with its baseline."""
        run = self.runs.run_at_cursor()
        if run is not None:
            self.find_baseline(run)

    @work(thread=True, exclusive=True, group="regressions-baseline", exit_on_error=False)
    def find_baseline(self, run: EvalRun) -> None:
        """The run's baseline: the one it was started against, else the suite's pinned
        baseline as `eval run` finds it (`pinned_baseline_for`) (thread worker)."""
        from core.evals.report import pinned_baseline_for

        evals = self.evals
        found = evals.run(run.baseline_run_id) if run.baseline_run_id else None
        if found is None or found.id == run.id:
            pinned = pinned_baseline_for(evals, run.suite_name, run.model, exclude_run_id=run.id)
            found = None if pinned is None else pinned.run
        if found is not None:
            compare_and_show(self, lambda: self.evals, found.id, run.id, (found, run))
        else:
            message = f"Run #{run.id} has no baseline: pin one with b, or mark two runs."
            self.app.call_from_thread(self.notify, message, severity="warning")

    def action_open_run(self) -> None:
        """Show every result of the highlighted run."""
        run = self.runs.run_at_cursor()
        if run is not None:
            open_results_view(self, lambda: self.evals, run)

    # -- baselines ------------------------------------------------------------------------

    def action_pin_baseline(self) -> None:
        """Pin the highlighted run as its model's baseline on this suite (or unpin it)."""
        run = self.runs.run_at_cursor()
        if run is not None:
            self.pin_run(run)

    def pin_run(self, run: EvalRun) -> None:
        """Pin `run` as its model's baseline on its suite (or unpin it), confirmed first when
        that replaces or unpins one (the diff view's `b` too)."""
        if run.status != "completed":  # a pinned run is always a completed one
            message = f"Run #{run.id} is {run.status}: only a completed run can be the baseline."
            self.notify(message, severity="warning")
        else:
            self.check_pinned(run)

    @work(thread=True, exclusive=True, group="regressions-baseline", exit_on_error=False)
    def check_pinned(self, run: EvalRun) -> None:
        """Pin `run`, asking first when it replaces a pinned run, or unpin it, asked, when it
        is the pinned one (as the database says: `run` may be a copy read before; thread
        worker)."""
        current = self.evals.pinned_baseline(run.suite_name, run.model)
        if current is None:
            self.app.call_from_thread(self.set_baseline, run, True)
            return
        if current.id == run.id:
            question = inert(
                f"Unpin run #{run.id} as the baseline of {run.model} on {run.suite_name}?"
            )
            unpin = partial(self.set_baseline, run, False)
            self.app.call_from_thread(self._confirm, question, "Unpin", unpin)
            return
        question = inert(
            f"Replace run #{current.id} as the baseline of {run.model} on {run.suite_name}"
            f" with run #{run.id}?"
        )
        pin = partial(self.set_baseline, run, True)
        self.app.call_from_thread(self._confirm, question, "Replace", pin)

    def _confirm(self, question: str, label: str, then: Callable[[], object]) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmDialog(question, label), answered)

    @work(thread=True, exclusive=True, group="regressions-pin", exit_on_error=False)
    def set_baseline(self, run: EvalRun, pinned: bool) -> None:
        """Pin or unpin a run (thread worker)."""
        if pinned:
            self.evals.set_baseline(run.id)
        else:
            self.evals.clear_baseline(run.id)
        from core.evals.report import pin_note  # which runs compare with which pin now

        reach = pin_note(self.evals, run)
        self.app.call_from_thread(self._baseline_set, run, pinned, reach)

    def _baseline_set(self, run: EvalRun, pinned: bool, reach: str) -> None:
        self.runs.baseline_changed(run, pinned)
        for view in self.app.screen_stack:  # the diff whose `b` pinned it, its titles' marks
            if isinstance(view, RunDiffScreen):
                view.baseline_changed(run, pinned)
        verb = "is now" if pinned else "is no longer"
        shown = f"Run #{run.id} {verb} the baseline of {run.model} on {run.suite_name}"
        self.notify(inert(f"{shown}: {reach}."))

    # -- new runs -------------------------------------------------------------------------

    def action_new_run(self) -> None:
        """Run a suite file against a model, and watch it progress."""
        if self.launcher.running:
            self.notify("A run is going: wait for it to end.", severity="warning")
            return
        suite = self.query_one(SuiteTable).suite_at_cursor()
        settings = self.deck.engine.settings
        defaults = RunDefaults(
            suite_path=(suite.path or "") if suite else "",
            model=self.deck.model_name,
            profile=self.deck.profile_name,
            profiles=list(settings.all_profiles()),
        )
        self.app.push_screen(StartRunDialog(defaults), self._start_requested)

    def _start_requested(self, request: RunRequest | None) -> None:
        if request is not None:
            self._request = request
            self.launcher.start(request)
            self._show_hint()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A run refused before it started (a bad suite file, profile or baseline): the form
        again, with what the user typed and the one-line reason. Stopped once recorded (a
        budget, a missing key): the run is interrupted, and the notice says how to resume it."""
        if event.worker.group == "regressions-suites" and event.state is WorkerState.ERROR:
            self._first_read_asked = False  # the next opening reads again
            self._filling = None
            self._filled()

        error, request = event.worker.error, self._request
        refused = event.state is WorkerState.ERROR and isinstance(error, TunedeckError)
        if not refused or event.worker.group != "regressions-run":
            return
        if self.launcher.resuming:  # refused (completed, run elsewhere) or stopped again
            event.prevent_default()
            run_id = self.launcher.run_id
            self.notify(inert(f"Run #{run_id} not resumed: {error}"), severity="error")
            return
        if request is None:
            return
        event.prevent_default()  # not the pane's `ClassName: message` notification
        run_id = self.launcher.run_id
        if run_id is None:
            self.call_later(self.reopen_form, request, str(error))
        else:
            from core.budgets.guard import reason_of  # a run has no --over-budget

            resume = f"R resumes it, or `tunedeck eval resume {run_id}`"
            why = reason_of(str(error))
            self.notify(inert(f"Run #{run_id} interrupted: {why} ({resume})."), severity="error")

    async def reopen_form(self, request: RunRequest, problem: str) -> None:
        """Open the run's form again with `request`'s values and `problem` under them."""
        settings = self.deck.engine.settings
        defaults = RunDefaults(
            suite_path=str(request.suite_path),
            model=request.model,
            profile=request.profile,
            profiles=list(settings.all_profiles()),
            concurrency=request.concurrency,
            baseline="" if request.baseline is None else str(request.baseline),
        )
        dialog = StartRunDialog(defaults)
        await self.app.push_screen(dialog, self._start_requested)
        dialog.query_one("#start-error", Label).update(problem)
        if str(request.suite_path) in problem:  # the suite file is wrong: fix its path
            dialog.query_one("#start-path", Input).focus()

    def action_stop_run(self) -> None:
        """Stop the run started here (it is recorded `interrupted`; resume it later)."""
        if not self.launcher.running:
            self.notify("No run is going.")
            return
        question = STOP_QUESTION.format(run_id=self.launcher.run_id or "")
        self._confirm(question, "Stop", self.launcher.stop)

    def action_resume_run(self) -> None:
        """Finish the highlighted run, if it was interrupted, as `tunedeck eval resume`."""
        run = self.runs.run_at_cursor()
        if run is None:
            return
        if self.launcher.running:
            self.notify("A run is going: wait for it to end.", severity="warning")
        elif run.status == "completed":
            self.notify(f"Run #{run.id} is completed: nothing to resume.")
        else:
            self.launcher.resume(run)
            self._show_hint()

    def run_finished(self) -> None:
        """A run started here ended: read what it changed."""
        self._show_hint()
        self.read_if_changed()
        self.deck.refresh_status()

    def action_refresh(self) -> None:
        """Read the suites, the runs and the chart again."""
        self.load_suites()
