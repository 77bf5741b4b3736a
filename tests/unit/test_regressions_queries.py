"""The reads the Regressions pane adds to `EvalStore`: runs and results paged upwards
(`after_id`, `before`), the pinned baselines of a suite; and the pane's diff lines, which must
agree with the comparison when cases are repeated."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from core.clock import iso
from core.evals.report import Baseline, build_report
from storage.eval_records import CaseResult, RecordedResult, RunStart
from storage.evals import EvalStore
from storage.store import Store
from tests.support.eval_seed import suite_version
from tui.widgets.regressions.compare import diff_runs

NOW = iso(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))


@pytest.fixture
def evals(store: Store) -> EvalStore:
    return EvalStore(store)


def new_run(evals: EvalStore, suite_id: int, model: str = "m", repeats: int = 1) -> int:
    start = RunStart(suite_id=suite_id, model=model, started_at=NOW, pid=os.getpid(),
                     cases_total=3 * repeats, repeats=repeats)  # fmt: skip
    return evals.start_run(start)


def record(evals: EvalStore, run_id: int, case: str, status: str, repeat: int = 0) -> None:
    result = CaseResult(
        case_id=case,
        status=status,
        finished_at=NOW,
        repeat_index=repeat,
        score=1.0 if status == "pass" else 0.0,
        critical=case == "crit",
    )
    evals.record_result(run_id, result)


def test_runs_after_an_id_are_the_page_right_above_it_newest_first(evals: EvalStore) -> None:
    qa = evals.save_suite(suite_version("qa", "1a", 3, NOW))
    other = evals.save_suite(suite_version("other", "2b", 3, NOW))
    ids = [new_run(evals, qa if n % 3 else other) for n in range(30)]
    listing = [run.id for run in evals.runs("qa", limit=100)]
    assert listing == sorted((i for n, i in enumerate(ids) if n % 3), reverse=True)

    anchor = listing[12]
    above = [run.id for run in evals.runs("qa", limit=5, after_id=anchor)]
    assert above == listing[7:12]
    below = [run.id for run in evals.runs("qa", limit=5, before_id=anchor)]
    assert below == listing[13:18]
    assert [run.id for run in evals.runs("qa", limit=5, after_id=listing[2])] == listing[:2]


def test_results_before_a_case_mirror_results_after_it(evals: EvalStore) -> None:
    suite = evals.save_suite(suite_version("qa", "1a", 3, NOW))
    run = new_run(evals, suite, repeats=2)
    for case in ("a", "b", "c", "d", "e"):
        for repeat in (0, 1):
            record(evals, run, case, "fail" if (case, repeat) in {("b", 1), ("d", 0)} else "pass",
                   repeat)  # fmt: skip
    every = [(r.case_id, r.repeat_index) for r in evals.results(run, limit=100)]
    assert every == sorted(every) and len(every) == 10

    before = evals.results(run, limit=3, before=("d", 0))
    assert [(r.case_id, r.repeat_index) for r in before] == every[3:6]
    failed = evals.results(run, "fail", limit=5, before=("e", 0))
    assert [(r.case_id, r.repeat_index) for r in failed] == [("b", 1), ("d", 0)]
    assert evals.results(run, limit=3, before=("a", 0)) == []


def test_pinned_baselines_are_a_suites_pinned_runs_one_per_model(evals: EvalStore) -> None:
    qa = evals.save_suite(suite_version("qa", "1a", 3, NOW))
    other = evals.save_suite(suite_version("other", "2b", 3, NOW))
    runs = {(suite, model): new_run(evals, suite, model) for suite in (qa, other)
            for model in ("m1", "m2")}  # fmt: skip
    for run_id in runs.values():
        evals.finish_run(run_id, "completed", NOW)
        evals.set_baseline(run_id)
    assert [run.id for run in evals.pinned_baselines("qa")] == [runs[qa, "m2"], runs[qa, "m1"]]
    evals.clear_baseline(runs[qa, "m2"])
    assert [run.id for run in evals.pinned_baselines("qa")] == [runs[qa, "m1"]]
    assert evals.pinned_baselines("missing") == []


def test_diff_lines_combine_repeats_as_the_comparison_does(evals: EvalStore) -> None:
    suite = evals.save_suite(suite_version("qa", "1a", 3, NOW))
    a, b = new_run(evals, suite, repeats=3), new_run(evals, suite, repeats=3)
    outcomes = {  # case: (statuses in A, statuses in B)
        "crit": (["pass"] * 3, ["pass", "fail", "fail"]),  # broke, critical
        "flaky": (["pass", "fail", "pass"], ["fail", "pass", "pass"]),  # passes in both
        "fixed": (["fail"] * 3, ["pass", "pass", "error"]),
        "dead": (["pass"] * 3, ["error"] * 3),  # no answer: errored, not a flip
    }
    for case, (in_a, in_b) in outcomes.items():
        for repeat, (status_a, status_b) in enumerate(zip(in_a, in_b, strict=True)):
            record(evals, a, case, status_a, repeat)
            record(evals, b, case, status_b, repeat)
    for run_id in (a, b):
        evals.finish_run(run_id, "completed", NOW)
    run_a, run_b = evals.run(a), evals.run(b)
    assert run_a is not None and run_b is not None

    report = build_report(evals, run_b, Baseline(run_a, f"run {a}"))
    diff = diff_runs(run_a, report, evals.paired_results(a, b))
    lines = {line.case_id: line for line in diff.lines}
    assert {case: (line.a, line.b, line.flip) for case, line in lines.items()} == {
        "crit": ("pass", "fail", "broke"),
        "dead": ("pass", "error", "errored"),
        "fixed": ("fail", "pass", "fixed"),
        "flaky": ("pass", "pass", ""),
    }
    assert set(report.comparison.broke) == {"crit"} and report.comparison.errored == ("dead",)
    assert [line.case_id for line in diff.regressions()] == ["crit"]
    assert len(lines["crit"].results_b) == 3


def test_a_result_read_back_equals_the_one_recorded_field_for_field(evals: EvalStore) -> None:
    # Read from a cursor's tuples (`result_from_values`), every field lands where it belongs.
    suite = evals.save_suite(suite_version("qa", "1a", 3, NOW))
    run = new_run(evals, suite)
    recorded = CaseResult(
        case_id="c-oslo", status="fail", finished_at=NOW, repeat_index=0, score=0.25,
        critical=True, tags=("geo", "europe"), output_text="Bergen", error=None,
        scores=[{"type": "contains", "passed": False, "score": 0.25, "reason": "no Oslo"}],
        latency_ms=812.5, cost_usd=0.0004, prompt_tokens=31, completion_tokens=2,
        cache_hit=True, call_id=None,
    )  # fmt: skip
    evals.record_result(run, recorded)
    record(evals, run, "c-paris", "pass")
    (read,) = evals.results(run, "fail")
    assert read == RecordedResult(**vars(recorded), id=read.id, run_id=run)
    paired = evals.paired_results(run, run).paired
    assert [pair.a[0] for pair in paired] == [read, *evals.results(run, "pass")]
    same_tags = evals.results(run, limit=1, after=("c-oslo", 0))
    assert same_tags[0].tags == () and read.tags == ("geo", "europe")


def test_suites_are_listed_as_a_person_sorts_them_case_aside(evals: EvalStore) -> None:
    for name in ("capitals", "Capitals pf", "beta", "Zeta", "alpha"):
        evals.save_suite(suite_version(name, "ab", 1, NOW))
    names = [suite.name for suite in evals.suites()]
    assert names == ["alpha", "beta", "capitals", "Capitals pf", "Zeta"]
