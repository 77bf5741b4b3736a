"""Printing for `tunedeck eval`: the progress line, a run's summary, a comparison, tables.

Results go to stdout; progress, the estimate and warnings to stderr. Answers and reasons come
from models and users: they are shown inert (no escape sequences, no markup).
"""

from __future__ import annotations

import shutil
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from core.evals.comparison_notes import case_marks, cases
from storage.eval_records import elapsed_ms
from tui.cli.output import StderrLine, excerpt, local_time, millis, print_table, say
from tui.text import inert, money

if TYPE_CHECKING:
    from core.evals.estimate import Estimate
    from core.evals.report import RunReport
    from core.evals.runner import Progress, RunOutcome
    from core.evals.stats import Comparison
    from core.evals.tally import CaseTally
    from storage.eval_records import EvalRun, RecordedResult, RunSummary

_SHOWN_IDS = 20
_BAR = 24
_WHY_CHARS = 2_000
"""A failure's reason is shown up to this long, then cut to the terminal's width."""


class ProgressBar(StderrLine):
    """One updating line on stderr while a run goes, only when stderr is a terminal."""

    def __init__(self, enabled: bool = True) -> None:
        super().__init__(interval=0.1, enabled=enabled)
        self._began = time.monotonic()
        self._first_done: int | None = None
        self.last: Progress | None = None

    def __call__(self, progress: Progress) -> None:
        self.last = progress
        if self._first_done is None:
            self._first_done = progress.done
        self.show(lambda: self.line(progress), now=progress.done == progress.total)

    def line(self, progress: Progress) -> str:
        """`[#####-----] 120/2,000 pass 100 fail 15 error 5 $0.0123 40/s`."""
        share = progress.done / progress.total if progress.total else 1.0
        filled = round(share * _BAR)
        elapsed = time.monotonic() - self._began
        rate = (progress.done - (self._first_done or 0)) / elapsed if elapsed > 0 else 0.0
        return (
            f"[{'#' * filled}{'-' * (_BAR - filled)}] {progress.done:,}/{progress.total:,}"
            f"  pass {progress.passed:,} fail {progress.failed:,} error {progress.errored:,}"
            f"  {money(progress.cost_usd)}  {rate:.0f}/s"
        )


def say_estimate(run_id: int, model: str, estimate: Estimate) -> None:
    """The pre-flight estimate, on stderr, before anything is sent: the cost first, then
    the figures, folded to the terminal's width (`COLUMNS` when stderr is not one)."""
    from core.evals.runplan import describe_estimate

    say(f"run {run_id}: {inert(model)}, estimated cost {money(estimate.cost_usd)}")
    width = max(shutil.get_terminal_size().columns, 40)  # a sane fold on a tiny COLUMNS
    say(
        textwrap.fill(
            describe_estimate(estimate),
            width - 1,
            initial_indent="  ",
            subsequent_indent="  ",
            break_on_hyphens=False,
        )
    )


def print_outcome(outcome: RunOutcome, report: RunReport, tally: CaseTally | None = None) -> None:
    """A finished run: its summary (by case too, `tally`, when it repeated its cases), what
    this process spent, and the comparison."""
    print_run(outcome.run, tally=tally)
    spent = money(outcome.cost_usd)
    cached = outcome.estimate.cached  # the cache pass: answer and scoring, nothing sent
    from_cache = f", {cached:,} of them wholly from the cache (nothing sent)" if cached else ""
    typer.echo(
        f"  recorded {cases(outcome.sent)} in this process{from_cache},"
        f" spent {spent} (judge included)"
    )
    print_report(report)


def print_run(
    run: EvalRun, summary: RunSummary | None = None, tally: CaseTally | None = None
) -> None:
    """A run's header and its summary (`summary` for a run still running); a run that
    repeated its cases counts answers, then cases, repeats combined (`tally`)."""
    summary = summary or run.summary
    _echo_folded(
        f"run {run.id}: {inert(run.suite_name)} (version {run.suite_version[:10]}) on"
        f" {inert(run.model)} via {run.profile or '-'}, {run.status}{_took(run)}"
    )
    if summary is None:
        return
    rate = "-" if summary.pass_rate is None else f"{summary.pass_rate:.1%}"
    score = "-" if summary.mean_score is None else f"{summary.mean_score:.3f}"
    counts = f"passed {summary.passed:,}, failed {summary.failed:,}, errored {summary.errored:,}"
    if summary.recorded < run.cases_total:  # unfinished: the rate is of the recorded ones
        counts += (
            f": {summary.recorded:,} of {cases(run.cases_total)} recorded ({rate} of those passed)"
        )
    else:
        counts += f" of {run.cases_total:,}{' answers' if run.repeats > 1 else ''} ({rate} passed)"
    typer.echo(f"  {counts}, mean score {score}")
    if tally is not None and tally.repeats > 1:
        typer.echo(
            f"  by case (majority of {tally.repeats}): passed {tally.passed:,}, failed"
            f" {tally.failed:,}, errored {tally.errored:,} of {tally.cases:,}"
            f" ({_rate(tally.pass_rate)} passed)"
        )
    judge = summary.judge_cost_usd if summary.cost_usd else None  # nothing to split in $0
    typer.echo(
        f"  tokens {summary.prompt_tokens:,} in / {summary.completion_tokens:,} out,"
        f" cost {money(summary.cost_usd)}{'' if judge is None else f' (judge {money(judge)})'},"
        f" latency p50 {millis(summary.latency_p50_ms)}, p95 {millis(summary.latency_p95_ms)}"
    )


def print_report(report: RunReport) -> None:
    """The comparison with the baseline, the verdict and the notes."""
    comparison = report.comparison
    if report.baseline is not None:
        base, chosen_as = report.baseline.run, report.baseline.chosen_as
        how = "" if chosen_as == f"run {base.id}" else f" ({inert(chosen_as)})"
        _echo_folded(
            f"compared with run {base.id} of {inert(base.model)}{how},"
            f" {cases(comparison.paired, 'paired case')}:"
        )
        typer.echo(
            f"  pass rate {_rate(comparison.baseline_pass_rate)} -> "
            f"{_rate(comparison.candidate_pass_rate)} ({_points(comparison.pass_rate_delta)}),"
            f" mean score {_signed(comparison.score_delta, '.3f')}"
        )
        marks = case_marks(comparison)
        _ids("broke (pass -> fail)", comparison.broke, marks)
        _ids("fixed (fail -> pass)", comparison.fixed, marks)
        _ids("errored", comparison.errored)
        _ids("errored in the baseline (not compared)", comparison.baseline_errored)
        _ids("only in the baseline", comparison.only_in_baseline_ids)
        _ids("only in the candidate", comparison.only_in_candidate_ids)
        typer.echo(f"  McNemar exact p = {comparison.p_value:.3g} ({_significance(comparison)})")
        typer.echo(
            f"  latency p50 {_signed(comparison.latency_delta_ms('p50'), '.0f', ' ms')},"
            f" p95 {_signed(comparison.latency_delta_ms('p95'), '.0f', ' ms')};"
            f" cost {_signed_money(comparison.cost_delta_usd)}{_judge_left_out(report)}"
        )
    else:
        _ids("errored", comparison.candidate_errored_ids)
    _ids("critical failing", comparison.critical_failures)
    _echo_folded(verdict_line(report))
    for note in report.notes:
        _echo_folded(f"note: {inert(note)}")


def _judge_left_out(report: RunReport) -> str:
    """Says the cost compared is the answers' when a judge's calls are in either run's."""
    runs = [report.run, *([report.baseline.run] if report.baseline else [])]
    judged = any(run.summary and run.summary.judge_cost_usd is not None for run in runs)
    return " (the answers'; the judge's left out)" if judged else ""


def _echo_folded(line: str) -> None:
    """A long line of prose folded to the terminal's width when stdout is one (indented
    after its first line); whole when piped, for scripts and logs to read one item a line."""
    width = terminal_width()
    if width is None or len(line) < width:
        typer.echo(line)
        return
    typer.echo(
        textwrap.fill(
            line,
            width - 1,
            subsequent_indent="    ",
            break_on_hyphens=False,
            break_long_words=False,
        )
    )


def terminal_width() -> int | None:
    """The columns of the terminal stdout writes to, None when it is not one."""
    if not sys.stdout.isatty():
        return None
    return max(shutil.get_terminal_size().columns, 40)


def verdict_line(report: RunReport) -> str:
    """`verdict: ...`, with its reasons. Over flipped cases an `unchanged` verdict reads `not
    significant` (the pass rate may have moved a lot), and when no split of that many flips
    could be significant it says so, with the tolerance that gates on such a drop. An
    inconclusive verdict says why (`INCONCLUSIVE: 6 of 12 cases errored (no answer or no
    verdict)`)."""
    comparison = report.comparison
    if report.regression:
        return f"verdict: REGRESSION: {inert('; '.join(comparison.reasons))}"
    if comparison.verdict == "inconclusive":
        return f"verdict: INCONCLUSIVE: {comparison.inconclusive_because}"
    label = comparison.verdict_label
    if label != "not significant":
        return f"verdict: {label}"
    flips = (
        f"{len(comparison.broke):,} broke, {len(comparison.fixed):,} fixed of"
        f" {cases(comparison.paired, 'paired case')}"
        f" (pass rate {_points(comparison.pass_rate_delta)})"
    )
    p_value = f"McNemar p = {comparison.p_value:.3g}"
    if comparison.significance_reachable:
        return f"verdict: not significant: {flips}, {p_value}"
    gate = (
        "; --max-pass-rate-drop gates on it"
        if len(comparison.broke) > len(comparison.fixed)
        else ""
    )
    return (
        f"verdict: not significant (too few flipped cases to tell): {flips}, {p_value}, the"
        f" least {cases(len(comparison.broke) + len(comparison.fixed), 'flip')} can give{gate}"
    )


def _significance(comparison: Comparison) -> str:
    if comparison.significant:
        return "significant"
    if comparison.significance_reachable or not (comparison.broke or comparison.fixed):
        return "not significant"
    return f"not significant: alpha {comparison.alpha:g} is out of reach of so few flips"


def print_runs(runs: Sequence[EvalRun]) -> None:
    """A table of runs, newest first."""
    print_table(
        ["run", "suite", "model", "status", "started", "pass", "p/f/e", "score", "cost", "p50"],
        [_run_row(run) for run in runs],
        flexible=("suite", "model"),
        optional=("p50", "cost", "score"),
    )
    if any(run.is_baseline for run in runs):
        typer.echo(
            "* pinned baseline of its suite and model (the suite's newest pinned run is also"
            " the baseline of models with none)"
        )


def _run_row(run: EvalRun) -> list[object]:
    row: list[object] = [
        run.id,
        inert(run.suite_name),
        inert(run.model),
        run.status + (" *" if run.is_baseline else ""),
        _started(run.started_at),
    ]
    summary = run.summary
    if summary is None:
        return [*row, "-", "-", "-", "-", "-"]
    score = summary.mean_score
    counts = f"{summary.passed}/{summary.failed}/{summary.errored}"
    if summary.recorded < run.cases_total:  # an interrupted run: its rate is of fewer cases
        counts += f" of {run.cases_total}"
    return [
        *row,
        _rate(summary.pass_rate),
        counts,
        "-" if score is None else f"{score:.3f}",
        money(summary.cost_usd),
        millis(summary.latency_p50_ms),
    ]


def _started(stamp: str) -> str:
    """`MM-DD HH:MM` this year, `YYYY-MM-DD` before (as `ls -l` does): the table of runs
    then fits 80 columns."""
    shown = local_time(stamp)
    return shown[5:16] if shown[:4] == str(datetime.now().year) else shown[:10]


def print_results(results: Sequence[RecordedResult], repeats: int) -> None:
    """A table of case results with the first failed assertion and the answer's start."""
    rows = [
        [
            result.case_id if repeats == 1 else f"{result.case_id}#{result.repeat_index + 1}",
            result.status + (" !" if result.critical else ""),
            "-" if result.score is None else f"{result.score:.2f}",
            millis(result.latency_ms),
            excerpt(inert(_why(result)), _WHY_CHARS),  # cut to the width by the table
            excerpt(inert(result.output_text or ""), 40),
        ]
        for result in results
    ]
    print_table(
        ["case", "status", "score", "latency", "why", "answer"],
        rows,
        flexible=("why", "answer"),
        optional=("answer", "latency"),
    )


def _why(result: RecordedResult) -> str:
    if result.error:
        return result.error
    failed = [
        f"{item.get('type')}: {item.get('reason')}"
        for item in result.scores
        if not item.get("passed")
    ]
    return failed[0] if failed else ""


def _ids(label: str, ids: Sequence[str], marks: Mapping[str, str] | None = None) -> None:
    """`label (count): the first ids and N more`, each with its mark (`case_marks`)."""
    if not ids:
        return
    marks = marks or {}
    shown = ", ".join(inert(case_id) + marks.get(case_id, "") for case_id in ids[:_SHOWN_IDS])
    more = f" and {len(ids) - _SHOWN_IDS:,} more" if len(ids) > _SHOWN_IDS else ""
    typer.echo(f"  {label} ({len(ids):,}): {shown}{more}")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _points(delta: float | None) -> str:
    return "-" if delta is None else f"{delta * 100:+.1f} points"


def _signed(value: float | None, spec: str, unit: str = "") -> str:
    if value is None:
        return "-"
    shown = f"{value:+{spec}}"
    return (shown[1:] if float(shown) == 0 else shown) + unit  # 0, not -0 or +0


def _signed_money(value: float | None) -> str:
    if value is None:
        return "unknown"
    shown = money(abs(value))
    return shown if shown == "$0" else ("+" if value > 0 else "-") + shown


def _took(run: EvalRun) -> str:
    """` in 3.20 s`; for a resumed run, the time it ran, not the time it lay interrupted:
    ` in 3.20 s of running (resumed; 1 h 2 min from start to end)`."""
    ran = run.running_ms
    if ran is None or run.finished_at is None:
        return ""
    if run.resumed_at is None:
        return f" in {millis(ran)}"
    span = _span(elapsed_ms(run.started_at, run.finished_at))
    return f" in {_span(ran)} of running (resumed; {span} from start to end)"


def _span(ms: float) -> str:
    """A duration as a person reads it: `850 ms`, `3.20 s`, `4 min 5 s`, `2 h 1 min`."""
    if ms < 60_000:
        return millis(ms)
    minutes, seconds = divmod(round(ms / 1000), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {seconds} s"
