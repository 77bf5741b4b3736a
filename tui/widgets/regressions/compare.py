"""Two runs side by side: the report `tunedeck eval compare A B` prints, and one line per case.

Run A is the baseline, run B the candidate. The comparison is `core.evals.report`'s, so the
pane and the command line always agree; a case's line combines its repeats as the comparison
does (`combine_repeats`: majority pass), so its statuses agree with the flips and the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from core.evals.report import RunReport
from core.evals.stats import CaseOutcome, Comparison, combine_repeats
from storage.eval_records import CasePair, EvalRun, PairedResults, RecordedResult

Flip = Literal["broke", "fixed", ""]


@dataclass(frozen=True)
class CaseLine:
    """One case of a diff: its combined status in each run (`-` when it has no result)."""

    case_id: str
    a: str
    b: str
    a_score: float | None
    b_score: float | None
    critical: bool
    flip: Flip
    results_a: tuple[RecordedResult, ...]
    results_b: tuple[RecordedResult, ...]

    @property
    def regression(self) -> bool:
        """Passed in A and fails in B, or a critical case failing in B."""
        return self.flip == "broke" or (self.critical and self.b in ("fail", "error"))


@dataclass(frozen=True)
class RunDiff:
    """Everything the diff view shows."""

    a: EvalRun
    b: EvalRun
    comparison: Comparison
    notes: tuple[str, ...]
    """What the reader should know: unpaired cases, another suite version, a run that did
    not complete."""
    lines: list[CaseLine]

    def regressions(self) -> list[CaseLine]:
        """The lines of cases that broke, and of critical cases failing in B."""
        return [line for line in self.lines if line.regression]


def outcome(result: RecordedResult) -> CaseOutcome:
    """A stored result as the comparison takes it (as `core.evals.report.outcomes` makes
    them): an error counts as a failure, scoring 0."""
    return CaseOutcome(
        case_id=result.case_id,
        passed=result.status == "pass",
        score=result.score or 0.0,
        critical=result.critical,
        errored=result.status == "error",
        latency_ms=result.latency_ms,
        cost_usd=result.cost_usd,
    )


def diff_runs(a: EvalRun, report: RunReport, results: PairedResults) -> RunDiff:
    """The diff of `report` (run B against baseline A) with the two runs' `results`."""
    pairs = sorted([*results.paired, *results.only_a, *results.only_b], key=_case_id)
    comparison = report.comparison
    broke, fixed = set(comparison.broke), set(comparison.fixed)
    lines = [_line(pair, broke, fixed) for pair in pairs]
    notes = [*report.notes, *_status_notes(a, report.run)]
    return RunDiff(a, report.run, comparison, tuple(notes), lines)


def _status_notes(*runs: EvalRun) -> list[str]:
    return [
        f"run {run.id} is {run.status}: only its recorded cases count"
        for run in runs
        if run.status != "completed"
    ]


def _case_id(pair: CasePair) -> str:
    return pair.case_id


def _line(pair: CasePair, broke: set[str], fixed: set[str]) -> CaseLine:
    a, b = _combined(pair.a), _combined(pair.b)
    flip: Flip = "broke" if pair.case_id in broke else "fixed" if pair.case_id in fixed else ""
    return CaseLine(
        case_id=pair.case_id,
        a=_status(a),
        b=_status(b),
        a_score=a.score if a else None,
        b_score=b.score if b else None,
        critical=any(result.critical for result in (*pair.a, *pair.b)),
        flip=flip,
        results_a=pair.a,
        results_b=pair.b,
    )


def _combined(results: Sequence[RecordedResult]) -> CaseOutcome | None:
    return combine_repeats([outcome(r) for r in results]) if results else None


def _status(combined: CaseOutcome | None) -> str:
    if combined is None:
        return "-"
    if combined.errored:
        return "error"
    return "pass" if combined.passed else "fail"
