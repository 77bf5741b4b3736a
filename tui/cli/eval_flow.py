"""How `eval run` and `eval resume` go on and end: a run stopped early (Ctrl-C, a budget,
`--max-cost`) says how to resume it and still gives `--json` and `--junit` their report, and a
finished run its report, JUnit and exit code (see `tui.cli.eval_cmd` for the codes)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from core.errors import BudgetExceeded, TunedeckError
from tui.cli.eval_output import ProgressBar, print_outcome, say_estimate
from tui.cli.output import print_json, say

if TYPE_CHECKING:
    from core.evals.report import Baseline, RunReport
    from core.evals.runner import RunOutcome
    from core.evals.stats import RegressionPolicy
    from storage.evals import EvalStore


def announcer(model: str, quiet: bool) -> Any:
    def announce(run_id: int, estimate: Any) -> None:
        if not quiet:
            say_estimate(run_id, model, estimate)

    return announce


def run_until_done(
    coroutine: Coroutine[Any, Any, RunOutcome],
    bar: ProgressBar,
    on_stop: Callable[[int, str], None],
) -> RunOutcome:
    """Run the coroutine; when it stops early (Ctrl-C, a budget refusal, `--max-cost`) say how
    to resume the run, which the runner has marked interrupted, and tell `on_stop` the run's
    id and why it stopped."""
    from tui.cli.heap import settle_for_long_work

    settle_for_long_work()
    try:
        return asyncio.run(coroutine)
    except (KeyboardInterrupt, TunedeckError) as stopped:
        bar.clear()
        progress = bar.last
        if progress is None:
            raise
        say(
            f"tunedeck: run {progress.run_id} interrupted after {progress.done:,} of"
            f" {progress.total:,} cases; finish it with `tunedeck eval resume {progress.run_id}`"
        )
        if isinstance(stopped, BudgetExceeded):
            why = _budget_hint(stopped, progress.run_id)
            on_stop(progress.run_id, why)
            say(f"tunedeck: error: {why}")
            raise typer.Exit(stopped.exit_code) from None
        on_stop(progress.run_id, str(stopped) or "interrupted (Ctrl-C)")
        if isinstance(stopped, TunedeckError):
            raise  # its own line and exit code (--max-cost reached: 1)
        raise typer.Exit(130) from None


def stopped_writer(
    evals: EvalStore,
    found: Baseline | None,
    policy: RegressionPolicy,
    junit: Path | None,
    as_json: bool,
) -> Callable[[int, str], None]:
    """What `--json` and `--junit` get when a run stops early: its report so far, and in the
    JSON `stopped` saying why (a CI job reads them whether the run finished or not)."""

    def write(run_id: int, why: str) -> None:
        from core.evals.junit import write_junit
        from core.evals.report import all_results, build_report

        run = evals.run(run_id)
        if run is None or not (as_json or junit):
            return
        report = with_status_notes(build_report(evals, run, found, policy))
        if junit is not None:
            write_junit(junit, run, all_results(evals, run.id), report)
        if as_json:
            print_json({**report.as_dict(), "stopped": why})

    return write


def _budget_hint(refused: BudgetExceeded, run_id: int) -> str:
    """A budget's refusal with what to do about it in a run: the client's hint
    (`--over-budget`) is for a single call and means nothing to `eval`."""
    from core.budgets.guard import reason_of

    reason = reason_of(str(refused))
    raise_it = f"tunedeck budget set {refused.budget} --limit USD --period {refused.period}"
    return (
        f"{reason}; raise its limit (`{raise_it}`) or wait for its next period, then"
        f" `tunedeck eval resume {run_id}`"
    )


def conclude(
    evals: EvalStore,
    outcome: RunOutcome,
    found: Baseline | None,
    policy: RegressionPolicy,
    junit: Path | None,
    as_json: bool,
    fail_on_regression: bool,
) -> None:
    from core.evals.junit import write_junit
    from core.evals.report import all_results, build_report
    from core.evals.tally import case_tally

    run = outcome.run
    report = build_report(evals, run, found, policy)
    tally = case_tally(evals, run.id, run.repeats) if run.repeats > 1 else None
    if junit is not None:
        write_junit(junit, run, all_results(evals, run.id), report)
    if as_json:
        print_json(
            {
                **report.as_dict(),
                "sent": outcome.sent,
                "spent_usd": outcome.cost_usd,
                "estimate": outcome.estimate,
                "warnings": list(outcome.warnings),
                "by_case": tally.as_dict() if tally else None,
            }
        )
    else:
        print_outcome(outcome, report, tally)
    summary = run.summary
    if summary is not None and summary.recorded and summary.errored == summary.recorded:
        answered = any(result.output_text is not None for result in all_results(evals, run.id))
        what = "could be judged (each answer's grading failed)" if answered else "got an answer"
        say(f"tunedeck: error: no case of run {run.id} {what} (see `eval show {run.id}`)")
        raise typer.Exit(1)
    if fail_on_regression and not report.gate_passed:
        raise typer.Exit(1)


def with_status_notes(report: RunReport) -> RunReport:
    from dataclasses import replace

    notes = list(report.notes)
    runs = [report.run] + ([report.baseline.run] if report.baseline else [])
    for run in runs:
        if run.status != "completed":
            notes.append(f"run {run.id} is {run.status}: only its recorded cases count")
    return replace(report, notes=tuple(notes))
