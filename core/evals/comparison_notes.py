"""The notes under a comparison's verdict: what a reader must know before trusting it.

Cases not compared (in one run only, or errored in the baseline), the candidate's errored
answers, too few flipped cases for McNemar's
test to call any drop significant (with the tolerance to gate on instead), and cases whose
checks or input changed between the two runs' suite versions. Plain text, one line each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.evals.stats import Comparison


def comparison_notes(comparison: Comparison, flips_needed: int | None) -> tuple[str, ...]:
    """The notes of `comparison`; `flips_needed`: the fewest one-way flips its alpha can call
    significant (`core.evals.stats.flips_needed`), None when none can."""
    notes = []
    if comparison.only_in_baseline or comparison.only_in_candidate:
        notes.append(
            f"only the {cases(comparison.paired)} in both runs are compared: "
            f"{comparison.only_in_baseline:,} only in the baseline, "
            f"{comparison.only_in_candidate:,} only in the candidate"
        )
    if comparison.baseline_errored:
        errored = cases(len(comparison.baseline_errored))
        notes.append(f"{errored} errored in the baseline run: not compared")
    if comparison.candidate_errored:
        errored = cases(comparison.candidate_errored, "candidate case")
        notes.append(
            f"{errored} errored (no answer or no verdict): not passed in the pass rate, but not"
            " counted as broke or fixed nor in McNemar's test"
        )
    notes += _few_flips(comparison, flips_needed)
    notes += _changed(comparison)
    return tuple(notes)


def _few_flips(comparison: Comparison, needed: int | None) -> list[str]:
    """When cases flipped but no split of that many could be significant."""
    flipped = len(comparison.broke) + len(comparison.fixed)
    if not flipped or comparison.significance_reachable:
        return []
    note = (
        f"too few flipped cases to tell: with {cases(flipped, 'flipped case')} McNemar's"
        f" test cannot go below p = {comparison.least_p_value:.3g} even if all flip one way"
        + (f", and alpha {comparison.alpha:g} needs at least {needed}" if needed else "")
    )
    if len(comparison.broke) > len(comparison.fixed):
        note += (
            "; to gate on a drop this small, set a tolerance (--max-pass-rate-drop 0.05"
            " fails a drop of more than 5 points)"
        )
    return [note]


def _changed(comparison: Comparison) -> list[str]:
    notes = []
    if comparison.changed_checks:
        flips = comparison.changed_flips
        flipped = f", {len(flips):,} of them flipped: not the model's doing" if flips else ""
        notes.append(
            f"the checks of {cases(len(comparison.changed_checks), 'paired case')} changed"
            f" in the candidate's suite version{flipped}"
        )
    if comparison.changed_inputs:
        notes.append(
            f"the input of {cases(len(comparison.changed_inputs), 'paired case')} changed in"
            " the candidate's suite version: a flip is the input's doing as much as the model's"
        )
    return notes


def cases(count: int, noun: str = "case") -> str:
    """`1 case`, `2 cases` (`noun` in the singular, an English noun taking -s)."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def case_marks(comparison: Comparison) -> dict[str, str]:
    """` (checks changed)` or ` (input changed)` by case id, for the paired cases whose
    definition differs between the two runs' suite versions."""
    marks = dict.fromkeys(comparison.changed_inputs, " (input changed)")
    marks.update(dict.fromkeys(comparison.changed_checks, " (checks changed)"))
    return marks
