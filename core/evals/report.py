"""Compare a run with its baseline: which baseline, the paired comparison, and the report.

A baseline is found before a run sends anything (`find_baseline`), so a baseline that does
not exist is bad input, not a surprise after the money is spent:

- a run id: that run;
- a model name: the run pinned as baseline of the suite for that model, else the latest
  completed run of that model that got an answer, on the same suite version, else on any
  version of the suite (then only the cases present in both runs count, and the report says
  so);
- nothing: the run pinned for the run's own model, else the suite's newest pinned run of any
  model (`pinned_baseline_for`; `pin_note` says which runs a pin reaches).

A run that got no answer at all (an outage night) is never a baseline: it is refused by name
(`check_can_be_baseline`), and skipped when the latest run of a model is looked for.

Without a baseline the report still has a verdict: a failing (or errored) critical case is a
regression on its own, errored cases make it `inconclusive`, else `no_baseline`. Errored cases
are not the model's failures, as in `core.evals.stats`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from core.errors import BadInput
from core.evals.casechanges import case_changes
from core.evals.comparison_notes import cases
from core.evals.stats import CaseChanges, CaseOutcome, Comparison, RegressionPolicy, compare_runs
from core.evals.suite import Suite
from storage.eval_history import EvalHistory, no_answer_refusal
from storage.eval_records import EvalRun, RecordedResult
from storage.evals import EvalStore

_PAGE = 2_000
NO_CHANGES = CaseChanges()
"""No case changed its checks or input (or which did was not read)."""


@dataclass(frozen=True)
class Baseline:
    """The run a candidate is compared with, and how it was chosen (for the report)."""

    run: EvalRun
    chosen_as: str
    """`run 12`, `pinned baseline of gpt-4o`, `latest completed run of gpt-4o`..."""


@dataclass(frozen=True)
class RunReport:
    """A run, its baseline (if any) and the comparison of the two.

    Attributes:
        run: the candidate.
        baseline: what it was compared with; None when there was nothing to compare with.
        comparison: the paired comparison (with no baseline: nothing paired, and the verdict
            comes from the critical cases alone).
        notes: what the reader should know (a changed suite, no baseline, errored cases).
    """

    run: EvalRun
    baseline: Baseline | None
    comparison: Comparison
    notes: tuple[str, ...]

    @property
    def regression(self) -> bool:
        """True when the run is a regression (see `core.evals.stats`)."""
        return self.comparison.regression

    @property
    def gate_passed(self) -> bool:
        """False on a regression or an inconclusive verdict, and for a run that did not
        complete (stopped by Ctrl-C, a budget or `--max-cost`): `--fail-on-regression` exits
        1, and a CI job reading the JSON or JUnit of a stopped run does not see it pass."""
        return self.comparison.gate_passed and self.run.status == "completed"

    @property
    def across_versions(self) -> bool:
        """True when the two runs ran different versions of the suite."""
        return self.baseline is not None and (
            self.baseline.run.suite_version != self.run.suite_version
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for `--json`). Each note is in one place: `comparison.notes`
        holds the comparison's own (unpaired and changed cases, errors, too few flips), and
        `notes` the others (suite versions, endpoints, the cache, no baseline); `notes` of
        the report object holds both, in the order printed. `verdict` is one of
        `regression`, `inconclusive`, `improved`, `unchanged`, `no_baseline`;
        `verdict_label` words it for people; `gate_passed` is False on `regression` and
        `inconclusive`, and for a run that did not complete."""
        own = set(self.comparison.notes)
        return {
            "run": dataclasses.asdict(self.run),
            "baseline": None
            if self.baseline is None
            else {"chosen_as": self.baseline.chosen_as, **dataclasses.asdict(self.baseline.run)},
            "across_versions": self.across_versions,
            "verdict": self.comparison.verdict,
            "verdict_label": self.comparison.verdict_label,
            "regression": self.regression,
            "gate_passed": self.gate_passed,
            "comparison": self.comparison.as_dict(),
            "notes": [note for note in self.notes if note not in own],
        }


def find_baseline(
    evals: EvalStore, suite_name: str, version: str, model: str, spec: str | None
) -> Baseline | None:
    """The baseline named by `spec` (a run id or a model name) for a run of `model` on
    `suite_name` at `version`; with no spec, the suite's pinned baseline
    (`pinned_baseline_for`), if any.

    Raises:
        BadInput: the run id is unknown, the run did not complete or got no answer; the
            model's pinned run got no answer; the model has no completed run with an answer
            on this suite.
    """
    if spec is None:
        return pinned_baseline_for(evals, suite_name, model)
    if spec.strip().isdigit():
        return Baseline(completed_run(evals, int(spec)), f"run {int(spec)}")
    pinned = evals.pinned_baseline(suite_name, spec)
    if pinned is not None:
        check_can_be_baseline(pinned, f" (the pinned baseline of {spec})")
        return Baseline(pinned, f"pinned baseline of {spec}")
    latest = evals.latest_completed_run(suite_name, spec, version)
    if latest is not None:
        return Baseline(latest, f"latest completed run of {spec}")
    latest = evals.latest_completed_run(suite_name, spec)
    if latest is not None:
        return Baseline(latest, f"latest completed run of {spec} (an earlier suite version)")
    raise BadInput(
        f"--baseline {spec}: no completed run of model {spec!r} with an answer on suite"
        f" {suite_name!r} (give a run id, or run that model first)"
    )


def pinned_baseline_for(
    evals: EvalStore, suite_name: str, model: str, exclude_run_id: int | None = None
) -> Baseline | None:
    """The pinned run a run of `model` on `suite_name` is judged against when no baseline is
    named (`eval run` and `eval resume` without `--baseline`, `c` in the console): the run
    pinned for `model`, else the newest run pinned on the suite, of any model (what a new
    model or fine-tune must match). `exclude_run_id` (the run being judged) never counts."""
    own = evals.pinned_baseline(suite_name, model)
    if own is not None and own.id != exclude_run_id:
        return Baseline(own, f"pinned baseline of {model}")
    for pinned in evals.pinned_baselines(suite_name):
        if pinned.id != exclude_run_id:
            return Baseline(pinned, f"pinned baseline of {pinned.model}")
    return None


def pin_note(evals: EvalHistory, run: EvalRun) -> str:
    """Which runs compare with which pinned run by default (no baseline named) now that `run`
    was pinned or unpinned: runs of its model with their model's pin, and runs of any model
    without one with the suite's newest pinned run (`pinned_baseline_for`). A pin is told
    this, since pinning one model's run also moves the baseline of every unpinned model."""
    suite = run.suite_name
    pinned = evals.pinned_baselines(suite)
    if not pinned:
        return f"no run of {suite} is pinned now: a run without a named baseline has none"
    newest = pinned[0]
    own_pins = [found.model for found in pinned[1:]]  # their runs keep their own pin
    but = f" (all but {', '.join(own_pins)})" if own_pins else ""
    anyone = f"any model with no pinned run of its own on {suite}{but}"
    if newest.id == run.id:
        return f"runs of {run.model}, and of {anyone}, now compare with it by default"
    target = f"run {newest.id} of {newest.model}, the suite's newest pinned run"
    if run.model in own_pins:
        return f"runs of {run.model} compare with it by default; runs of {anyone}, with {target}"
    return f"runs of {run.model} now compare by default with {target}, as do runs of {anyone}"


def check_baseline_fits(
    evals: EvalStore, baseline: Baseline, suite_name: str, case_ids: Iterable[str] | None = None
) -> None:
    """Refuse, before a run of `suite_name` with these case ids sends anything, a baseline
    it could not be compared with: a run that got no answer, a run of another suite, or one
    that shares no case id with it (a gate would judge nothing, and pass). Without
    `case_ids`, the run and the suite only.

    Raises:
        BadInput: naming the baseline and why.
    """
    base = baseline.run
    check_can_be_baseline(base)
    where = f"baseline run {base.id} of {base.model}"
    if base.suite_name != suite_name:
        raise BadInput(f"{where} is a run of suite {base.suite_name!r}, not {suite_name!r}")
    if case_ids is None:
        return
    theirs = {case_id for case_id, _ in evals.finished_cases(base.id)}
    if theirs.isdisjoint(case_ids):
        raise BadInput(
            f"{where} shares no case id with suite {suite_name!r}: nothing would be compared"
        )


def baseline_for_run(
    evals: EvalStore, suite: Suite, model: str, spec: str | None
) -> tuple[Baseline | None, str | None]:
    """The baseline a new run of `suite` on `model` is judged against (`find_baseline`),
    checked (`check_baseline_fits`), and a warning when the suite's pinned run, not named by
    the user, cannot be compared: it is then left out rather than blocking every run.

    Raises:
        BadInput: as `find_baseline`; a named baseline that does not fit.
    """
    found = find_baseline(evals, suite.name, suite.version, model, spec)
    if found is None:
        return None, None
    try:
        check_baseline_fits(evals, found, suite.name, (case.id for case in suite.cases))
    except BadInput as unfit:
        if spec is not None:
            raise
        fix = f"unpin it with `tunedeck eval baseline {found.run.id} --clear`"
        return None, f"the suite's pinned {unfit} ({fix}): compared with no baseline"
    return found, None


def completed_run(evals: EvalStore, run_id: int) -> EvalRun:
    """A run that completed, to compare with.

    Raises:
        BadInput: no such run, it has not completed, or it got no answer.
    """
    run = evals.run(run_id)
    if run is None:
        raise BadInput(f"no evaluation run has id {run_id}")
    if run.status != "completed":
        raise BadInput(f"run {run_id} is {run.status}: only a completed run is compared")
    check_can_be_baseline(run)
    return run


def check_can_be_baseline(run: EvalRun, context: str = "") -> None:
    """Refuse as a baseline a run none of whose cases got an answer (every one errored: an
    outage, a wrong model or endpoint): compared with it, any candidate would look unchanged.

    Raises:
        BadInput: `run 36 got no answer (6 errored): it cannot be a baseline` (`context`
            inserted after the run).
    """
    refusal = no_answer_refusal(run)
    if refusal is not None:
        raise BadInput(refusal.replace(f"run {run.id}", f"run {run.id}{context}", 1))


def build_report(
    evals: EvalStore,
    run: EvalRun,
    baseline: Baseline | None,
    policy: RegressionPolicy | None = None,
) -> RunReport:
    """Compare `run` with `baseline` (paired by case id, repeats combined; across suite
    versions, the cases whose checks or input changed are named: `case_changes`)."""
    candidate = _outcomes(all_results(evals, run.id))
    if baseline is None:
        return _report(run, None, candidate, None, policy)
    old = _outcomes(all_results(evals, baseline.run.id))
    changes = case_changes(evals, baseline.run, run)
    return _report(run, baseline, candidate, old, policy, changes)


def report_of_results(
    run: EvalRun,
    baseline: Baseline,
    results: Iterable[RecordedResult],
    baseline_results: Iterable[RecordedResult],
    policy: RegressionPolicy | None = None,
    changes: CaseChanges | None = NO_CHANGES,
) -> RunReport:
    """`build_report` from results already read, each run's by case id and repeat (the
    Regressions pane's diff reads both runs' results once, for this and for its lines);
    `changes`: `case_changes` of the two runs (None: not readable, as
    `build_report` says); by default none is said changed."""
    return _report(run, baseline, _outcomes(results), _outcomes(baseline_results), policy, changes)


_Outcomes = tuple[list[CaseOutcome], int, int]
"""A run's outcomes, its answers and how many of them came from the cache (`_outcomes`)."""


def _report(
    run: EvalRun,
    baseline: Baseline | None,
    candidate: _Outcomes,
    old: _Outcomes | None,
    policy: RegressionPolicy | None,
    changes: CaseChanges | None = None,
) -> RunReport:
    """The report from each run's outcomes (`_outcomes`); `changes` None: the suite
    versions could not be read to tell which cases changed."""
    outcomes, answers, hits = candidate
    if baseline is None or old is None:
        comparison = compare_runs(None, outcomes, policy)
        notes = ["no baseline: only failing or errored critical cases make a regression"]
        if comparison.candidate_errored:
            notes.append(
                f"{cases(comparison.candidate_errored)} errored (no answer or no verdict): the"
                " verdict is inconclusive"
            )
        notes += _cache_notes(("the run", answers, hits))
        return RunReport(run, None, dataclasses.replace(comparison, notes=()), tuple(notes))
    old_outcomes, old_answers, old_hits = old
    comparison = compare_runs(old_outcomes, outcomes, policy, changes)
    notes = list(comparison.notes)
    if baseline.run.suite_version != run.suite_version:
        notes.insert(
            0,
            f"the suite changed between the runs (version {baseline.run.suite_version[:12]}"
            f" -> {run.suite_version[:12]}): only the {cases(comparison.paired)} in both count",
        )
        if changes is None:
            notes.append(
                "which cases changed their checks or input is not known (a suite"
                " version was not recorded whole, by an older tunedeck)"
            )
    if baseline.run.suite_name != run.suite_name:
        notes.insert(0, f"different suites: {baseline.run.suite_name} and {run.suite_name}")
    if baseline.run.endpoint != run.endpoint:
        notes.append(
            f"the runs used different endpoints ({baseline.run.endpoint} and {run.endpoint}):"
            " latency and cost differ with them too"
        )
    notes += _cache_notes(("the baseline", old_answers, old_hits), ("the candidate", answers, hits))
    return RunReport(run, baseline, comparison, tuple(notes))


def outcomes(evals: EvalStore, run_id: int) -> Iterator[CaseOutcome]:
    """Every recorded result of a run as comparison outcomes, read page by page."""
    return (outcome_of(result) for result in all_results(evals, run_id))


def outcome_of(result: RecordedResult) -> CaseOutcome:
    """A recorded result as a comparison sees it (an error is not passed, and `errored`)."""
    return CaseOutcome(
        case_id=result.case_id,
        passed=result.status == "pass",
        score=result.score or 0.0,
        critical=result.critical,
        errored=result.status == "error",
        latency_ms=result.latency_ms,
        cost_usd=answer_cost(result),
    )


def answer_cost(result: RecordedResult) -> float | None:
    """What a result's answer cost: its `cost_usd` without its judge calls (a result
    recorded before they were kept apart counts them in); None when unknown."""
    if result.cost_usd is None:
        return None
    return max(result.cost_usd - (result.judge_cost_usd or 0.0), 0.0)


def _outcomes(results: Iterable[RecordedResult]) -> _Outcomes:
    """Results as outcomes, how many have an answer, and how many of those answers came
    from the cache."""
    found, answers, hits = [], 0, 0
    for result in results:
        found.append(outcome_of(result))
        answers += result.output_text is not None
        hits += result.cache_hit
    return found, answers, hits


def _cache_notes(*runs: tuple[str, int, int]) -> list[str]:
    """The share of each run's answers (repeats counted, judge calls not) from the cache."""
    return [
        f"{hits:,} of {which}'s {answers:,} answers came from the cache (judge calls not"
        " counted): their latency is the cache's and they cost 0 (--no-cache measures the model)"
        for which, answers, hits in runs
        if hits
    ]


def all_results(
    evals: EvalStore, run_id: int, status: str | None = None
) -> Iterator[RecordedResult]:
    """A run's results by case id and repeat, read in keyset pages."""
    after: tuple[str, int] | None = None
    while True:
        page = evals.results(run_id, status=status, limit=_PAGE, after=after)
        yield from page
        if len(page) < _PAGE:
            return
        after = (page[-1].case_id, page[-1].repeat_index)
