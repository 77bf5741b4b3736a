"""The runs table's pass column: a run that recorded only part of its cases says so."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from storage.eval_records import RunSummary
from storage.evals import EvalStore
from storage.store import Store
from tests.support.eval_seed import seed_evals
from tui.widgets.regressions.runs import COLUMNS, pass_rate

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WIDTH = dict((key, width) for key, _, width in COLUMNS)["rate"]


def test_a_partial_run_is_marked_by_how_much_it_recorded_within_the_column(store: Store) -> None:
    seed_evals(store, NOW)
    run = EvalStore(store).run(6)  # completed, 8 of 8
    assert run is not None and run.status == "completed"
    assert pass_rate(run).plain == " 75.0%"

    stopped = replace(run, status="interrupted", cases_total=40)
    marks = {}
    for done in (2, 10, 20, 26, 39):
        summary = RunSummary(passed=done, failed=0, errored=0)
        cell = pass_rate(replace(stopped, summary=summary)).plain
        assert cell.startswith("100.0%") and len(cell) <= WIDTH
        marks[done] = cell[-1]
    assert marks == {2: "○", 10: "◔", 20: "◑", 26: "◕", 39: "◕"}
    whole = replace(stopped, cases_total=26, summary=RunSummary(passed=26, failed=0, errored=0))
    assert pass_rate(whole).plain == "100.0%"  # stopped after its last case: nothing missing
