"""Is a candidate run worse than its baseline? Paired case outcomes, McNemar's exact test.

`compare_runs` pairs the two runs' outcomes by case id and returns a `Comparison`: the cases
that flipped, the change in pass rate and mean score, McNemar's exact p-value on the paired
pass/fail outcomes, latency percentiles, cost, the critical cases that fail, and a verdict.

Rules:

- Repeats (`--repeat K`): a case with several outcomes is combined first
  (`combine_repeats`): it passes when a strict majority of its answered repeats pass (a tie
  fails; a repeat with no answer is not the model's failure), its score the answered repeats'
  mean, its cost the mean, its latency the median; it is errored only when every repeat is, and
  `partly_errored` when some are (the candidate's verdict is then inconclusive).
- An errored outcome (no answer, or no verdict) is not a failure of the model: a pair whose
  baseline errored is not compared (`baseline_errored`, like a case in one run only); a pair
  whose candidate errored is not a flip (`errored`): it is left out of broke/fixed, McNemar's
  test and the tolerances, but still counts as not passed in the pass rates shown (a gate must
  not pass on missing answers).
- Only cases present in both runs are paired (when the suite changed between the runs, the
  others are counted and reported, not compared).
- Regression (`core.evals.verdicts`): any critical case of the candidate fails or errored
  (paired or not), or the pass rate of the pairs both runs answered drops significantly
  (McNemar p < alpha, default 0.05), or it drops by more than `max_pass_rate_drop`, or their
  mean score by more than `max_score_drop` (both off by default). Else `inconclusive` when
  the candidate has errored cases, or a baseline leaves no pair to compare. `improved`: a
  significant rise. Without a baseline, `no_baseline`. Otherwise `unchanged` (a value CI
  scripts read), which `Comparison.verdict_label` words as `not significant` when cases
  flipped. `Comparison.gate_passed` is False on `regression` and `inconclusive`.
- Few flips: with n discordant pairs the least p-value the test can give is 2 / 2**n (every
  flip one way), so below 6 flipped cases it never reaches alpha 0.05: the notes say so and
  name the tolerance to gate on instead.
- Cases whose checks or input differ between the two runs' suite versions (`changed_checks`,
  `changed_inputs`, worked out by `core.evals.casechanges`) are compared all the same, and
  named: a flip of a case whose checks changed is not the model's doing.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from core.evals.comparison_notes import cases
from core.evals.mcnemar import flips_needed as flips_needed  # re-exported: the public API
from core.evals.mcnemar import least_p_value, mcnemar_exact
from core.evals.verdicts import judged

Verdict = Literal["regression", "inconclusive", "improved", "unchanged", "no_baseline"]
"""`regression` and `inconclusive` fail a gate (`Comparison.gate_passed`)."""


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """One case's result in one run, as a comparison needs it."""

    case_id: str
    passed: bool
    score: float
    critical: bool = False
    errored: bool = False
    """No answer (with repeats: in none of them)."""
    latency_ms: float | None = None
    cost_usd: float | None = None
    """What its answer cost, its `llm-rubric` judge calls left out (`report.answer_cost`):
    a comparison weighs the models, not their grading."""
    partly_errored: bool = False
    """Repeats combined: some of them got no answer (the others decide `passed`)."""


@dataclass(frozen=True, slots=True)
class RegressionPolicy:
    """When a candidate counts as a regression.

    Attributes:
        alpha: significance level of McNemar's test on the paired outcomes.
        max_pass_rate_drop: a drop of the paired pass rate above this (a fraction, 0.02 for two
            points) is a regression, significant or not. None: not checked.
        max_score_drop: the same for the mean score (0..1). None: not checked.
    """

    alpha: float = 0.05
    max_pass_rate_drop: float | None = None
    max_score_drop: float | None = None


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Latency p50 and p95 in milliseconds (None when no case has a latency)."""

    p50: float | None
    p95: float | None


@dataclass(frozen=True)
class CaseChanges:
    """Case ids whose definition differs between a baseline's suite version and the
    candidate's: `checks` (assertions, expected answer, threshold) or, the checks the same,
    `inputs` (the messages as sent). See `core.evals.casechanges`."""

    checks: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """A candidate run against its baseline, on the cases both ran."""

    paired: int
    only_in_baseline: int
    only_in_candidate: int
    broke: tuple[str, ...]
    """Ids of the paired cases that passed in the baseline and fail in the candidate (both
    answered)."""
    fixed: tuple[str, ...]
    """Ids of the paired cases that failed in the baseline and pass in the candidate (both
    answered)."""
    baseline_pass_rate: float | None
    candidate_pass_rate: float | None
    baseline_score: float | None
    candidate_score: float | None
    p_value: float
    significant: bool
    baseline_latency: Percentiles
    candidate_latency: Percentiles
    baseline_cost_usd: float | None
    """Total cost of the paired cases; None when one of them is not priced."""
    candidate_cost_usd: float | None
    critical_failures: tuple[str, ...]
    """Every critical case of the candidate that fails (or errored), paired or not."""
    candidate_errored: int
    """How many cases of the candidate errored (no answer or no verdict), paired or not."""
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    """Why the verdict is a regression (one line each); empty otherwise."""
    errored: tuple[str, ...] = ()
    """Ids of the paired cases the candidate has no answer for (the baseline has one): not
    flips, left out of McNemar's test and the tolerances; not passed in the pass rate."""
    baseline_errored: tuple[str, ...] = ()
    """Ids of the cases in both runs that errored in the baseline: not compared (not in
    `paired`)."""
    candidate_errored_ids: tuple[str, ...] = ()
    """Ids of every candidate case that errored (in any of its repeats), paired or not."""
    unjudged: tuple[str, ...] = ()
    """Ids of the cases that errored in the baseline and do not pass in the candidate:
    whether they broke cannot be told (the verdict is then inconclusive)."""
    candidate_cases: int = 0
    """How many cases the candidate ran (repeats combined)."""
    has_baseline: bool = True
    """False when the candidate was judged alone (`compare_runs` given no baseline)."""
    answered_pass_rate_delta: float | None = None
    """Candidate minus baseline pass rate on the pairs both runs answered (what the
    tolerance checks); None when there is none."""
    answered_score_delta: float | None = None
    """The same for the mean score."""
    notes: tuple[str, ...] = field(default=())
    """What the reader should know: unpaired cases, errored answers, too few flips to tell,
    changed cases."""
    alpha: float = 0.05
    """The significance level the verdict used."""
    least_p_value: float = 1.0
    """The least p-value McNemar's test could give with this many flipped cases (all of them
    one way): at or above `alpha`, no drop of this size can be significant."""
    only_in_baseline_ids: tuple[str, ...] = ()
    """Ids of the cases the baseline ran and the candidate did not (not compared)."""
    only_in_candidate_ids: tuple[str, ...] = ()
    """Ids of the cases the candidate ran and the baseline did not (not compared)."""
    changed_checks: tuple[str, ...] = ()
    """Paired cases whose assertions, expected answer or threshold differ between the two
    runs' suite versions: their flips are not the model's doing."""
    changed_inputs: tuple[str, ...] = ()
    """Paired cases whose messages as sent differ between the two suite versions (and not
    their checks): their flips are the new input's doing as much as the model's."""

    @property
    def regression(self) -> bool:
        """True when the verdict is a regression."""
        return self.verdict == "regression"

    @property
    def significance_reachable(self) -> bool:
        """Whether McNemar's test could call this many flipped cases significant at all."""
        return self.least_p_value < self.alpha

    @property
    def gate_passed(self) -> bool:
        """False when a CI gate must fail: a regression, or an inconclusive verdict (a gate
        does not pass on answers it did not get)."""
        return self.verdict not in ("regression", "inconclusive")

    @property
    def verdict_label(self) -> str:
        """The verdict in words that cannot be misread: `not significant` for an `unchanged`
        verdict over flipped cases (the pass rate may have moved a lot), `no baseline`,
        `inconclusive: ...` with why, else the verdict."""
        if self.verdict == "unchanged" and (self.broke or self.fixed):
            return "not significant"
        if self.verdict == "no_baseline":
            return "no baseline"
        if self.verdict == "inconclusive":
            return f"inconclusive: {self.inconclusive_because}"
        return self.verdict

    @property
    def inconclusive_because(self) -> str:
        """Why errors leave the verdict open: `6 of 12 cases errored (no answer or no
        verdict)`, or no pair left to compare."""
        if self.candidate_errored:
            return (
                f"{self.candidate_errored:,} of {cases(self.candidate_cases)} errored"
                " (no answer or no verdict)"
            )
        left = "no paired case left to compare"
        if not self.paired and self.baseline_errored:
            return f"{left} ({cases(len(self.baseline_errored))} errored in the baseline run)"
        if self.unjudged:
            return (
                f"{cases(len(self.unjudged))} not passing errored in the baseline run: whether"
                " they broke cannot be told"
            )
        return left

    @property
    def changed_flips(self) -> tuple[str, ...]:
        """The flipped cases whose checks changed between the two suite versions."""
        changed = set(self.changed_checks)
        return tuple(i for i in (*self.broke, *self.fixed) if i in changed)

    @property
    def pass_rate_delta(self) -> float | None:
        """Candidate minus baseline pass rate on the paired cases."""
        return _delta(self.candidate_pass_rate, self.baseline_pass_rate)

    @property
    def score_delta(self) -> float | None:
        """Candidate minus baseline mean score on the paired cases."""
        return _delta(self.candidate_score, self.baseline_score)

    @property
    def cost_delta_usd(self) -> float | None:
        """Candidate minus baseline cost of the paired cases (None when either is unknown)."""
        return _delta(self.candidate_cost_usd, self.baseline_cost_usd)

    def latency_delta_ms(self, which: Literal["p50", "p95"]) -> float | None:
        """Candidate minus baseline latency percentile."""
        return _delta(getattr(self.candidate_latency, which), getattr(self.baseline_latency, which))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, deltas included (for `--json` and storage)."""
        data = asdict(self)
        data.update(
            regression=self.regression,
            gate_passed=self.gate_passed,
            verdict_label=self.verdict_label,
            significance_reachable=self.significance_reachable,
            pass_rate_delta=self.pass_rate_delta,
            score_delta=self.score_delta,
            cost_delta_usd=self.cost_delta_usd,
            latency_p50_delta_ms=self.latency_delta_ms("p50"),
            latency_p95_delta_ms=self.latency_delta_ms("p95"),
        )
        return data


def _delta(new: float | None, old: float | None) -> float | None:
    return None if new is None or old is None else new - old


def combine_repeats(outcomes: Sequence[CaseOutcome]) -> CaseOutcome:
    """One outcome for a case run several times: majority pass, mean score, median latency.

    Raises:
        ValueError: no outcomes, or outcomes of different cases.
    """
    if not outcomes:
        raise ValueError("no outcomes to combine")
    ids = {outcome.case_id for outcome in outcomes}
    if len(ids) != 1:
        raise ValueError(f"outcomes of different cases: {sorted(ids)}")
    if len(outcomes) == 1:
        return outcomes[0]
    answered = [outcome for outcome in outcomes if not outcome.errored] or list(outcomes)
    passes = sum(outcome.passed and not outcome.errored for outcome in answered)
    latencies = [o.latency_ms for o in outcomes if o.latency_ms is not None]
    costs = [o.cost_usd for o in outcomes]
    errored = sum(outcome.errored for outcome in outcomes)
    return CaseOutcome(
        case_id=outcomes[0].case_id,
        passed=2 * passes > len(answered),  # a repeat with no answer is not the model's fail
        score=statistics.fmean(outcome.score for outcome in answered),
        critical=any(outcome.critical for outcome in outcomes),
        errored=errored == len(outcomes),
        latency_ms=statistics.median(latencies) if latencies else None,
        cost_usd=None if None in costs else statistics.fmean(c for c in costs if c is not None),
        partly_errored=0 < errored < len(outcomes),
    )


def by_case(outcomes: Iterable[CaseOutcome]) -> dict[str, CaseOutcome]:
    """Outcomes keyed by case id, repeats combined (`combine_repeats`)."""
    grouped: dict[str, list[CaseOutcome]] = {}
    for outcome in outcomes:
        grouped.setdefault(outcome.case_id, []).append(outcome)
    return {case_id: combine_repeats(group) for case_id, group in grouped.items()}


def percentiles(values: Sequence[float]) -> Percentiles:
    """p50 and p95 with linear interpolation between ranks (numpy's default method)."""
    if not values:
        return Percentiles(None, None)
    ordered = sorted(values)
    return Percentiles(_percentile(ordered, 0.50), _percentile(ordered, 0.95))


def _percentile(ordered: list[float], fraction: float) -> float:
    rank = fraction * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def compare_runs(
    baseline: Iterable[CaseOutcome] | None,
    candidate: Iterable[CaseOutcome],
    policy: RegressionPolicy | None = None,
    changes: CaseChanges | None = None,
) -> Comparison:
    """Compare a candidate run with its baseline (see the module's rules); `baseline` None:
    the candidate is judged alone (critical cases and errors only); `changes`: the cases
    whose checks or input differ between the two runs' suite versions, if known."""
    policy = policy or RegressionPolicy()
    changes = changes or CaseChanges()
    old, new = by_case(baseline or ()), by_case(candidate)
    in_both = [case_id for case_id in new if case_id in old]
    paired = [case_id for case_id in in_both if not old[case_id].errored]
    answered = [case_id for case_id in paired if not new[case_id].errored]
    broke = tuple(i for i in answered if _passed(old[i]) and not _passed(new[i]))
    fixed = tuple(i for i in answered if not _passed(old[i]) and _passed(new[i]))
    p_value = mcnemar_exact(len(broke), len(fixed))
    summary, both = _Summary(old, new, paired), _Summary(old, new, answered)
    only_in_baseline = tuple(case_id for case_id in old if case_id not in new)
    candidate_errored = tuple(i for i, o in new.items() if o.errored or o.partly_errored)
    unjudged = tuple(i for i in in_both if old[i].errored and not _passed(new[i]))
    comparison = Comparison(
        paired=len(paired),
        only_in_baseline=len(only_in_baseline),
        only_in_candidate=len(new) - len(in_both),
        broke=broke,
        fixed=fixed,
        baseline_pass_rate=summary.pass_rate(old),
        candidate_pass_rate=summary.pass_rate(new),
        baseline_score=summary.mean_score(old),
        candidate_score=summary.mean_score(new),
        p_value=p_value,
        significant=p_value < policy.alpha,
        baseline_latency=summary.latency(old),
        candidate_latency=summary.latency(new),
        baseline_cost_usd=summary.cost(old),
        candidate_cost_usd=summary.cost(new),
        critical_failures=tuple(i for i, o in new.items() if o.critical and not _passed(o)),
        candidate_errored=len(candidate_errored),
        verdict="unchanged",
        alpha=policy.alpha,
        least_p_value=least_p_value(len(broke) + len(fixed)),
        only_in_baseline_ids=only_in_baseline,
        only_in_candidate_ids=tuple(case_id for case_id in new if case_id not in old),
        changed_checks=tuple(i for i in changes.checks if i in paired),
        changed_inputs=tuple(i for i in changes.inputs if i in paired),
        errored=tuple(case_id for case_id in paired if new[case_id].errored),
        baseline_errored=tuple(case_id for case_id in in_both if old[case_id].errored),
        unjudged=unjudged,
        candidate_errored_ids=candidate_errored,
        candidate_cases=len(new),
        has_baseline=baseline is not None,
        answered_pass_rate_delta=_delta(both.pass_rate(new), both.pass_rate(old)),
        answered_score_delta=_delta(both.mean_score(new), both.mean_score(old)),
    )
    return judged(comparison, policy)


def _passed(outcome: CaseOutcome) -> bool:
    return outcome.passed and not outcome.errored


@dataclass(frozen=True)
class _Summary:
    old: dict[str, CaseOutcome]
    new: dict[str, CaseOutcome]
    paired: list[str]

    def pass_rate(self, run: dict[str, CaseOutcome]) -> float | None:
        if not self.paired:
            return None
        return sum(_passed(run[i]) for i in self.paired) / len(self.paired)

    def mean_score(self, run: dict[str, CaseOutcome]) -> float | None:
        return statistics.fmean(run[i].score for i in self.paired) if self.paired else None

    def latency(self, run: dict[str, CaseOutcome]) -> Percentiles:
        values = [run[i].latency_ms for i in self.paired]
        return percentiles([value for value in values if value is not None])

    def cost(self, run: dict[str, CaseOutcome]) -> float | None:
        """What the answers of the pairs both runs answered cost (a case with no answer has
        no cost, and the two sides count the same cases); None when one is unknown."""
        both = [i for i in self.paired if not (self.old[i].errored or self.new[i].errored)]
        costs = [run[i].cost_usd for i in both]
        return None if None in costs else math.fsum(c for c in costs if c is not None)
