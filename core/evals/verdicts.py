"""The verdict of a comparison, and why (the rules are in `core.evals.stats`' docstring).

In order: `regression` when a reason applies (a critical case failing or errored, a
significant drop among the pairs both runs answered, a drop beyond a tolerance), else
`inconclusive` when the candidate has errored cases or a baseline leaves no pair to compare
(errors are the infrastructure's as often as the model's: a gate must neither blame the
model nor pass), else `improved` on a significant rise, else `no_baseline` or `unchanged`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from core.evals.comparison_notes import comparison_notes
from core.evals.mcnemar import flips_needed

if TYPE_CHECKING:
    from core.evals.stats import Comparison, RegressionPolicy, Verdict

_SHOWN = 10


def judged(comparison: Comparison, policy: RegressionPolicy) -> Comparison:
    """`comparison` with its verdict, reasons and notes."""
    reasons = regression_reasons(comparison, policy)
    return replace(
        comparison,
        verdict=verdict_of(comparison, reasons),
        reasons=reasons,
        notes=comparison_notes(comparison, flips_needed(policy.alpha)),
    )


def verdict_of(comparison: Comparison, reasons: tuple[str, ...]) -> Verdict:
    """The verdict given the regression `reasons` (see the module's order)."""
    if reasons:
        return "regression"
    nothing_paired = comparison.has_baseline and not comparison.paired
    if comparison.candidate_errored or comparison.unjudged or nothing_paired:
        return "inconclusive"
    if comparison.significant and len(comparison.fixed) > len(comparison.broke):
        return "improved"
    return "unchanged" if comparison.has_baseline else "no_baseline"


def regression_reasons(comparison: Comparison, policy: RegressionPolicy) -> tuple[str, ...]:
    """Why `comparison` is a regression, one line each (empty: it is not)."""
    reasons = [*_critical(comparison)]
    if comparison.significant and len(comparison.broke) > len(comparison.fixed):
        changed = set(comparison.changed_checks).intersection(comparison.broke)
        of_them = f" ({len(changed)} of them with changed checks)" if changed else ""
        reasons.append(
            f"pass rate dropped significantly: {len(comparison.broke)} broke{of_them}, "
            f"{len(comparison.fixed)} fixed (McNemar p={comparison.p_value:.3g} < {policy.alpha:g})"
        )
    drop = -(comparison.answered_pass_rate_delta or 0.0)
    if policy.max_pass_rate_drop is not None and drop > policy.max_pass_rate_drop:
        tolerated = policy.max_pass_rate_drop * 100
        reasons.append(  # in points, as the pass rate's change is shown
            f"pass rate dropped {drop * 100:.1f} points{_among_answered(comparison)}, more than"
            f" the tolerance {tolerated:.1f} points"
        )
    score_drop = -(comparison.answered_score_delta or 0.0)
    if policy.max_score_drop is not None and score_drop > policy.max_score_drop:
        tolerance = policy.max_score_drop
        reasons.append(
            f"mean score dropped {score_drop:.3f}{_among_answered(comparison)}, beyond the"
            f" tolerance {tolerance:g}"
        )
    return tuple(reasons)


def _critical(comparison: Comparison) -> list[str]:
    failing = comparison.critical_failures
    if not failing:
        return []
    errored = set(comparison.candidate_errored_ids).intersection(failing)
    what = "failing or errored" if errored else "failing"
    more = len(failing) - _SHOWN
    shown = ", ".join(failing[:_SHOWN]) + (f" and {more} more" if more > 0 else "")
    return [f"critical case(s) {what}: {shown}"]


def _among_answered(comparison: Comparison) -> str:
    """` among the 8 pairs both runs answered` when errored pairs were left out."""
    if not comparison.errored:
        return ""
    return f" among the {comparison.paired - len(comparison.errored):,} pairs both runs answered"
