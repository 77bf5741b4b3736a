"""One run's case results, paged from SQL by case id, and the highlighted case's answer and
scorer verdicts below them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Header, Label, Static
from textual.worker import get_current_worker

from storage.eval_records import EvalRun, RecordedResult, RunSummary
from tui.text import inert, money
from tui.widgets.paging import Direction, PagedTable, PageRead
from tui.widgets.regressions.case_input import CaseInputs, SuiteCases, read_suite_cases
from tui.widgets.regressions.columns import FlexTable
from tui.widgets.regressions.diff import run_title
from tui.widgets.regressions.figures import ms, rate, result_status, run_status, score
from tui.widgets.regressions.outputs import describe_results
from tui.widgets.regressions.reuse import KeptScreen, free_view, kept_view, push_view
from tui.widgets.regressions.view import RegressionsView
from tui.widgets.usage.figures import one_line

if TYPE_CHECKING:
    from storage.evals import EvalStore

COLUMNS = (  # key, label, width (0: the answer column takes what is left)
    ("case", "case", 20),
    ("repeat", "rep", 3),
    ("status", "status", 6),
    ("critical", "crit", 4),
    ("score", "score", 5),
    ("latency", "latency", 8),
    ("cost", "cost", 8),
    ("answer", "answer", 0),
)
ONE_REPEAT = tuple(column for column in COLUMNS if column[0] != "repeat")
"""The columns of a run that asked each case once: no `rep`."""
FILTERS: tuple[str | None, ...] = (None, "fail", "error")
"""What `x` cycles through: every result, the failures, the errors."""
RESULTS_VIEW = "regressions-results"
"""The name the console keeps its results view by (see `reuse`)."""
READING = "reading the results…"
"""The hint of a view built on the key until its first page of results is in."""


@dataclass(frozen=True)
class FirstPage:
    """A run's first results, read before its view opens (`ResultTable.first_page_size`
    of them at most, `size`: the window's page size then)."""

    size: int
    rows: list[RecordedResult]


class ResultTable(FlexTable[RecordedResult]):
    """A run's results by case id and repeat, keyset-paged from SQL (see `PagedTable`)."""

    COLUMNS = COLUMNS
    RIGHT = frozenset({"repeat", "score", "latency", "cost"})
    WARM_OFF_SCREEN = False  # filled before its view is pushed

    def __init__(
        self, read_evals: Callable[[], EvalStore], run_id: int | None, repeats: int = 1
    ) -> None:
        super().__init__(id="result-table")
        self.read_evals = read_evals
        self.run_id = run_id
        """The run listed (None: none yet, the view is built ahead)."""
        self.repeats = repeats
        """How many times the run asked each case: the `rep` column is shown if more than
        once."""
        self.status: str | None = None
        """Only the results with this status (None: every result)."""
        self._first: FirstPage | None = None

    def show_run(self, run_id: int, first: FirstPage | None = None, repeats: int = 1) -> None:
        """List every result of another run from the first (the view is shown again);
        `first`: its first page, read already (else it is read in a worker); `repeats`: the
        run's repeats of each case (1: no `rep` column)."""
        self.run_id, self.status, self.repeats = run_id, None, repeats
        self._first = first
        self.clear()
        self.window.reset([])
        self.restart()

    def first_page_size(self) -> int:
        """The rows a first page read now must hold (see `FirstPage`)."""
        return self._page_size()

    def _read(self, request: PageRead[RecordedResult], anchor: RecordedResult | None) -> None:
        first, self._first = self._first, None
        if request.direction is None and first and first.size == self.window.page_size:
            self._page_read(PageRead(request.generation, None, None, first.rows))
        else:  # read in a worker; also if the screen's height changed the page size since
            super()._read(request, anchor)

    def columns_shown(self) -> tuple[tuple[str, str, int], ...]:
        return COLUMNS if self.repeats > 1 else ONE_REPEAT

    def row_key(self, row: RecordedResult) -> str:
        return str(row.id)

    def row_cells(self, row: RecordedResult) -> list[Text]:
        repeat = [Text(str(row.repeat_index + 1), justify="right", style="dim")]
        return [
            one_line(row.case_id, COLUMNS[0][2]),
            *(repeat if self.repeats > 1 else []),
            result_status(row.status),
            Text("yes" if row.critical else "", style="bold yellow"),
            Text(score(row.score), justify="right"),
            Text(ms(row.latency_ms), justify="right"),
            Text(money(row.cost_usd), justify="right"),
            one_line(row.error or row.output_text or "", self.flex_width),
        ]

    def read_page(
        self, direction: Direction | None, anchor: RecordedResult | None
    ) -> list[RecordedResult]:
        if self.run_id is None:
            return []
        evals, size = self.read_evals(), self.window.page_size
        where = (anchor.case_id, anchor.repeat_index) if anchor is not None else None
        if direction == "before":
            return evals.results(self.run_id, self.status, limit=size, before=where)
        return evals.results(self.run_id, self.status, limit=size, after=where)


class RunResultsScreen(KeptScreen, RegressionsView):
    """Every case result of one run; escape goes back to the pane."""

    SUB_TITLE = "Regressions · run"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("x", "cycle_filter", "Failures / errors"),
        Binding("o", "focus_answer", "Answer"),
    ]

    def __init__(self, read_evals: Callable[[], EvalStore], run: EvalRun | None) -> None:
        """`run`: the run to list; None builds the view empty, ahead of its first opening
        (see `ahead`), to show a run with `show_run`."""
        super().__init__()
        self.read_evals = read_evals
        self.run = run
        self.footer_later = run is not None  # built on the key: its first frame at once
        self._reload_due = False
        """The run is to be read again once the view is on show (see `show_run`)."""
        self._detail_of: RecordedResult | None = None
        """The result whose answer is shown below the table."""
        self.case_inputs = CaseInputs()
        """The suite versions read for the inputs of the cases shown (kept with the view)."""

    def compose(self) -> ComposeResult:
        run = self.run
        yield Header(show_clock=False, icon="≡")
        with Vertical(id="results-pane"):
            yield Static(heading(run) if run else "", id="results-heading")
            yield Label(READING if run else "every result", id="results-hint")
            yield ResultTable(self.read_evals, run.id if run else None, run.repeats if run else 1)
            with VerticalScroll(id="result-detail"):
                yield Static("", id="result-text")
        yield from self.footer()

    @property
    def table(self) -> ResultTable:
        """The table of results."""
        return self.query_one(ResultTable)

    def on_mount(self) -> None:
        if self.run is None:
            return  # built ahead: `show_run` fills it
        self.table.focus()
        # Built on the key: its first frame (titles, headers, `READING`) comes at once; the
        # results are read after it, in workers (threads started now would hold the
        # interpreter's lock during that frame).
        self.call_after_refresh(self._fill)

    def _fill(self) -> None:
        self.table.restart()
        self._read_run()

    def show_run(self, run: EvalRun, first: FirstPage | None = None) -> None:
        """Show another run, as a new view would (this one is kept: see `results_view`);
        `first`: its first page of results, read already."""
        self.run = run
        self._show_heading(heading(run))
        self.query_one("#results-hint", Label).update("every result")
        self.query_one("#result-text", Static).update("")
        self._detail_of = None
        self.table.read_evals = self.read_evals
        self.table.show_run(run.id, first, run.repeats)
        self.table.focus()
        if self.is_current:
            self._read_run()
        else:  # a thread reading now would hold back the first frame (see `on_screen_resume`)
            self._reload_due = True

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        if self._reload_due:  # after the frame of the view now on show (see `show_run`)
            self._reload_due = False
            self.call_after_refresh(self._read_run)

    def _read_run(self) -> None:
        """Read the run again (`load_run`), and its suite version if it was not read yet."""
        self.load_run()
        if self.run is not None and self.case_inputs.unread(self.run.suite_id):
            self.load_case_inputs(self.run.suite_id)

    @work(thread=True, exclusive=True, group="results-run", exit_on_error=False)
    def load_run(self) -> None:
        """Read the run again: its summary so far while it runs (thread worker)."""
        if self.run is None:
            return
        evals = self.read_evals()
        run = evals.run(self.run.id)
        progress = evals.progress(self.run.id) if run and run.summary is None else None
        if run is not None and not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_heading, heading(run, progress))

    @work(thread=True, exclusive=True, group="results-case-inputs", exit_on_error=False)
    def load_case_inputs(self, suite_id: int) -> None:
        """Read suite version `suite_id`, for its cases' inputs (thread worker)."""
        read = read_suite_cases(self.read_evals(), suite_id)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._case_inputs_read, read)

    def _case_inputs_read(self, read: SuiteCases) -> None:
        self.case_inputs.add([read])
        if self.run is not None and self.run.suite_id == read.suite_id:
            self._detail_of = None  # shown again, with its input
            self._result_highlighted()

    def _show_heading(self, text: Text) -> None:
        shown = self.query_one("#results-heading", Static)
        if shown.content != text:  # the run read again is most often the one shown
            shown.update(text)

    @on(PagedTable.RowsChanged, "#result-table")
    def _rows_in(self) -> None:
        hint = self.query_one("#results-hint", Label)
        if str(hint.content) == READING:
            hint.update("every result")
        self._result_highlighted()

    @on(DataTable.RowHighlighted, "#result-table")
    def _result_highlighted(self) -> None:
        result = self.table.row_at_cursor()
        if result is not None and result is self._detail_of:
            return  # shown already (the cursor's highlight and the table's rows both ask)
        self._detail_of = result
        detail = self.query_one("#result-text", Static)
        if result is None:
            detail.update(Text("no result matches", style="dim"))
            return
        detail.update(describe_results(inert(result.case_id), [result], self._asked(result)))
        self.query_one("#result-detail", VerticalScroll).scroll_home(animate=False)

    def _asked(self, result: RecordedResult) -> Text | None:
        """What the result's case asked and expects (None until its suite version is read)."""
        read = self.case_inputs.get(self.run.suite_id) if self.run else None
        return read.describe(result.case_id) if read else None

    def action_cycle_filter(self) -> None:
        """Show every result, then only the failures, then only the errors."""
        table = self.table
        table.status = FILTERS[(FILTERS.index(table.status) + 1) % len(FILTERS)]
        table.restart()
        shown = {None: "every result", "fail": "failures only", "error": "errors only"}
        self.query_one("#results-hint", Label).update(f"{shown[table.status]} (x cycles)")

    def action_focus_answer(self) -> None:
        """Scroll the answer (tab goes back and forth too)."""
        self.query_one("#result-detail").focus()


def open_results_view(pane: Widget, read_evals: Callable[[], EvalStore], run: EvalRun) -> None:
    """Push the view of `run`'s results (`results_view`). The console's kept view gets its
    first page read in a thread worker of `pane` first, and opens with it; the first time, a
    new view opens at once and reads it itself."""
    app = pane.app
    kept = free_view(app, RESULTS_VIEW, RunResultsScreen)
    if kept is None:
        app.push_screen(results_view(app, read_evals, run))
        return
    size = kept.table.first_page_size()

    def read_first_page() -> None:
        first = FirstPage(size, read_evals().results(run.id, limit=size))
        if not get_current_worker().is_cancelled:
            app.call_from_thread(push_view, app, partial(results_view, app, read_evals, run, first))

    pane.run_worker(
        read_first_page,
        thread=True,
        exclusive=True,
        group="regressions-results",
        exit_on_error=False,
    )


def results_view(
    app: App[Any],
    read_evals: Callable[[], EvalStore],
    run: EvalRun,
    first: FirstPage | None = None,
) -> RunResultsScreen:
    """The view of `run`'s results, to push: the console's kept one (see `reuse`), with
    `first` (the first page, read already) in its table."""
    view, new = kept_view(
        app, RESULTS_VIEW, RunResultsScreen, lambda: RunResultsScreen(read_evals, run)
    )
    if not new:
        view.read_evals = read_evals
        view.show_run(run, first)
    return view


def heading(run: EvalRun, progress: RunSummary | None = None) -> Text:
    """The run: model, start, version, status, pass rate, score, cost, latency (`progress`:
    the summary so far of a run without one)."""
    text = run_title("run", run)
    text.append(" · ")
    text.append(run_status(run.status))
    summary = run.summary or progress
    if summary is not None:
        text.append(
            f"\n{summary.passed:,} pass · {summary.failed:,} fail · {summary.errored:,} error"
            f" of {run.cases_total:,} · pass rate {rate(summary.pass_rate)}"
            f" · score {score(summary.mean_score)} · cost {money(summary.cost_usd)}"
            f" · p50 {ms(summary.latency_p50_ms)} · p95 {ms(summary.latency_p95_ms)}"
        )
    return text
