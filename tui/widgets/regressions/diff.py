"""The diff of two runs: the comparison's summary, the cases with their flips, and the
highlighted case's two answers side by side with the scorers' reasons."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Label, Static
from textual.worker import get_current_worker

from storage.eval_records import EvalRun
from tui.text import inert, money
from tui.widgets.paging import PagedTable
from tui.widgets.regressions.cases import DiffCaseTable
from tui.widgets.regressions.compare import CaseLine, RunDiff, diff_runs
from tui.widgets.regressions.figures import (
    BASELINE_MARK,
    VERDICT_STYLES,
    money_delta,
    ms,
    points,
    rate,
    score,
    signed,
    started,
)
from tui.widgets.regressions.outputs import SideBySide, describe_results
from tui.widgets.regressions.view import RegressionsView

if TYPE_CHECKING:
    from storage.evals import EvalStore


class RunDiffScreen(RegressionsView):
    """Run B (the candidate) against run A (the baseline); escape goes back to the pane."""

    SUB_TITLE = "Regressions · diff"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("x", "toggle_regressions", "Regressions only"),
        Binding("o", "focus_outputs", "Outputs"),
    ]

    def __init__(self, read_evals: Callable[[], EvalStore], a_id: int, b_id: int) -> None:
        super().__init__()
        self.read_evals = read_evals
        self.a_id, self.b_id = a_id, b_id
        self.diff: RunDiff | None = None
        """The comparison on show (None while it is read)."""
        self.regressions_only = False

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        with Vertical(id="diff-pane"):
            yield Static(f"comparing run #{self.a_id} with run #{self.b_id}…", id="diff-summary")
            yield Label("", id="diff-hint")
            yield DiffCaseTable(id="diff-cases")
            yield SideBySide(id="diff-outputs")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="diff-load", exit_on_error=False)
    def load(self) -> None:
        """Read both runs and their results, and compare them (thread worker)."""
        evals = self.read_evals()
        a, b = evals.run(self.a_id), evals.run(self.b_id)
        missing = [f"#{run_id}" for run_id, run in ((self.a_id, a), (self.b_id, b)) if not run]
        if missing or a is None or b is None:
            self.app.call_from_thread(self._gone, " and ".join(missing))
            return
        from core.evals.report import Baseline, build_report  # as `eval compare A B`

        report = build_report(evals, b, Baseline(a, f"run {a.id}"))
        diff = diff_runs(a, report, evals.paired_results(a.id, b.id))
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, diff)

    def _gone(self, missing: str) -> None:
        self.notify(f"run {missing} is gone", severity="error")
        self.dismiss()

    def _show(self, diff: RunDiff) -> None:
        self.diff = diff
        self.query_one("#diff-summary", Static).update(summary(diff))
        self._show_lines()
        self.query_one(DiffCaseTable).focus()

    def _show_lines(self) -> None:
        if self.diff is None:
            return
        lines = self.diff.regressions() if self.regressions_only else self.diff.lines
        self.query_one(DiffCaseTable).show_lines(lines)
        self._show_hint(len(lines))
        if not lines:
            self.query_one(SideBySide).show(Text(""), Text(""))

    def _show_hint(self, count: int) -> None:
        label = self.query_one("#diff-hint", Label)
        what = "regressions only (x shows every case)" if self.regressions_only else "every case"
        label.update(f"{count:,} cases · {what}")
        label.set_class(self.regressions_only, "-filtered")

    @on(DataTable.RowHighlighted, "#diff-cases")
    def _case_highlighted(self) -> None:
        line = self.query_one(DiffCaseTable).line_at_cursor()
        if line is not None and self.diff is not None:
            self.show_case(line)

    @on(PagedTable.RowsChanged, "#diff-cases")
    def _rows_changed(self) -> None:
        self._case_highlighted()

    def show_case(self, line: CaseLine) -> None:
        """Show both runs' answers to the case, with the scorers' reasons."""
        assert self.diff is not None
        a, b = self.diff.a, self.diff.b
        self.query_one(SideBySide).show(
            describe_results(f"A #{a.id} {inert(a.model)} · {inert(line.case_id)}", line.results_a),
            describe_results(f"B #{b.id} {inert(b.model)} · {inert(line.case_id)}", line.results_b),
        )

    def action_toggle_regressions(self) -> None:
        """Show only the cases that broke (and critical cases failing), or every case."""
        self.regressions_only = not self.regressions_only
        self._show_lines()

    def action_focus_outputs(self) -> None:
        """Scroll the answers (tab goes back and forth too)."""
        self.query_one("#side-a").focus()


def run_title(side: str, run: EvalRun) -> Text:
    """`A #12 gpt-4o-mini ★ 11-20 10:00` (the model inert)."""
    text = Text(f"{side} #{run.id} ", style="bold")
    text.append(inert(run.model), style="bold")
    if run.is_baseline:
        text.append(f" {BASELINE_MARK}", style="bold yellow")
    text.append(f" {started(run.started_at)}", style="dim")
    return text


def summary(diff: RunDiff) -> Text:
    """The comparison in a few lines: the runs, verdict, flips, pass rate and McNemar's p, then
    score, latency and cost, then why it is a regression and what to know."""
    c = diff.comparison
    text = run_title("A", diff.a)
    text.append("  →  ")
    text.append(run_title("B", diff.b))
    text.append("\n")
    text.append(f" {c.verdict.upper()} ", style=VERDICT_STYLES[c.verdict])
    text.append(f" {len(c.broke)} broke", style="bold red" if c.broke else "")
    text.append(", ")
    text.append(f"{len(c.fixed)} fixed", style="bold green" if c.fixed else "")
    text.append(f" of {c.paired:,} · pass {rate(c.baseline_pass_rate)} → ")
    text.append(f"{rate(c.candidate_pass_rate)} ({points(c.pass_rate_delta)})")
    text.append(f" · McNemar p={c.p_value:.3g}{' significant' if c.significant else ''}\n")
    text.append(f"score {score(c.baseline_score)} → {score(c.candidate_score)}")
    text.append(f" ({signed(c.score_delta)}) · p50 {ms(c.baseline_latency.p50)} → ")
    p95 = signed(c.latency_delta_ms("p95"), " ms", 0)
    text.append(f"{ms(c.candidate_latency.p50)} · p95 {p95}")
    text.append(f" · cost {money(c.baseline_cost_usd)} → {money(c.candidate_cost_usd)}")
    text.append(f" ({money_delta(c.cost_delta_usd)})")
    for reason in c.reasons:  # the critical cases failing come first
        text.append("\nwhy: ", style="bold red")
        text.append(inert(reason))
    for note in diff.notes:
        text.append(f"\nnote: {inert(note)}", style="dim")
    return text
