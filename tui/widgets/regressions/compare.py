"""Two runs side by side: the report `tunedeck eval compare A B` prints, and one line per case.

Run A is the baseline, run B the candidate. The comparison is `core.evals.report`'s, so the
pane and the command line always agree; a case's line combines its repeats as the comparison
does (`combine_repeats`: majority pass), so its statuses agree with the flips and the verdict.
Both come from one read of each run's results (`read_diff`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from core.evals.casechanges import case_changes
from core.evals.report import NO_CHANGES, Baseline, RunReport, outcome_of, report_of_results
from core.evals.stats import CaseChanges, Comparison, combine_repeats
from storage.eval_records import CasePair, EvalRun, PairedResults, RecordedResult

if TYPE_CHECKING:
    from storage.evals import EvalStore

Flip = Literal["broke", "fixed", "errored", ""]
"""`errored`: B got no answer (not a flip of the model's: see `Comparison.errored`)."""
Changed = Literal["checks", "input", ""]


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
    changed: Changed = ""
    """What changed in the case between the runs' suite versions (see `case_changes`)."""

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


class RunGone(LookupError):
    """A run of the diff is not in the database (deleted meanwhile): `run #12 is gone`."""


def read_diff(evals: EvalStore, a_id: int, b_id: int) -> RunDiff:
    """Compare run `b_id` with run `a_id` as `tunedeck eval compare A B` does, reading each
    run's results once (for the comparison and the lines both).

    Raises:
        RunGone: either run is not in the database.
    """
    a, b = evals.run(a_id), evals.run(b_id)
    if a is None or b is None:
        missing = [f"#{run_id}" for run_id, run in ((a_id, a), (b_id, b)) if run is None]
        raise RunGone(f"run {' and '.join(missing)} is gone")
    pairs = _by_case_id(evals.paired_results(a.id, b.id))
    report = report_of_results(
        b,
        Baseline(a, f"run {a.id}"),
        [result for pair in pairs for result in pair.b],
        [result for pair in pairs for result in pair.a],
        changes=_changes(evals, a, b),
    )
    return _diff(a, report, pairs)


def _changes(evals: EvalStore, a: EvalRun, b: EvalRun) -> CaseChanges | None:
    """The cases whose checks or input changed between the runs' suite versions, as `eval
    compare` names them: both versions are parsed, so only when they differ (a few ms on
    the bench database's suites; this runs in the diff's worker thread)."""
    if a.suite_id == b.suite_id:
        return NO_CHANGES
    return case_changes(evals, a, b)


def diff_runs(a: EvalRun, report: RunReport, results: PairedResults) -> RunDiff:
    """The diff of `report` (run B against baseline A) with the two runs' `results`."""
    return _diff(a, report, _by_case_id(results))


def _diff(a: EvalRun, report: RunReport, pairs: list[CasePair]) -> RunDiff:
    """`diff_runs` with the results' pairs by case id."""
    comparison = report.comparison
    flips: dict[str, Flip] = dict.fromkeys(comparison.errored, "errored")
    flips.update(dict.fromkeys(comparison.broke, "broke"))
    flips.update(dict.fromkeys(comparison.fixed, "fixed"))
    changed: dict[str, Changed] = dict.fromkeys(comparison.changed_inputs, "input")
    changed.update(dict.fromkeys(comparison.changed_checks, "checks"))
    lines = [
        _line(pair, flips.get(pair.case_id, ""), changed.get(pair.case_id, "")) for pair in pairs
    ]
    notes = [*_status_notes(a, report.run), *report.notes]  # first: the summary is cut short
    return RunDiff(a, report.run, comparison, tuple(notes), lines)


def _status_notes(*runs: EvalRun) -> list[str]:
    return [
        f"run {run.id} is {run.status}: only its recorded cases count"
        for run in runs
        if run.status != "completed"
    ]


def _by_case_id(results: PairedResults) -> list[CasePair]:
    return sorted([*results.paired, *results.only_a, *results.only_b], key=_case_id)


def _case_id(pair: CasePair) -> str:
    return pair.case_id


def _line(pair: CasePair, flip: Flip, changed: Changed) -> CaseLine:
    a, a_score = _combined(pair.a)
    b, b_score = _combined(pair.b)
    return CaseLine(
        case_id=pair.case_id,
        a=a,
        b=b,
        a_score=a_score,
        b_score=b_score,
        critical=any(result.critical for result in (*pair.a, *pair.b)),
        flip=flip,
        results_a=pair.a,
        results_b=pair.b,
        changed=changed,
    )


def _combined(results: Sequence[RecordedResult]) -> tuple[str, float | None]:
    """The status and score of a case's repeats combined as the comparison combines them
    (`-` and None when it has no result)."""
    if not results:
        return "-", None
    if len(results) == 1:  # what `combine_repeats` makes of one outcome (`outcome_of`)
        only = results[0]
        return _status(only.status == "pass", only.status == "error"), only.score or 0.0
    combined = combine_repeats([outcome_of(result) for result in results])
    return _status(combined.passed, combined.errored), combined.score


def _status(passed: bool, errored: bool) -> str:
    if errored:
        return "error"
    return "pass" if passed else "fail"
