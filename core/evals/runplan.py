"""What a run is asked to do and what it gives back: options, progress, outcome, and the
pre-flight estimate checked against a cost ceiling (`core.evals.runner` runs it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from core.errors import BadInput
from core.evals.comparison_notes import cases as counted
from core.evals.estimate import Estimate, JudgeRequest, estimate_suite
from core.evals.suite import Case, Suite
from core.params import RequestParams
from core.results import CacheMode
from core.settings import Profile
from storage.eval_records import EvalRun

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 256
MAX_REPEATS = 100


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a suite.

    Attributes:
        model: the model under evaluation.
        profile: the endpoint profile (None: the default one).
        concurrency: requests in flight at once.
        repeats: answers per case (`--repeat K`); a case's verdict is the majority.
        cache: `use` (read and fill the cache) or `off` (`--no-cache`).
        judge_model: grades `llm-rubric` assertions (None: the suite's judge, else the run's
            model: `judge_of`).
        max_cost_usd: refuse the run when its estimate is above this, and stop it when what
            it spent reaches this (None: no ceiling).
        baseline_run_id: the run it will be compared with, recorded with the run.
        params: request parameters (None: the suite's).
    """

    model: str
    profile: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    repeats: int = 1
    cache: CacheMode = "use"
    judge_model: str | None = None
    max_cost_usd: float | None = None
    baseline_run_id: int | None = None
    params: RequestParams | None = None

    def check(self) -> None:
        """Refuse values out of range.

        Raises:
            BadInput: naming the option and its range.
        """
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise BadInput(f"concurrency must be 1 to {MAX_CONCURRENCY}, not {self.concurrency}")
        if not 1 <= self.repeats <= MAX_REPEATS:
            raise BadInput(f"repeat must be 1 to {MAX_REPEATS}, not {self.repeats}")
        if self.max_cost_usd is not None and self.max_cost_usd < 0:
            raise BadInput(f"max cost must be 0 or more, not {self.max_cost_usd}")
        if self.cache not in ("use", "off"):
            raise BadInput(f"an evaluation run's cache is 'use' or 'off', not {self.cache!r}")
        if not self.model.strip():
            raise BadInput("no model to evaluate: --model is empty")
        if self.judge_model is not None and not self.judge_model.strip():
            raise BadInput("--judge-model is empty: name a model, or leave it out")


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a run stands, given to the progress callback at the start and after each commit
    of results (one result, a batch, or a chunk answered from the cache).

    `done` and the counts include results recorded before a resume; `cost_usd` is what this
    process has spent so far (answers and judge calls, cache hits at 0), None when a call's
    model has no price.
    """

    run_id: int
    done: int
    total: int
    passed: int
    failed: int
    errored: int
    cost_usd: Decimal | None


ProgressCallback = Callable[[Progress], None]
StartCallback = Callable[[int, Estimate], None]
"""Called with the run id and the estimate once the run is recorded, before anything is sent."""


@dataclass(frozen=True)
class RunOutcome:
    """A finished (completed) run and what this process did for it.

    Attributes:
        run: the run as stored, with its summary.
        estimate: the pre-flight estimate of the pairs this process sent.
        sent: pairs answered by this process (all of them unless it was resumed).
        cost_usd: what this process spent, judge included (None: a call was not priced).
        warnings: the suite's warnings, a judge that is the model under test, and a
            changed suite file on resume.
    """

    run: EvalRun
    estimate: Estimate
    sent: int
    cost_usd: Decimal | None
    warnings: tuple[str, ...] = ()


def preflight(
    suite: Suite,
    options: RunOptions,
    profile: Profile,
    cases: list[Case],
    cached: int = 0,
    judge_requests: Sequence[JudgeRequest] = (),
) -> Estimate:
    """The estimate of sending `cases` (one entry per repeat), checked against the ceiling;
    `cached` more pairs are answered from the cache, at no cost, but for the
    `judge_requests` their verdicts still need.

    Raises:
        BadInput: the estimate is above `options.max_cost_usd`, or unknown while a ceiling
            is set; the message gives the figures.
    """
    estimate = estimate_suite(
        suite,
        options.model,
        profile,
        cases=cases,
        params=options.params or suite.params,
        judge_model=judge_of(suite, options),
        judge_requests=judge_requests,
    )
    estimate = replace(estimate, cached=cached)
    ceiling = options.max_cost_usd
    if ceiling is None:
        return estimate
    if estimate.cost_usd is None:
        raise BadInput(
            f"--max-cost {_usd(ceiling)}: the cost of this run cannot be estimated"
            f" ({options.model} or its judge has no known price); nothing was sent"
        )
    if estimate.cost_usd > Decimal(str(ceiling)):
        raise BadInput(
            f"estimated cost ${estimate.cost_usd:.4f} is above --max-cost ${_usd(ceiling)}"
            f" ({describe_estimate(estimate)}); nothing was sent"
        )
    return estimate


def judge_of(suite: Suite, options: RunOptions) -> str:
    """The model that grades a run's `llm-rubric` assertions: `--judge-model`, else the one
    the suite names, else the model under test."""
    return options.judge_model or suite.judge_model or options.model


def judge_warnings(suite: Suite, options: RunOptions) -> tuple[str, ...]:
    """A warning when the suite's `llm-rubric` assertions are graded by the model under test
    (no other judge chosen): a model grading its own answers tends to pass them."""
    if judge_of(suite, options) != options.model:
        return ()
    assertions = (item for case in suite.cases for item in case.assertions)
    if not any(item.base_type == "llm-rubric" for item in assertions):
        return ()
    return (
        f"llm-rubric: graded by {options.model}, the model under test, grading its own"
        " answers; choose another judge with --judge-model",
    )


def _usd(amount: float) -> str:
    """A dollar amount as typed, never in scientific notation (`0.0000001`, `10`)."""
    return format(Decimal(str(amount)).normalize(), "f")


def describe_estimate(estimate: Estimate) -> str:
    """The estimate's figures in words, for a refusal or a notice."""
    if not estimate.calls and not estimate.judge_calls and estimate.cached:
        return f"nothing to send: {estimate.cached:,} answered from the cache, at no cost"
    output = "at most" if estimate.output_basis == "max_tokens" else "about"
    text = (
        f"{counted(estimate.calls, 'call')}, {counted(estimate.input_tokens, 'input token')}"
        f"{'' if estimate.exact else ' (estimated)'}, {output}"
        f" {counted(estimate.output_tokens, 'output token')}"
    )
    if estimate.judge_calls:
        text += f", {counted(estimate.judge_calls, 'judge call')}"
    if estimate.cached:
        text += f"; {estimate.cached:,} answered from the cache, at no cost"
    return text
