"""The baseline a resumed run is judged against (`tunedeck eval resume` and the Regressions
pane's resume agree through it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.evals.report import Baseline, check_baseline_fits, completed_run, find_baseline

if TYPE_CHECKING:
    from storage.eval_records import EvalRun
    from storage.evals import EvalStore


def baseline_for_resume(evals: EvalStore, run: EvalRun, spec: str | None = None) -> Baseline | None:
    """The baseline named by `spec` (a run id or a model), else the one `run` was started
    against, else its suite's pinned baseline (`find_baseline`), if any.

    Raises:
        BadInput: as `find_baseline`; or the baseline named or pinned is a run of another
            suite (`check_baseline_fits`).
    """
    if spec is None and run.baseline_run_id is not None:
        return Baseline(completed_run(evals, run.baseline_run_id), f"run {run.baseline_run_id}")
    found = find_baseline(evals, run.suite_name, run.suite_version, run.model, spec)
    if found is not None:
        check_baseline_fits(evals, found, run.suite_name)
    return found
