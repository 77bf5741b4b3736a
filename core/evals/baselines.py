"""Which runs may be compared: the baseline a resumed run is judged against (`tunedeck eval
resume` and the Regressions pane's resume agree through it), and the two runs `tunedeck eval
compare A B` is given."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import BadInput
from core.evals.report import (
    Baseline,
    check_baseline_fits,
    check_can_be_baseline,
    completed_run,
    find_baseline,
)

if TYPE_CHECKING:
    from storage.eval_records import EvalRun
    from storage.evals import EvalStore


def baseline_for_resume(evals: EvalStore, run: EvalRun, spec: str | None = None) -> Baseline | None:
    """The baseline named by `spec` (a run id or a model), else the one `run` was started
    against, else its suite's pinned baseline (`find_baseline`), if any.

    Raises:
        BadInput: as `find_baseline`; or the baseline named or pinned is a run of another
            suite, or got no answer (`check_baseline_fits`).
    """
    if spec is None and run.baseline_run_id is not None:
        return Baseline(completed_run(evals, run.baseline_run_id), f"run {run.baseline_run_id}")
    found = find_baseline(evals, run.suite_name, run.suite_version, run.model, spec)
    if found is not None:
        check_baseline_fits(evals, found, run.suite_name)
    return found


def check_comparable(evals: EvalStore, baseline: EvalRun, candidate: EvalRun) -> None:
    """Refuse to compare `candidate` with `baseline` when the baseline got no answer, the two
    ran different suites (as `--baseline` refuses them), or they share no case id.

    Raises:
        BadInput: one line naming the runs and why.
    """
    check_can_be_baseline(baseline)
    if baseline.suite_name != candidate.suite_name:
        raise BadInput(
            f"run {baseline.id} is a run of suite {baseline.suite_name!r}, run {candidate.id}"
            f" of {candidate.suite_name!r}: only runs of one suite are compared"
        )
    theirs = {case_id for case_id, _ in evals.finished_cases(baseline.id)}
    if theirs.isdisjoint(case_id for case_id, _ in evals.finished_cases(candidate.id)):
        raise BadInput(
            f"runs {baseline.id} and {candidate.id} share no case id: nothing to compare"
        )
