"""The diff of two runs: the comparison's summary, the cases with their flips, and the
highlighted case's two answers side by side with the scorers' reasons."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.types import NoActiveAppError
from textual.widget import Widget
from textual.widgets import DataTable, Header, Label, Static
from textual.worker import get_current_worker

from storage.eval_records import EvalRun
from tui.text import inert, money
from tui.widgets.paging import PagedTable
from tui.widgets.regressions.case_input import CaseInputs, SuiteCases, read_suite_cases
from tui.widgets.regressions.cases import CHANGE_LEGEND, DiffCaseTable
from tui.widgets.regressions.compare import CaseLine, RunDiff, RunGone, read_diff
from tui.widgets.regressions.figures import (
    BASELINE_MARK,
    VERDICT_STYLES,
    money_delta,
    ms,
    number,
    points,
    rate,
    score,
    signed,
    started,
)
from tui.widgets.regressions.outputs import SideBySide, describe_results
from tui.widgets.regressions.reuse import KeptScreen, free_view, kept_view, push_view
from tui.widgets.regressions.view import RegressionsView, breakpoint_classes

if TYPE_CHECKING:
    from core.evals.stats import Comparison
    from storage.evals import EvalStore

DIFF_VIEW = "regressions-diff"
"""The name the console keeps its diff view by (see `reuse`)."""
COMPARING = "comparing the runs…"
"""The hint of a view built on the key until its comparison is read."""


@dataclass(frozen=True)
class DiffAsked:
    """A comparison to read once its view is on show (a view built on the key): run B
    against run A, and the runs themselves when the pane has them (for the titles)."""

    a_id: int
    b_id: int
    runs: tuple[EvalRun, EvalRun] | None = None


class NotesHeading(VerticalScroll, can_focus=False):
    """The diff's summary, its height capped (see `#diff-heading`): it takes the focus (tab,
    shift+tab from the cases, to scroll it by keys) only while its notes overflow it; the
    wheel scrolls it either way."""

    def on_resize(self, event: events.Resize) -> None:
        overflows = self.max_scroll_y > 0
        if self.can_focus != overflows:
            self.can_focus = overflows
            if not overflows and self.has_focus:
                self.screen.focus_next()


class RunDiffScreen(KeptScreen, RegressionsView):
    """Run B (the candidate) against run A (the baseline); escape goes back to the pane."""

    SUB_TITLE = "Regressions · diff"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("x", "toggle_regressions", "Regressions only"),
        Binding("o", "focus_outputs", "Outputs"),
        Binding("b", "pin_baseline", "Pin run B"),
    ]

    def __init__(
        self,
        diff: RunDiff | None,
        read_evals: Callable[[], EvalStore] | None = None,
        asked: DiffAsked | None = None,
    ) -> None:
        """`diff`: the comparison, read already (`compare_and_show`, in a worker of the
        pane): the view opens with it. None builds the view empty, ahead of its first
        opening (see `ahead`), to show a comparison with `show_diff`; or, with `asked`,
        opens at once with the runs' titles and reads that comparison after its first frame
        (built on the key). `read_evals`: where the runs' suite versions (and an `asked`
        comparison) are read (None: the inputs are not shown)."""
        super().__init__()
        self.footer_later = asked is not None  # built on the key: its first frame at once
        self.asked = asked
        """The comparison being read for the view (None: none)."""
        self.read_evals = read_evals
        self.case_inputs = CaseInputs()
        """The suite versions read for the inputs of the cases shown (kept with the view)."""
        with suppress(NoActiveAppError):
            # Textual sets them at the screen's first Resize, after its first frame, and
            # restyles the whole screen then (~20 ms).
            self.add_class(*breakpoint_classes(self, self.app.size))
        self.diff = diff
        """The comparison on show (None: none yet)."""
        self.a_id: int | None = diff.a.id if diff else asked.a_id if asked else None
        self.b_id: int | None = diff.b.id if diff else asked.b_id if asked else None
        self.regressions_only = False
        self._outputs_due = False
        """The highlighted case's answers are to be shown after the view's next frame."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        with Vertical(id="diff-pane"):
            with NotesHeading(id="diff-heading"):
                yield Static("", id="diff-summary")
            yield Label("", id="diff-hint")
            yield DiffCaseTable(id="diff-cases")
            yield SideBySide(id="diff-outputs")
        yield from self.footer()

    def on_mount(self) -> None:
        if self.diff is not None:
            self._show(self.diff)
        elif self.asked is not None:
            self._show_asked(self.asked)

    def _show_asked(self, asked: DiffAsked) -> None:
        """The runs' titles and `COMPARING` now; the comparison read after the first frame
        (a thread started now would hold the interpreter's lock during that frame)."""
        self.query_one("#diff-summary", Static).update(asked_title(asked))
        self.query_one("#diff-hint", Label).update(COMPARING)
        self.query_one(DiffCaseTable).focus()
        self.call_after_refresh(self._compare, asked)

    def _compare(self, asked: DiffAsked) -> None:
        if asked is self.asked and self.read_evals is not None:
            self.compare(self.read_evals, asked)

    @work(thread=True, exclusive=True, group="diff-compare", exit_on_error=False)
    def compare(self, read_evals: Callable[[], EvalStore], asked: DiffAsked) -> None:
        """Read the comparison `asked` for the view (thread worker); a run deleted meanwhile
        is a notification, and the view goes."""
        try:
            diff = read_diff(read_evals(), asked.a_id, asked.b_id)
        except RunGone as gone:
            self.app.call_from_thread(self._gone, asked, str(gone))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._compared, asked, diff)

    def _compared(self, asked: DiffAsked, diff: RunDiff) -> None:
        if asked is self.asked:  # not another comparison asked for meanwhile
            self.asked = None
            self._show(diff)

    def _gone(self, asked: DiffAsked, message: str) -> None:
        self.notify(message, severity="error")
        if asked is self.asked:
            self.asked = None
            if self.is_current:
                self.dismiss()

    def show_diff(self, diff: RunDiff, read_evals: Callable[[], EvalStore] | None = None) -> None:
        """Show another comparison, as a new view would (this one is kept: see `diff_view`)."""
        self.asked = None  # a comparison still being read for the view is not shown
        self.read_evals = read_evals or self.read_evals
        self.a_id, self.b_id = diff.a.id, diff.b.id
        self.regressions_only = False
        self._show(diff)

    def _show(self, diff: RunDiff) -> None:
        self.diff = diff
        self.query_one("#diff-summary", Static).update(summary(diff))
        # The answers come a frame after the summary and cases: rendering them, and showing
        # them again as the table's rows go in, would hold back that first frame (~5-10 ms).
        self._outputs_due = True
        self.query_one(SideBySide).clear()  # not the last comparison's, meanwhile
        if self.is_current:
            self.call_after_refresh(self._show_due_outputs)
        self._show_lines()
        self.query_one(DiffCaseTable).focus()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        if self._outputs_due:  # after the frame of the view now on show (see `_show`)
            self.call_after_refresh(self._show_due_outputs)

    def _show_due_outputs(self) -> None:
        if self._outputs_due:
            self._outputs_due = False
            self._read_case_inputs()
            self._case_highlighted()

    def _read_case_inputs(self) -> None:
        """Read the runs' suite versions not read yet (after the view's first frame)."""
        if self.diff is None or self.read_evals is None:
            return
        unread = self.case_inputs.unread(self.diff.a.suite_id, self.diff.b.suite_id)
        if unread:
            self.load_case_inputs(self.read_evals, unread)

    @work(thread=True, exclusive=True, group="diff-case-inputs", exit_on_error=False)
    def load_case_inputs(
        self, read_evals: Callable[[], EvalStore], suite_ids: tuple[int, ...]
    ) -> None:
        """Read suite versions `suite_ids`, for their cases' inputs (thread worker)."""
        evals = read_evals()
        read = [read_suite_cases(evals, suite_id) for suite_id in suite_ids]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._case_inputs_read, read)

    def _case_inputs_read(self, read: list[SuiteCases]) -> None:
        self.case_inputs.add(read)
        line = self.query_one(DiffCaseTable).line_at_cursor()
        if line is not None and not self._outputs_due:
            self.query_one(SideBySide).case = None  # shown again, with its input
            self.show_case(line)

    def _show_lines(self) -> None:
        if self.diff is None:
            return
        lines = self.diff.regressions() if self.regressions_only else self.diff.lines
        self.query_one(DiffCaseTable).show_lines(lines)
        self._show_hint(len(lines))
        if not lines:
            self.query_one(SideBySide).clear()
        else:  # the first case's answers, now if the table is laid out already (see cases.py)
            self._case_highlighted()

    def _show_hint(self, count: int) -> None:
        label = self.query_one("#diff-hint", Label)
        what = "regressions only (x shows every case)" if self.regressions_only else "every case"
        label.update(f"{count:,} cases · {what}")
        label.set_class(self.regressions_only, "-filtered")

    @on(DataTable.RowHighlighted, "#diff-cases")
    def _case_highlighted(self) -> None:
        line = self.query_one(DiffCaseTable).line_at_cursor()
        if line is not None:
            self.show_case(line)

    @on(PagedTable.RowsChanged, "#diff-cases")
    def _rows_changed(self) -> None:
        self._case_highlighted()

    def show_case(self, line: CaseLine) -> None:
        """Show both runs' answers to the case, with the scorers' reasons."""
        if self.diff is None or self._outputs_due:
            return  # due after the view's frame: the case under the cursor then
        sides = self.query_one(SideBySide)
        if sides.case is line:
            return  # shown already (the cursor's highlight and the table's rows both ask)
        a, b = self.diff.a, self.diff.b
        asked_a, asked_b = self._asked(line.case_id)
        title = "{} #{} {} · " + inert(line.case_id)
        sides.show(
            describe_results(title.format("A", a.id, inert(a.model)), line.results_a, asked_a),
            describe_results(title.format("B", b.id, inert(b.model)), line.results_b, asked_b),
            line,
        )

    def _asked(self, case_id: str) -> tuple[Text | None, Text | None]:
        """What the case asked and expects in run A's suite version and in run B's (None
        for both until both are read: the two answers then start on the same line)."""
        assert self.diff is not None
        a = self.case_inputs.get(self.diff.a.suite_id)
        b = self.case_inputs.get(self.diff.b.suite_id)
        if a is None or b is None:
            return None, None
        left, right = a.describe(case_id), b.describe(case_id)
        if a is b or left.plain == right.plain:
            return left, right
        return (
            a.describe(case_id, f"suite version {a.version}"),
            b.describe(case_id, f"suite version {b.version}, changed since A's"),
        )

    def action_toggle_regressions(self) -> None:
        """Show only the cases that broke (and critical cases failing), or every case."""
        self.regressions_only = not self.regressions_only
        self._show_lines()

    def action_focus_outputs(self) -> None:
        """Scroll the answers (tab goes back and forth too)."""
        self.query_one("#side-a").focus()

    def baseline_changed(self, run: EvalRun, pinned: bool) -> None:
        """`run` was pinned as its model's baseline on its suite (replacing any other), or
        unpinned: the runs' titles follow (their pinned mark)."""
        if self.diff is None:
            return
        a, b = (_follow_pin(side, run, pinned) for side in (self.diff.a, self.diff.b))
        if (a, b) != (self.diff.a, self.diff.b):
            self.diff = replace(self.diff, a=a, b=b)
            self.query_one("#diff-summary", Static).update(summary(self.diff))

    def action_pin_baseline(self) -> None:
        """Pin run B as its model's baseline (or unpin it), as `b` on it in the pane does."""
        # The pane under this view (`RegressionsScreen.pin_run`: not imported, it imports this).
        pins = [getattr(screen, "pin_run", None) for screen in self.app.screen_stack]
        pin = next((found for found in pins if callable(found)), None)
        if self.diff is not None and pin is not None:
            pin(self.diff.b)


def open_diff_view(
    pane: Widget,
    read_evals: Callable[[], EvalStore],
    a_id: int,
    b_id: int,
    runs: tuple[EvalRun, EvalRun] | None = None,
) -> None:
    """The diff of run `b_id` against run `a_id` (`runs`: both, for the titles): the
    console's kept view is pushed once `compare_and_show` compared them in a thread worker of
    `pane`; without one, a new view opens at once and compares them itself (`asked_view`)."""
    app = pane.app
    if free_view(app, DIFF_VIEW, RunDiffScreen) is None:
        app.push_screen(asked_view(app, read_evals, DiffAsked(a_id, b_id, runs)))
        return
    compare = partial(compare_and_show, pane, read_evals, a_id, b_id, runs)
    pane.run_worker(
        compare, thread=True, exclusive=True, group="regressions-diff", exit_on_error=False
    )


def asked_view(
    app: App[Any], read_evals: Callable[[], EvalStore], asked: DiffAsked
) -> RunDiffScreen:
    """A new diff view, to push, that reads the comparison `asked` once on show (kept by the
    console as its diff view if it has none yet: see `reuse`)."""
    view = RunDiffScreen(None, read_evals, asked)
    if not app.is_screen_installed(DIFF_VIEW):
        app.install_screen(view, DIFF_VIEW)
    return view


def compare_and_show(
    pane: Widget,
    read_evals: Callable[[], EvalStore],
    a_id: int,
    b_id: int,
    runs: tuple[EvalRun, EvalRun] | None = None,
) -> None:
    """Compare run `b_id` with run `a_id`, then push the view of the comparison (`diff_view`):
    it opens with its figures and cases. Call it in a thread worker of `pane`; a run deleted
    meanwhile is a notification. Without a kept view to show it in, a new one is pushed at
    once and reads the comparison itself (see `open_diff_view`)."""
    app = pane.app
    if app.call_from_thread(free_view, app, DIFF_VIEW, RunDiffScreen) is None:
        asked = DiffAsked(a_id, b_id, runs)
        app.call_from_thread(push_view, app, partial(asked_view, app, read_evals, asked))
        return
    try:
        diff = read_diff(read_evals(), a_id, b_id)
    except RunGone as gone:
        app.call_from_thread(pane.notify, str(gone), severity="error")
        return
    if not get_current_worker().is_cancelled:
        app.call_from_thread(push_view, app, partial(diff_view, app, diff, read_evals))


def diff_view(
    app: App[Any], diff: RunDiff, read_evals: Callable[[], EvalStore] | None = None
) -> RunDiffScreen:
    """The view of `diff`, to push: the console's kept one (see `reuse`), `diff` in its
    widgets already; `read_evals`: where the runs' suite versions are read (see
    `RunDiffScreen`)."""
    view, new = kept_view(app, DIFF_VIEW, RunDiffScreen, lambda: RunDiffScreen(diff, read_evals))
    if not new:
        view.show_diff(diff, read_evals)
    return view


def _follow_pin(shown: EvalRun, run: EvalRun, pinned: bool) -> EvalRun:
    """`shown` as it is once `run` is pinned (or unpinned): one pin a suite and model."""
    if (shown.suite_name, shown.model) != (run.suite_name, run.model):
        return shown
    is_baseline = shown.id == run.id if pinned else shown.is_baseline and shown.id != run.id
    return shown if is_baseline == shown.is_baseline else replace(shown, is_baseline=is_baseline)


def run_title(side: str, run: EvalRun) -> Text:
    """`A #12 gpt-4o-mini ★ 11-20 10:00` (the model inert)."""
    text = Text(f"{side} #{run.id} ", style="bold")
    text.append(inert(run.model), style="bold")
    if run.is_baseline:
        text.append(f" {BASELINE_MARK}", style="bold yellow")
    text.append(f" {started(run.started_at)}", style="dim")
    return text


def asked_title(asked: DiffAsked) -> Text:
    """`A #3 gpt-4o-mini 11-20 10:00  →  B #4 ...` (`A #3  →  B #4` without the runs)."""
    if asked.runs is None:
        return Text(f"A #{asked.a_id}  →  B #{asked.b_id}", style="bold")
    text = run_title("A", asked.runs[0])
    text.append("  →  ")
    text.append(run_title("B", asked.runs[1]))
    return text


def summary(diff: RunDiff) -> Text:
    """The comparison in a few short lines, the essentials first: the runs; the verdict, flips
    and pass rate; McNemar's p, score and cost; latency; then why it is a regression and what
    to know (each line of its own, wrapped whole: see `#diff-heading`)."""
    c = diff.comparison
    text = run_title("A", diff.a)
    text.append("  →  ")
    text.append(run_title("B", diff.b))
    text.append("\n")
    text.append(f" {c.verdict_label.upper()} ", style=VERDICT_STYLES.get(c.verdict, "bold"))
    text.append(f" {len(c.broke)} broke", style="bold red" if c.broke else "")
    text.append(", ")
    text.append(f"{len(c.fixed)} fixed", style="bold green" if c.fixed else "")
    text.append(f" of {c.paired:,} · pass {rate(c.baseline_pass_rate)} → ")
    text.append(f"{rate(c.candidate_pass_rate)} ({points(c.pass_rate_delta)})\n")
    text.append(f"McNemar p={c.p_value:.3g}{' significant' if c.significant else ''}")
    text.append(f" · score {score(c.baseline_score)} → {score(c.candidate_score)}")
    text.append(f" ({signed(c.score_delta)})")
    text.append(f" · cost {money(c.baseline_cost_usd)} → {money(c.candidate_cost_usd)}")
    text.append(f" ({money_delta(c.cost_delta_usd)})\n")
    text.append(f"latency {latency_change(c, 'p50')} · {latency_change(c, 'p95')}")
    for reason in c.reasons:  # the critical cases failing come first
        text.append("\nwhy: ", style="bold red")
        text.append(inert(reason))
    for note in diff.notes:
        text.append(f"\nnote: {inert(note)}", style="dim")
    legend = [CHANGE_LEGEND[kind] for kind in ("checks", "input") if _changed(c, kind)]
    if legend:
        text.append(f"\nmarked in the flip column: {', '.join(legend)}", style="dim")
    return text


def _changed(c: Comparison, kind: str) -> bool:
    return bool(c.changed_checks if kind == "checks" else c.changed_inputs)


def latency_change(c: Comparison, which: Literal["p50", "p95"]) -> str:
    """`p95 470 → 520 ms (+50)`: the percentile in A, in B, and the change, as the score's."""
    a, b = getattr(c.baseline_latency, which), getattr(c.candidate_latency, which)
    shown = f"{which} {number(a)} → {ms(b)}"
    return shown if a is None or b is None else f"{shown} ({signed(b - a, '', 0)})"
