"""Is a candidate run worse than its baseline? Paired case outcomes, McNemar's exact test.

`compare_runs` pairs the two runs' outcomes by case id and returns a `Comparison`: the cases
that flipped, the change in pass rate and mean score, McNemar's exact p-value on the paired
pass/fail outcomes, latency percentiles, cost, the critical cases that fail, and a verdict.

Rules:

- Repeats (`--repeat K`): a case with several outcomes is combined first
  (`combine_repeats`): it passes when a strict majority of its repeats pass (a tie fails), its
  score and cost are the means, its latency the median; it is errored only when every repeat is.
- An errored outcome (no answer) counts as a failure: a gate must not pass on missing answers.
  The comparison reports how many there were.
- Only cases present in both runs are paired (when the suite changed between the runs, the
  others are counted and reported, not compared).
- Regression: any critical case of the candidate fails (paired or not), or the paired pass rate
  drops significantly (McNemar p < alpha, default 0.05), or it drops by more than
  `max_pass_rate_drop`, or the mean score by more than `max_score_drop` (both off by default).
  `improved`: a significant rise and no regression. Otherwise `unchanged` (a value CI scripts
  read), which `Comparison.verdict_label` words as `not significant` when cases flipped.
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
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from typing import Any, Literal

from core.evals.comparison_notes import comparison_notes

Verdict = Literal["regression", "improved", "unchanged"]

_EXACT_LIMIT = 5_000
"""Up to this many discordant pairs the p-value is computed with exact integers."""


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """One case's result in one run, as a comparison needs it."""

    case_id: str
    passed: bool
    score: float
    critical: bool = False
    errored: bool = False
    latency_ms: float | None = None
    cost_usd: float | None = None


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
    """Ids of the paired cases that passed in the baseline and fail in the candidate."""
    fixed: tuple[str, ...]
    """Ids of the paired cases that failed in the baseline and pass in the candidate."""
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
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    """Why the verdict is a regression (one line each); empty otherwise."""
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
    def verdict_label(self) -> str:
        """The verdict in words that cannot be misread: `not significant` for an `unchanged`
        verdict over flipped cases (the pass rate may have moved a lot), else the verdict."""
        if self.verdict == "unchanged" and (self.broke or self.fixed):
            return "not significant"
        return self.verdict

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


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for `b` and `c` discordant pairs.

    Under no change each discordant pair goes either way with probability 1/2, so the p-value
    is twice the binomial tail P(X <= min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1
    (as scipy's `binomtest(min(b, c), b + c).pvalue` and statsmodels' exact `mcnemar`).

    Raises:
        ValueError: a count is negative.
    """
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be 0 or more")
    n, k = b + c, min(b, c)
    if n == 0 or 2 * k >= n:
        return 1.0
    if n <= _EXACT_LIMIT:
        term = tail = 1  # C(n, 0), then C(n, i) = C(n, i - 1) * (n - i + 1) / i
        for i in range(1, k + 1):
            term = term * (n - i + 1) // i
            tail += term
        return min(1.0, float(Fraction(2 * tail, 2**n)))
    return min(1.0, 2 * _binomial_tail(n, k))


def least_p_value(flipped: int) -> float:
    """The least two-sided McNemar p-value possible with `flipped` discordant pairs: all of
    them one way, 2 / 2**flipped (1 for none). Below 6 it is 0.0625 or more: no drop of that
    few cases can be significant at 0.05."""
    return mcnemar_exact(flipped, 0)


def flips_needed(alpha: float) -> int | None:
    """The fewest discordant pairs, all one way, that McNemar's exact test calls significant
    at `alpha` (6 at 0.05); None when no count does (alpha 0 or less)."""
    if alpha <= 0:
        return None
    flipped = 1
    while least_p_value(flipped) >= alpha:
        flipped += 1
    return flipped


def _binomial_tail(n: int, k: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), k < n/2, in floating point (log-space start)."""
    log_term = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2)
    if log_term < -745:  # below the smallest float: the tail is 0 to double precision
        return 0.0
    term = math.exp(log_term)
    total = term
    for i in range(k, 0, -1):  # C(n, i-1) = C(n, i) * i / (n - i + 1)
        term *= i / (n - i + 1)
        total += term
        if term < total * 1e-17:
            break
    return total


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
    passes = sum(outcome.passed for outcome in outcomes)
    latencies = [o.latency_ms for o in outcomes if o.latency_ms is not None]
    costs = [o.cost_usd for o in outcomes]
    return CaseOutcome(
        case_id=outcomes[0].case_id,
        passed=2 * passes > len(outcomes),
        score=statistics.fmean(outcome.score for outcome in outcomes),
        critical=any(outcome.critical for outcome in outcomes),
        errored=all(outcome.errored for outcome in outcomes),
        latency_ms=statistics.median(latencies) if latencies else None,
        cost_usd=None if None in costs else statistics.fmean(c for c in costs if c is not None),
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
    baseline: Iterable[CaseOutcome],
    candidate: Iterable[CaseOutcome],
    policy: RegressionPolicy | None = None,
    changes: CaseChanges | None = None,
) -> Comparison:
    """Compare a candidate run with its baseline (see the module's rules); `changes`: the
    cases whose checks or input differ between the two runs' suite versions, if known."""
    policy = policy or RegressionPolicy()
    changes = changes or CaseChanges()
    old, new = by_case(baseline), by_case(candidate)
    paired = [case_id for case_id in new if case_id in old]
    in_both = set(paired)
    broke = tuple(i for i in paired if _passed(old[i]) and not _passed(new[i]))
    fixed = tuple(i for i in paired if not _passed(old[i]) and _passed(new[i]))
    p_value = mcnemar_exact(len(broke), len(fixed))
    significant = p_value < policy.alpha
    summary = _Summary(old, new, paired)
    critical = tuple(i for i, outcome in new.items() if outcome.critical and not _passed(outcome))
    only_in_baseline = tuple(case_id for case_id in old if case_id not in new)
    comparison = Comparison(
        paired=len(paired),
        only_in_baseline=len(only_in_baseline),
        only_in_candidate=len(new) - len(paired),
        broke=broke,
        fixed=fixed,
        baseline_pass_rate=summary.pass_rate(old),
        candidate_pass_rate=summary.pass_rate(new),
        baseline_score=summary.mean_score(old),
        candidate_score=summary.mean_score(new),
        p_value=p_value,
        significant=significant,
        baseline_latency=summary.latency(old),
        candidate_latency=summary.latency(new),
        baseline_cost_usd=summary.cost(old),
        candidate_cost_usd=summary.cost(new),
        critical_failures=critical,
        candidate_errored=sum(outcome.errored for outcome in new.values()),
        verdict="unchanged",
        alpha=policy.alpha,
        least_p_value=least_p_value(len(broke) + len(fixed)),
        only_in_baseline_ids=only_in_baseline,
        only_in_candidate_ids=tuple(case_id for case_id in new if case_id not in old),
        changed_checks=tuple(i for i in changes.checks if i in in_both),
        changed_inputs=tuple(i for i in changes.inputs if i in in_both),
    )
    return _judged(comparison, policy)


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
        costs = [run[i].cost_usd for i in self.paired]
        return None if None in costs else math.fsum(c for c in costs if c is not None)


def _judged(comparison: Comparison, policy: RegressionPolicy) -> Comparison:
    reasons = _regression_reasons(comparison, policy)
    if reasons:
        verdict: Verdict = "regression"
    elif comparison.significant and len(comparison.fixed) > len(comparison.broke):
        verdict = "improved"
    else:
        verdict = "unchanged"
    return replace(
        comparison,
        verdict=verdict,
        reasons=reasons,
        notes=comparison_notes(comparison, flips_needed(policy.alpha)),
    )


def _regression_reasons(comparison: Comparison, policy: RegressionPolicy) -> tuple[str, ...]:
    reasons = []
    if comparison.critical_failures:
        shown = ", ".join(comparison.critical_failures[:10])
        more = len(comparison.critical_failures) - 10
        reasons.append(
            f"critical case(s) failing: {shown}" + (f" and {more} more" if more > 0 else "")
        )
    if comparison.significant and len(comparison.broke) > len(comparison.fixed):
        changed = set(comparison.changed_checks).intersection(comparison.broke)
        of_them = f" ({len(changed)} of them with changed checks)" if changed else ""
        reasons.append(
            f"pass rate dropped significantly: {len(comparison.broke)} broke{of_them}, "
            f"{len(comparison.fixed)} fixed (McNemar p={comparison.p_value:.3g} < {policy.alpha:g})"
        )
    drop = -(comparison.pass_rate_delta or 0.0)
    if policy.max_pass_rate_drop is not None and drop > policy.max_pass_rate_drop:
        tolerated = policy.max_pass_rate_drop * 100
        reasons.append(  # in points, as the pass rate's change is shown
            f"pass rate dropped {drop * 100:.1f} points, more than the tolerance"
            f" {tolerated:.1f} points"
        )
    score_drop = -(comparison.score_delta or 0.0)
    if policy.max_score_drop is not None and score_drop > policy.max_score_drop:
        tolerance = policy.max_score_drop
        reasons.append(f"mean score dropped {score_drop:.3f}, beyond the tolerance {tolerance:g}")
    return tuple(reasons)
