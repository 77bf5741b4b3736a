"""Plain records of the evaluation history, and the errors its store raises.

They mirror the `eval_suites`, `eval_runs` and `eval_results` tables (migration `m005_evals`);
the domain layer (`core/evals`) converts its own objects to and from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RESULT_STATUSES = ("pass", "fail", "error")
RUN_STATUSES = ("running", "completed", "interrupted", "failed")
FINAL_RUN_STATUSES = ("completed", "interrupted", "failed")


class EvalStorageError(Exception):
    """A request the evaluation history cannot honour; the message is one line for the user."""


class UnknownRun(EvalStorageError, LookupError):
    """No run has this id."""


class UnknownSuite(EvalStorageError, LookupError):
    """No suite version has this id."""


class DuplicateResult(EvalStorageError):
    """A case (and repeat) of a run was already recorded: a run never records a case twice."""


class RunStateError(EvalStorageError):
    """The run is not in a state that allows this (recording into a finished run, resuming a
    run that another live process is running, pinning an unfinished run...)."""


@dataclass(frozen=True, kw_only=True)
class SuiteVersion:
    """One version of a suite file, normalised (`content`), as a run saw it."""

    name: str
    version: str
    """SHA-256 hex of the suite file: a changed file is a new version."""
    format: str
    """`native` or `promptfoo`."""
    content: Any
    """The normalised suite as JSON-ready values, so a run can be inspected or resumed even
    after the file changed."""
    case_count: int
    created_at: str
    path: str | None = None
    dataset_id: int | None = None
    """The held-out dataset version the suite was made from (lineage), if any."""


@dataclass(frozen=True, kw_only=True)
class StoredSuite(SuiteVersion):
    """A saved suite version with its id."""

    id: int


@dataclass(frozen=True, kw_only=True)
class SuiteListing:
    """A suite name for the Regressions pane's list: its newest version and its runs."""

    name: str
    latest_suite_id: int
    latest_version: str
    format: str
    case_count: int
    path: str | None
    versions: int
    run_count: int
    """Runs of every version of the suite."""
    last_run_at: str | None


@dataclass(frozen=True, kw_only=True)
class RunStart:
    """What is known of a run before its first case is sent."""

    suite_id: int
    model: str
    started_at: str
    pid: int
    """The process running it: a `running` run whose process is gone was interrupted."""
    cases_total: int
    """Results the run plans to record: cases times repeats."""
    profile: str | None = None
    endpoint: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    concurrency: int | None = None
    repeats: int = 1
    baseline_run_id: int | None = None
    adapter_id: str | None = None
    """The fine-tuning job or adapter the model came from (lineage), free text."""


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    """Figures of a run's recorded results.

    Tokens leave out cache hits (what was sent to a model, as in the Usage pane). `cost_usd`
    is None when an answered case has an unknown cost: never a silent 0. The mean score counts
    an error (or a result without a score) as 0. Latency percentiles (linear interpolation
    between closest ranks) cover the answered cases (pass or fail), not the errors.
    """

    passed: int = 0
    failed: int = 0
    errored: int = 0
    mean_score: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    judge_cost_usd: float | None = None
    """The `llm-rubric` judge's part of `cost_usd` (None when no judge was asked, or when
    the cost is unknown; results recorded before it was kept apart count as none)."""

    @property
    def recorded(self) -> int:
        """Results recorded (passed, failed or errored)."""
        return self.passed + self.failed + self.errored

    @property
    def pass_rate(self) -> float | None:
        """Passed results per recorded result (an error counts as a failure), None if none."""
        return self.passed / self.recorded if self.recorded else None


@dataclass(frozen=True, kw_only=True)
class EvalRun(RunStart):
    """A run of a suite version against a model, with its summary once it has finished."""

    id: int
    suite_name: str
    suite_version: str
    status: str
    """`running`, `completed`, `interrupted` or `failed`."""
    finished_at: str | None = None
    is_baseline: bool = False
    """Pinned as the baseline of its suite name and model."""
    summary: RunSummary | None = None
    """None while the run is running (see `EvalStore.progress`)."""
    resumed_at: str | None = None
    """When the run was last resumed (None: never)."""
    earlier_ms: float = 0.0
    """How long the run ran before it was last resumed (its earlier sessions)."""

    @property
    def running_ms(self) -> float | None:
        """How long the run ran, its sessions added (not the time it lay interrupted in
        between); None until it has finished."""
        if self.finished_at is None:
            return None
        return self.earlier_ms + elapsed_ms(self.resumed_at or self.started_at, self.finished_at)


@dataclass(frozen=True, kw_only=True)
class CaseResult:
    """The outcome of one case (one repeat of it) in a run."""

    case_id: str
    status: str
    """`pass`, `fail` or `error`."""
    finished_at: str
    repeat_index: int = 0
    score: float | None = None
    """0..1; None when the case errored before it could be scored."""
    critical: bool = False
    tags: tuple[str, ...] = ()
    output_text: str | None = None
    scores: list[dict[str, Any]] = field(default_factory=list)
    """One `{type, passed, score, reason}` per assertion."""
    error: str | None = None
    latency_ms: float | None = None
    cost_usd: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cache_hit: bool = False
    call_id: int | None = None
    """The request log row (`calls.id`) of the answer."""
    judge_cost_usd: float | None = None
    """The part of `cost_usd` its `llm-rubric` judge calls cost (0 when their verdicts came
    from the cache); None when no judge was asked or its price is unknown."""


@dataclass(frozen=True, kw_only=True)
class RecordedResult(CaseResult):
    """A case result as stored, with its id and run."""

    id: int
    run_id: int


@dataclass(frozen=True)
class CasePair:
    """The results of one case in two runs (a tuple per run: one element per repeat)."""

    case_id: str
    a: tuple[RecordedResult, ...]
    b: tuple[RecordedResult, ...]


@dataclass(frozen=True)
class PairedResults:
    """Two runs' results matched by case id, for a comparison.

    `paired` holds the cases recorded in both runs; `only_a` and `only_b` those recorded in one
    run only (a suite changed between versions, or a run was interrupted). Each list is ordered
    by case id.
    """

    paired: list[CasePair]
    only_a: list[CasePair]
    only_b: list[CasePair]


@dataclass(frozen=True)
class HistoryPoint:
    """One completed run in a suite's pass-rate history."""

    run_id: int
    started_at: str
    suite_version: str
    pass_rate: float | None
    mean_score: float | None


def elapsed_ms(start: str, end: str) -> float:
    """Milliseconds from one stored time (ISO 8601, UTC) to another, at least 0."""
    began, ended = (datetime.fromisoformat(stamp.replace("Z", "+00:00")) for stamp in (start, end))
    return max((ended - began).total_seconds() * 1000, 0.0)
