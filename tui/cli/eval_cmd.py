"""`tunedeck eval`: run suites against models, resume runs, list, show and compare them.

Exit codes of `eval run`, `eval resume` and `eval compare`:

- 0: the run completed (failing cases are results, not errors);
- 1: `--fail-on-regression` and the verdict is a regression (a failing or errored critical
  case, a significant drop of the pass rate of the pairs both runs answered, or a drop beyond
  `--max-pass-rate-drop` / `--max-score-drop`) or inconclusive (errored cases, no answer to
  judge), or no case got an answer at all
  (every request failed: a wrong model or endpoint must not pass a CI gate); 1 as well when
  a budget or `--max-cost` stops the run (it is kept `interrupted`, to be resumed);
- 2: bad input: a bad suite, an unknown run or baseline, bad options, an estimate above
  `--max-cost`; nothing is sent;
- 130: interrupted (Ctrl-C); the run is kept `interrupted`, `eval resume RUN` finishes it.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.errors import BadInput
from tui.cli.eval_flow import (
    announcer,
    conclude,
    run_until_done,
    stopped_writer,
    with_status_notes,
)
from tui.cli.eval_output import (
    ProgressBar,
    print_report,
    print_results,
    print_run,
    print_runs,
)
from tui.cli.output import print_json, say
from tui.engine import engine
from tui.text import inert

if TYPE_CHECKING:
    from core.evals.stats import RegressionPolicy
    from core.evals.suite import Suite
    from core.settings import Settings
    from storage.evals import EvalStore

eval_app = typer.Typer(
    help="Evaluate models on suites, detect regressions against a baseline.",
    no_args_is_help=True,
)

RunId = Annotated[int, typer.Argument(help="A run id (see `tunedeck eval runs`).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Concurrency = Annotated[
    int | None,
    typer.Option("--concurrency", "-c", help="Requests in flight (default 8)."),
]
BaselineSpec = Annotated[
    str | None,
    typer.Option(
        "--baseline", "-b", help="A run id, or a model (its pinned or latest completed run)."
    ),
]
FailOnRegression = Annotated[
    bool,
    typer.Option(
        "--fail-on-regression", help="Exit 1 when the verdict is a regression or inconclusive."
    ),
]
MaxCost = Annotated[
    float | None,
    typer.Option("--max-cost", help="Refuse when the estimate is above; stop once spent (USD)."),
]
Junit = Annotated[Path | None, typer.Option("--junit", help="Write a JUnit XML report here.")]
Alpha = Annotated[
    float, typer.Option("--alpha", min=0.0, max=1.0, help="Significance level of McNemar's test.")
]
MaxRateDrop = Annotated[
    float | None,
    typer.Option(
        "--max-pass-rate-drop", min=0.0, max=1.0, help="Tolerated pass-rate drop (0.02 = 2 points)."
    ),
]
MaxScoreDrop = Annotated[
    float | None,
    typer.Option("--max-score-drop", min=0.0, max=1.0, help="Tolerated mean-score drop (0-1)."),
]


@eval_app.command("run")
def eval_run(
    suite: Annotated[
        Path, typer.Argument(help="A suite: tunedeck YAML/JSONL or promptfoo config.")
    ],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model to evaluate (default: the suite's).")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="Endpoint profile.")
    ] = None,
    concurrency: Concurrency = None,
    repeat: Annotated[int, typer.Option("--repeat", help="Answers per case (majority).")] = 1,
    baseline: BaselineSpec = None,
    fail_on_regression: FailOnRegression = False,
    max_cost: MaxCost = None,
    junit: Junit = None,
    as_json: AsJson = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor fill the cache.")
    ] = False,
    judge_model: Annotated[
        str | None,
        typer.Option(
            "--judge-model", help="Grades llm-rubric (default: the suite's judge, else --model)."
        ),
    ] = None,
    alpha: Alpha = 0.05,
    max_pass_rate_drop: MaxRateDrop = None,
    max_score_drop: MaxScoreDrop = None,
) -> None:
    """Run a suite against a model, record every result, compare with a baseline.

    Exit 0 when the run completed, 1 on a regression or an inconclusive verdict (errored
    cases) with --fail-on-regression or when no case got an answer, 2 on bad input (nothing
    sent), 130 when interrupted (`tunedeck eval resume RUN` finishes it).
    """
    from core.evals.loader import load_suite
    from core.evals.report import baseline_for_run
    from core.evals.runner import DEFAULT_CONCURRENCY, RunOptions, run_suite
    from core.evals.runplan import judge_warnings

    _check_junit(junit)
    work = engine()
    loaded = load_suite(suite)
    for warning in loaded.warnings:
        say(f"tunedeck: warning: {suite}: {warning}")
    chosen = _suite_model(suite, loaded, work.settings, profile) if model is None else model
    policy = _policy(alpha, max_pass_rate_drop, max_score_drop)
    evals = _evals()
    found, unfit = baseline_for_run(evals, loaded, chosen, baseline)
    if unfit is not None:
        say(f"tunedeck: warning: {unfit}")
    options = RunOptions(
        model=chosen,
        profile=profile,
        concurrency=DEFAULT_CONCURRENCY if concurrency is None else concurrency,
        repeats=repeat,
        cache="off" if no_cache else "use",
        judge_model=judge_model,
        max_cost_usd=max_cost,
        baseline_run_id=None if found is None else found.run.id,
    )
    for warning in judge_warnings(loaded, options):
        say(f"tunedeck: warning: {warning}")
    with ProgressBar(enabled=not as_json) as bar:
        start = announcer(chosen, as_json)
        stopped = stopped_writer(evals, found, policy, junit, as_json)
        outcome = run_until_done(run_suite(work.client, loaded, options, bar, start), bar, stopped)
    conclude(evals, outcome, found, policy, junit, as_json, fail_on_regression)


@eval_app.command("resume")
def eval_resume(
    run_id: RunId,
    concurrency: Concurrency = None,
    baseline: BaselineSpec = None,
    fail_on_regression: FailOnRegression = False,
    max_cost: MaxCost = None,
    junit: Junit = None,
    as_json: AsJson = False,
    alpha: Alpha = 0.05,
    max_pass_rate_drop: MaxRateDrop = None,
    max_score_drop: MaxScoreDrop = None,
    retry_errors: Annotated[
        bool,
        typer.Option(
            "--retry-errors", help="Send its errored cases again too (a completed run's as well)."
        ),
    ] = False,
) -> None:
    """Finish an interrupted run (Ctrl-C, kill, crash) without re-sending finished cases."""
    from core.evals.baselines import baseline_for_resume
    from core.evals.runner import resume_run

    _check_junit(junit)
    work = engine()
    evals = _evals()
    run = evals.run(run_id)
    if run is None:
        raise BadInput(f"no evaluation run has id {run_id}")
    policy = _policy(alpha, max_pass_rate_drop, max_score_drop)
    found = baseline_for_resume(evals, run, baseline)
    with ProgressBar(enabled=not as_json) as bar:
        start = announcer(run.model, as_json)
        resuming = resume_run(
            work.client,
            run_id,
            bar,
            start,
            concurrency=concurrency,
            max_cost_usd=max_cost,
            retry_errors=retry_errors,
        )
        stopped = stopped_writer(evals, found, policy, junit, as_json)
        outcome = run_until_done(resuming, bar, stopped)
    for warning in outcome.warnings:
        say(f"tunedeck: warning: {warning}")
    conclude(evals, outcome, found, policy, junit, as_json, fail_on_regression)


@eval_app.command("runs")
def eval_runs(
    suite: Annotated[str | None, typer.Option("--suite", "-s", help="Only this suite.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this model.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Runs shown.")] = 50,
    as_json: AsJson = False,
) -> None:
    """Runs newest first (runs whose process died are marked interrupted)."""
    evals = _evals()
    evals.mark_interrupted_dead_runs()
    runs = evals.runs(suite_name=suite, model=model, limit=limit)
    if as_json:
        print_json(runs)
    elif not runs:
        say("no evaluation runs" + (" match" if suite or model else " yet"))
    else:
        print_runs(runs)


@eval_app.command("show")
def eval_show(
    run_id: RunId,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only failed and errored cases.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Cases shown.")] = 200,
    as_json: AsJson = False,
) -> None:
    """A run's summary and its cases, with the reasons of failures."""
    from core.evals.report import all_results
    from core.evals.tally import case_tally

    evals = _evals()
    evals.mark_interrupted_dead_runs()
    run = evals.run(run_id)
    if run is None:
        raise BadInput(f"no evaluation run has id {run_id}")
    summary = run.summary or evals.progress(run_id)
    statuses: list[str | None] = ["fail", "error"] if failed else [None]
    results = [r for status in statuses for r in islice(all_results(evals, run_id, status), limit)]
    tally = case_tally(evals, run_id, run.repeats) if run.repeats > 1 else None
    if as_json:
        by_case = tally.as_dict() if tally else None
        print_json({"run": run, "summary": summary, "by_case": by_case, "results": results})
        return
    print_run(run, summary, tally)
    if results:
        print_results(results, run.repeats)
    shown = len(results)
    if shown == limit * len(statuses):
        first = "result" if limit == 1 else f"{limit:,} results"
        say(f"showing the first {first} of each kind; --limit shows more")


@eval_app.command("compare")
def eval_compare(
    baseline_run: Annotated[int, typer.Argument(help="The baseline run (A).")],
    candidate_run: Annotated[int, typer.Argument(help="The candidate run (B).")],
    fail_on_regression: FailOnRegression = False,
    as_json: AsJson = False,
    alpha: Alpha = 0.05,
    max_pass_rate_drop: MaxRateDrop = None,
    max_score_drop: MaxScoreDrop = None,
) -> None:
    """Compare run B with run A: flips, McNemar's test, latency and cost, the verdict."""
    from core.evals.baselines import check_comparable
    from core.evals.report import Baseline, build_report

    evals = _evals()
    base, candidate = (evals.run(run_id) for run_id in (baseline_run, candidate_run))
    for run_id, found in ((baseline_run, base), (candidate_run, candidate)):
        if found is None:
            raise BadInput(f"no evaluation run has id {run_id}")
    assert base is not None and candidate is not None
    policy = _policy(alpha, max_pass_rate_drop, max_score_drop)
    check_comparable(evals, base, candidate)
    report = build_report(evals, candidate, Baseline(base, f"run {base.id}"), policy)
    report = with_status_notes(report)
    if as_json:
        print_json(report.as_dict())
    else:
        print_run(candidate)
        print_report(report)
    if fail_on_regression and not report.gate_passed:
        raise typer.Exit(1)


@eval_app.command("baseline")
def eval_baseline(
    run_id: RunId,
    clear: Annotated[bool, typer.Option("--clear", help="Unpin the run instead.")] = False,
) -> None:
    """Pin a completed run as the baseline of its suite and model (or unpin it).

    A run of a model with no pin of its own is compared, by default, with the suite's newest
    pinned run, of any model: the message names which runs compare with which pin now.
    """
    from core.evals.report import pin_note
    from storage.eval_records import EvalStorageError

    evals = _evals()
    run = evals.run(run_id)
    if run is None:
        raise BadInput(f"no evaluation run has id {run_id}")
    if clear:
        evals.clear_baseline(run_id)
        if not run.is_baseline:
            say(f"run {run_id} was not a baseline")
            return
        say(f"run {run_id} is no longer a baseline: {inert(pin_note(evals, run))}")
        return
    try:
        evals.set_baseline(run_id)
    except EvalStorageError as error:
        raise BadInput(str(error)) from None
    shown = f"run {run_id} is the baseline of {run.suite_name} for {run.model}"
    say(inert(f"{shown}: {pin_note(evals, run)}"))


def _evals() -> EvalStore:
    from storage.evals import EvalStore

    return EvalStore(engine().store)


def _suite_model(path: Path, suite: Suite, settings: Settings, profile: str | None) -> str:
    """The model a run of `suite` uses without `--model`: the one the suite names, else the
    profile's configured `default_model`.

    Raises:
        BadInput: the suite names only providers that are not OpenAI-compatible, or neither
            the suite nor the profile names a model.
    """
    if suite.default_model:
        return suite.default_model
    if suite.providers:  # named, but none is a model this can send to
        shown = ", ".join(suite.providers)
        raise BadInput(f"{path}: no provider of the suite is OpenAI's ({shown}): pass --model")
    configured = _configured_model(settings, profile)
    if not configured:
        raise BadInput(
            f"{path}: the suite names no model, nor does the profile (default_model): pass --model"
        )
    return configured


def _configured_model(settings: Settings, profile: str | None) -> str | None:
    """The profile's `default_model` when its configuration sets one (not the built-in
    default: a suite is not run against a model nobody named)."""
    _, chosen = settings.resolve_profile(profile)
    return chosen.default_model if "default_model" in chosen.model_fields_set else None


def _check_junit(junit: Path | None) -> None:
    if junit is not None:
        from core.evals.junit import check_junit_path

        check_junit_path(junit)


def _policy(alpha: float, rate_drop: float | None, score_drop: float | None) -> RegressionPolicy:
    from core.evals.stats import RegressionPolicy

    return RegressionPolicy(alpha=alpha, max_pass_rate_drop=rate_drop, max_score_drop=score_drop)
