"""A run repeated K times (`--repeat K`) counted by case, as its comparison counts it.

A run's summary counts answers (`passed 13 of 15`); its comparison with a baseline, its
verdict and its JUnit report count cases, each case's repeats combined by
`core.evals.stats.combine_repeats` (it passes on a strict majority of its answered repeats, a
tie fails; it is errored only when every repeat is). `case_tally` gives the second figure, for the
summary to show both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from core.evals.report import outcomes
from core.evals.stats import by_case

if TYPE_CHECKING:
    from storage.evals import EvalStore


@dataclass(frozen=True)
class CaseTally:
    """A run's cases counted once each, their repeats combined."""

    passed: int
    failed: int
    errored: int
    repeats: int
    """The run's answers per case."""

    @property
    def cases(self) -> int:
        """Cases with at least one recorded answer."""
        return self.passed + self.failed + self.errored

    @property
    def pass_rate(self) -> float | None:
        """Cases passed per case recorded (an errored case counts as a failure)."""
        return self.passed / self.cases if self.cases else None

    def as_dict(self) -> dict[str, Any]:
        """The counts and their rate, for JSON output."""
        return {**asdict(self), "cases": self.cases, "pass_rate": self.pass_rate}


def case_tally(evals: EvalStore, run_id: int, repeats: int) -> CaseTally:
    """The cases of run `run_id` (answered `repeats` times each) passed, failed and errored,
    repeats combined: what its comparison and verdict count."""
    combined = by_case(outcomes(evals, run_id)).values()
    errored = sum(outcome.errored for outcome in combined)
    passed = sum(outcome.passed and not outcome.errored for outcome in combined)
    return CaseTally(passed, len(combined) - passed - errored, errored, repeats)
