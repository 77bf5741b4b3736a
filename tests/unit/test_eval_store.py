"""The evaluation history in SQLite: schema, duplicates, summaries, paging, resume, baselines,
dead runs, cascades, and the query plans that keep the Regressions pane fast."""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.db import open_database
from storage.eval_records import (
    CaseResult,
    DuplicateResult,
    RunStart,
    RunStateError,
    RunSummary,
    SuiteVersion,
    UnknownRun,
    UnknownSuite,
)
from storage.evals import EvalStore
from storage.migrations import migrations
from storage.records import CallStart
from storage.store import Store
from tests.support.old_schema import log_calls_as_before_m013

ROOT = Path(__file__).parents[2]
WHEN = "2026-11-28T10:00:00.000000Z"
LATER = "2026-11-28T10:30:00.000000Z"


@pytest.fixture
def evals(store: Store) -> EvalStore:
    return EvalStore(store)


def suite_version(name: str = "qa", version: str = "v1", cases: int = 3) -> SuiteVersion:
    content = {"name": name, "cases": [{"id": f"c{i}"} for i in range(cases)]}
    return SuiteVersion(
        name=name,
        version=version,
        format="native",
        content=content,
        case_count=cases,
        created_at=WHEN,
        path=f"evals/{name}.yaml",
    )


def start(
    evals: EvalStore,
    suite_id: int,
    model: str = "gpt-4o-mini",
    *,
    pid: int | None = None,
    when: str = WHEN,
    baseline: int | None = None,
) -> int:
    return evals.start_run(
        RunStart(
            suite_id=suite_id,
            model=model,
            started_at=when,
            pid=os.getpid() if pid is None else pid,
            cases_total=3,
            profile="openai",
            endpoint="https://api.openai.com/v1",
            params={"temperature": 0},
            concurrency=8,
            baseline_run_id=baseline,
        )
    )


def result(case_id: str, status: str = "pass", **fields: object) -> CaseResult:
    values: dict[str, object] = {
        "score": 1.0 if status == "pass" else 0.0,
        "latency_ms": 100.0,
        "cost_usd": 0.001,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "finished_at": WHEN,
    }
    values.update(fields)
    return CaseResult(case_id=case_id, status=status, **values)  # type: ignore[arg-type]


def completed_run(
    evals: EvalStore, suite_id: int, model: str = "gpt-4o-mini", passing: int = 2
) -> int:
    run_id = start(evals, suite_id, model)
    for i in range(3):
        evals.record_result(run_id, result(f"c{i}", "pass" if i < passing else "fail"))
    evals.finish_run(run_id, "completed", WHEN)
    return run_id


def count(store: Store, sql: str, args: list[object] | None = None) -> int:
    return int(store.db.execute(sql, args or []).fetchone()[0])


# -- schema -------------------------------------------------------------------------------


def test_a_blank_database_gets_the_eval_tables_and_their_indexes(tmp_path: Path) -> None:
    db = open_database(tmp_path / "blank.db")
    columns = {t: {c.name for c in db.table(t).columns} for t in ("eval_suites", "eval_runs")}
    assert {"name", "path", "version", "format", "content_json", "case_count", "dataset_id"} <= (
        columns["eval_suites"]
    )
    assert {
        "suite_id",
        "suite_name",
        "model",
        "params_json",
        "status",
        "pid",
        "baseline_run_id",
        "is_baseline",
        "adapter_id",
        "cases_total",
        "mean_score",
        "cost_usd",
        "latency_p50_ms",
        "latency_p95_ms",
    } <= columns["eval_runs"]
    results = {c.name for c in db.table("eval_results").columns}
    assert {"run_id", "case_id", "repeat_index", "scores_json", "call_id", "cache_hit"} <= results
    indexes = {i.name for t in ("eval_runs", "eval_results") for i in db.table(t).indexes}
    assert {"idx_eval_runs_suite", "idx_eval_runs_pinned", "idx_eval_results_case"} <= indexes
    assert "m005_evals" in {row["name"] for row in db["_sqlite_migrations"].rows}


def test_the_migration_applies_on_a_database_that_has_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_calls_as_before_m013(monkeypatch)
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m005_evals")
    assert "eval_runs" not in old.table_names()
    older = Store(old)
    call_id = older.calls.start(
        CallStart(WHEN, "p", "http://x/v1", "m", False, {}, [], "k", cache_eligible=True)
    )
    old.close()

    migrated = Store(open_database(path))
    assert migrated.calls.get(call_id) is not None
    assert migrations.pending(migrated.db) == []
    suite_id = EvalStore(migrated).save_suite(suite_version())
    assert EvalStore(migrated).suite(suite_id) is not None
    migrated.close()


# -- suites -------------------------------------------------------------------------------


def test_saving_a_suite_version_again_returns_the_same_id(evals: EvalStore, store: Store) -> None:
    first = evals.save_suite(suite_version(version="v1"))
    assert evals.save_suite(suite_version(version="v1")) == first
    second = evals.save_suite(suite_version(version="v2", cases=5))
    assert second != first
    assert count(store, "SELECT count(*) FROM eval_suites") == 2
    saved = evals.suite(second)
    assert saved is not None
    assert (saved.name, saved.version, saved.case_count) == ("qa", "v2", 5)
    assert saved.content["cases"][4] == {"id": "c4"}
    assert evals.suite(999) is None


def test_the_suite_list_shows_the_newest_version_and_runs_of_every_version(
    evals: EvalStore,
) -> None:
    v1 = evals.save_suite(suite_version("qa", "v1"))
    v2 = evals.save_suite(suite_version("qa", "v2", cases=4))
    other = evals.save_suite(suite_version("alpha", "x1"))
    start(evals, v1, when="2026-11-01T00:00:00.000000Z")
    start(evals, v2, when="2026-11-02T00:00:00.000000Z")
    listing = evals.suites()
    assert [item.name for item in listing] == ["alpha", "qa"]
    alpha, qa = listing
    assert (qa.latest_suite_id, qa.latest_version, qa.case_count) == (v2, "v2", 4)
    assert (qa.versions, qa.run_count, qa.last_run_at) == (2, 2, "2026-11-02T00:00:00.000000Z")
    assert (alpha.latest_suite_id, alpha.run_count, alpha.last_run_at) == (other, 0, None)


# -- writing runs -------------------------------------------------------------------------


def test_a_case_is_recorded_once_per_repeat(evals: EvalStore, store: Store) -> None:
    run_id = start(evals, evals.save_suite(suite_version()))
    evals.record_result(run_id, result("c1"))
    evals.record_result(run_id, result("c1", repeat_index=1))
    with pytest.raises(DuplicateResult, match="'c1' \\(repeat 1\\)"):
        evals.record_result(run_id, result("c1", "fail", repeat_index=1))
    rows = store.db.execute("SELECT status FROM eval_results WHERE run_id = ?", [run_id])
    assert [row[0] for row in rows] == ["pass", "pass"]


def test_bad_results_and_finished_runs_are_refused_without_a_write(
    evals: EvalStore, store: Store
) -> None:
    run_id = start(evals, evals.save_suite(suite_version()))
    with pytest.raises(ValueError, match="case 'c1': status 'ok'"):
        evals.record_result(run_id, result("c1", "ok"))
    with pytest.raises(ValueError, match=r"score 1\.5 is outside"):
        evals.record_result(run_id, result("c1", score=1.5))
    with pytest.raises(RunStateError, match="run 999 is not running"):
        evals.record_result(999, result("c1"))
    evals.finish_run(run_id, "completed", WHEN)
    with pytest.raises(RunStateError):
        evals.record_result(run_id, result("c1"))
    with pytest.raises(RunStateError, match="is completed, not running"):
        evals.finish_run(run_id, "failed", WHEN)
    with pytest.raises(ValueError, match="cannot finish as 'running'"):
        evals.finish_run(run_id, "running", WHEN)
    assert count(store, "SELECT count(*) FROM eval_results") == 0


def test_a_run_needs_a_known_suite_and_baseline(evals: EvalStore, store: Store) -> None:
    suite_id = evals.save_suite(suite_version())
    with pytest.raises(UnknownSuite, match="no evaluation suite has id 77"):
        start(evals, 77)
    with pytest.raises(UnknownRun, match="no evaluation run has id 55"):
        start(evals, suite_id, baseline=55)
    assert count(store, "SELECT count(*) FROM eval_runs") == 0
    run_id = start(evals, suite_id)
    run = evals.run(run_id)
    assert run is not None
    assert (run.suite_name, run.suite_version, run.status, run.summary) == (
        "qa",
        "v1",
        "running",
        None,
    )
    assert (run.params, run.concurrency, run.pid) == ({"temperature": 0}, 8, os.getpid())


# -- summaries ----------------------------------------------------------------------------


def reference_summary(results: list[CaseResult]) -> RunSummary:
    """The summary computed in Python, as RunSummary documents it."""
    answered = sorted(
        r.latency_ms for r in results if r.status != "error" and r.latency_ms is not None
    )
    sent = [r for r in results if not r.cache_hit]
    unknown_cost = any(r.cost_usd is None and r.status != "error" for r in results)
    p95: float | None = None
    if len(answered) >= 2:
        p95 = statistics.quantiles(answered, n=20, method="inclusive")[18]
    elif answered:
        p95 = answered[0]
    return RunSummary(
        passed=sum(r.status == "pass" for r in results),
        failed=sum(r.status == "fail" for r in results),
        errored=sum(r.status == "error" for r in results),
        mean_score=statistics.fmean(r.score or 0 for r in results) if results else None,
        prompt_tokens=sum(r.prompt_tokens or 0 for r in sent),
        completion_tokens=sum(r.completion_tokens or 0 for r in sent),
        cost_usd=None if unknown_cost else sum(r.cost_usd or 0 for r in results),
        latency_p50_ms=statistics.median(answered) if answered else None,
        latency_p95_ms=p95,
    )


def approx_summary(summary: RunSummary) -> RunSummary:
    """`summary` with its float figures wrapped in pytest.approx (None stays None)."""
    floats = ("mean_score", "cost_usd", "latency_p50_ms", "latency_p95_ms")
    values = {f: getattr(summary, f) for f in RunSummary.__dataclass_fields__}
    for name in floats:
        if values[name] is not None:
            values[name] = pytest.approx(values[name], rel=1e-9, abs=1e-12)
    return RunSummary(**values)


case_results = st.builds(
    CaseResult,
    case_id=st.just(""),
    status=st.sampled_from(["pass", "fail", "error"]),
    finished_at=st.just(WHEN),
    score=st.none() | st.floats(0, 1),
    latency_ms=st.none() | st.floats(0, 60_000),
    cost_usd=st.none() | st.floats(0, 1) | st.just(0.0),
    prompt_tokens=st.none() | st.integers(0, 10_000),
    completion_tokens=st.none() | st.integers(0, 10_000),
    cache_hit=st.booleans(),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=st.lists(case_results, max_size=40))
def test_the_summary_equals_a_python_computation_over_the_results(
    evals: EvalStore, drawn: list[CaseResult]
) -> None:
    results = [CaseResult(**{**r.__dict__, "case_id": f"case-{i}"}) for i, r in enumerate(drawn)]
    run_id = start(evals, evals.save_suite(suite_version()))
    for item in results:
        evals.record_result(run_id, item)
    expected = approx_summary(reference_summary(results))
    assert evals.progress(run_id) == expected
    assert evals.finish_run(run_id, "completed", WHEN) == expected
    stored = evals.run(run_id)
    assert stored is not None and stored.summary == expected


def test_latency_percentiles_interpolate_between_ranks(evals: EvalStore) -> None:
    run_id = start(evals, evals.save_suite(suite_version()))
    for i in range(100):  # latencies 1..100 ms, shuffled by the case ids' order
        evals.record_result(run_id, result(f"c{(i * 37) % 100:03d}", latency_ms=float(i + 1)))
    evals.record_result(run_id, result("slow-error", "error", latency_ms=10_000.0))
    summary = evals.finish_run(run_id, "completed", WHEN)
    assert summary.latency_p50_ms == pytest.approx(50.5)
    assert summary.latency_p95_ms == pytest.approx(95.05)
    assert summary.pass_rate == pytest.approx(100 / 101)


def test_an_unknown_cost_is_not_a_zero_cost(evals: EvalStore) -> None:
    run_id = start(evals, evals.save_suite(suite_version()))
    evals.record_result(run_id, result("priced", cost_usd=0.25))
    evals.record_result(run_id, result("failed-call", "error", cost_usd=None, score=None))
    assert evals.progress(run_id).cost_usd == pytest.approx(0.25)
    evals.record_result(run_id, result("unpriced", cost_usd=None))
    assert evals.progress(run_id).cost_usd is None


# -- paging -------------------------------------------------------------------------------


def test_keyset_paging_returns_every_run_once_newest_first(evals: EvalStore) -> None:
    suites = [evals.save_suite(suite_version(name, v)) for name in ("a", "b") for v in ("1", "2")]
    models = ("m1", "m2", "m3")
    made = [(start(evals, suites[i % 4], models[i % 3]), i) for i in range(47)]
    filters: list[tuple[str | None, str | None]] = [
        (None, None),
        ("a", None),
        (None, "m2"),
        ("b", "m1"),
    ]
    for suite_name, model in filters:
        expected = [
            run_id
            for run_id, i in reversed(made)
            if suite_name in (None, "ab"[i % 4 // 2]) and model in (None, models[i % 3])
        ]
        seen: list[int] = []
        page = evals.runs(suite_name, model, limit=5)
        while page:
            seen += [run.id for run in page]
            page = evals.runs(suite_name, model, limit=5, before_id=page[-1].id)
        assert seen == expected, (suite_name, model)


def test_result_pages_follow_case_and_repeat_order(evals: EvalStore) -> None:
    run_id = start(evals, evals.save_suite(suite_version()))
    statuses = ("pass", "fail", "error")
    for i in (5, 3, 9, 1, 7, 0, 8, 2, 6, 4):
        for repeat in (1, 0):
            evals.record_result(
                run_id, result(f"c{i}", statuses[(i + repeat) % 3], repeat_index=repeat)
            )
    for status in (None, "fail"):
        seen: list[tuple[str, int]] = []
        page = evals.results(run_id, status=status, limit=3)
        while page:
            seen += [(r.case_id, r.repeat_index) for r in page]
            last = page[-1]
            page = evals.results(run_id, status, 3, after=(last.case_id, last.repeat_index))
        expected = sorted(
            (f"c{i}", repeat)
            for i in range(10)
            for repeat in (0, 1)
            if status is None or statuses[(i + repeat) % 3] == status
        )
        assert seen == expected


def test_results_come_back_as_recorded(evals: EvalStore) -> None:
    run_id = start(evals, evals.save_suite(suite_version()))
    recorded = result(
        "ünïcode-case",
        "fail",
        score=0.25,
        critical=True,
        tags=("safety", "日本"),
        output_text="answer\n\x1b[31mred\x1b[0m",
        scores=[{"type": "contains", "passed": False, "score": 0.25, "reason": "no 'x'"}],
        cache_hit=True,
        call_id=42,
    )
    result_id = evals.record_result(run_id, recorded)
    (back,) = evals.results(run_id)
    assert (back.id, back.run_id) == (result_id, run_id)
    assert CaseResult(**{f: getattr(back, f) for f in CaseResult.__dataclass_fields__}) == recorded


# -- resume, dead runs --------------------------------------------------------------------


def test_a_resumed_run_knows_its_finished_cases(evals: EvalStore) -> None:
    run_id = start(evals, evals.save_suite(suite_version()))
    evals.record_result(run_id, result("c0"))
    evals.record_result(run_id, result("c1", "error", repeat_index=2))
    evals.finish_run(run_id, "interrupted", WHEN)
    run = evals.reopen_run(run_id, os.getpid(), LATER)
    assert (run.status, run.summary, run.finished_at) == ("running", None, None)
    assert evals.finished_cases(run_id) == {("c0", 0), ("c1", 2)}
    with pytest.raises(DuplicateResult):
        evals.record_result(run_id, result("c0"))
    evals.record_result(run_id, result("c2"))
    summary = evals.finish_run(run_id, "completed", "2026-11-28T11:00:00.000000Z")
    assert (summary.passed, summary.errored) == (2, 1)
    with pytest.raises(RunStateError, match="completed: nothing to resume"):
        evals.reopen_run(run_id, os.getpid(), LATER)
    with pytest.raises(UnknownRun):
        evals.reopen_run(12345, os.getpid(), LATER)


def test_a_completed_runs_errored_cases_are_taken_back_to_be_sent_again(
    evals: EvalStore,
) -> None:
    run_id = start(evals, evals.save_suite(suite_version()))
    evals.record_result(run_id, result("c0"))
    evals.record_result(run_id, result("c1", "error"))
    evals.record_result(run_id, result("c2", "error", repeat_index=1))
    evals.finish_run(run_id, "completed", WHEN)
    with pytest.raises(RunStateError, match="`--retry-errors` sends its 2 errored case"):
        evals.reopen_run(run_id, os.getpid(), LATER)
    assert evals.errored_cases(run_id) == {("c1", 0), ("c2", 1)}
    evals.set_baseline(run_id)
    with pytest.raises(RunStateError, match=f"run {run_id} is a pinned baseline: unpin it first"):
        evals.reopen_run(run_id, os.getpid(), LATER, retry_errors=True)
    assert evals.errored_cases(run_id) == {("c1", 0), ("c2", 1)}  # nothing changed
    evals.clear_baseline(run_id)

    run = evals.reopen_run(run_id, os.getpid(), LATER, retry_errors=True)
    assert run.status == "running" and evals.finished_cases(run_id) == {("c0", 0)}
    evals.record_result(run_id, result("c1"))
    evals.record_result(run_id, result("c2", repeat_index=1))
    summary = evals.finish_run(run_id, "completed", "2026-11-28T11:00:00.000000Z")
    assert (summary.passed, summary.errored) == (3, 0)
    with pytest.raises(RunStateError, match="completed with no errored case: nothing to retry"):
        evals.reopen_run(run_id, os.getpid(), LATER, retry_errors=True)


def test_a_resumed_run_counts_the_time_it_ran_not_the_time_it_lay_interrupted(
    evals: EvalStore,
) -> None:
    run_id = start(evals, evals.save_suite(suite_version()))  # at 10:00:00
    evals.record_result(run_id, result("c0"))
    evals.finish_run(run_id, "interrupted", "2026-11-28T10:00:02.000000Z")  # ran 2 s
    assert evals.run(run_id).running_ms == 2000  # type: ignore[union-attr]

    gone = subprocess.Popen([sys.executable, "-c", ""])  # the process that resumes it dies
    gone.wait()
    run = evals.reopen_run(run_id, gone.pid, "2026-11-28T11:00:00.000000Z")  # an hour later
    assert (run.resumed_at, run.earlier_ms, run.running_ms) == (
        "2026-11-28T11:00:00.000000Z",
        2000,
        None,
    )
    evals.record_result(run_id, result("c1", finished_at="2026-11-28T11:00:02.500000Z"))
    # Its process dies: this session ran until its last result, 2.5 s.
    evals.reopen_run(run_id, os.getpid(), "2026-11-28T12:00:00.000000Z")
    evals.record_result(run_id, result("c2"))
    evals.finish_run(run_id, "completed", "2026-11-28T12:00:03.000000Z")
    run = evals.run(run_id)
    assert run is not None and (run.earlier_ms, run.running_ms) == (4500, 7500)


def test_m011_gives_runs_recorded_before_it_no_earlier_time(tmp_path: Path) -> None:
    old = sqlite_utils.Database(tmp_path / "t.db")
    migrations.apply(old, stop_before="m011_eval_runs_running_time")
    before = EvalStore(Store(old))
    run_id = start(before, before.save_suite(suite_version()))
    old.execute(
        "UPDATE eval_runs SET status = 'completed', finished_at = ? WHERE id = ?",
        ["2026-11-28T10:00:04.000000Z", run_id],
    )
    old.conn.commit()
    old.close()

    run = EvalStore(Store(open_database(tmp_path / "t.db"))).run(run_id)
    assert run is not None and (run.resumed_at, run.earlier_ms, run.running_ms) == (None, 0, 4000)


def run_in_a_process_then_kill_it(database: Path, suite_id: int) -> int:
    """Start a run in another process, record two results there, kill -9 it; the run's id."""
    script = textwrap.dedent(
        f"""
        import os, sys, time
        from storage.store import Store
        from storage.evals import EvalStore
        from storage.eval_records import CaseResult, RunStart
        evals = EvalStore(Store.open({str(database)!r}))
        run_id = evals.start_run(RunStart(suite_id={suite_id}, model="m", pid=os.getpid(),
            started_at="2026-11-28T10:00:00.000000Z", cases_total=3))
        for i, at in enumerate(["2026-11-28T10:00:01.000000Z", "2026-11-28T10:00:02.000000Z"]):
            evals.record_result(run_id, CaseResult(case_id=f"c{{i}}", status="pass",
                score=1.0, latency_ms=10.0 * (i + 1), cost_usd=0.0, finished_at=at))
        print(run_id, flush=True)
        time.sleep(60)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    run_id = int(child.stdout.readline())
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()
    return run_id


def test_runs_of_a_killed_process_are_marked_interrupted(
    evals: EvalStore, store: Store, database_file: Path
) -> None:
    suite_id = evals.save_suite(suite_version())
    killed = run_in_a_process_then_kill_it(database_file, suite_id)
    alive = start(evals, suite_id)  # this process: alive
    assert evals.run(killed).status == "running"  # type: ignore[union-attr]

    assert evals.mark_interrupted_dead_runs() == [killed]
    run = evals.run(killed)
    assert run is not None and run.summary is not None
    assert (run.status, run.finished_at) == ("interrupted", "2026-11-28T10:00:02.000000Z")
    assert (run.summary.passed, run.summary.latency_p50_ms) == (2, 15.0)
    assert evals.run(alive).status == "running"  # type: ignore[union-attr]
    assert evals.mark_interrupted_dead_runs() == []

    with pytest.raises(RunStateError, match=f"being run by process {os.getpid()}"):
        evals.reopen_run(alive, os.getpid(), LATER)
    assert evals.reopen_run(killed, os.getpid(), LATER).status == "running"
    assert evals.finished_cases(killed) == {("c0", 0), ("c1", 0)}


@pytest.fixture
def database_file(store: Store) -> Path:
    """The file of the `store` fixture's database."""
    return Path(store.db.conn.execute("PRAGMA database_list").fetchone()[2])


# -- baselines ----------------------------------------------------------------------------


def test_one_baseline_is_pinned_per_suite_name_and_model(evals: EvalStore, store: Store) -> None:
    v1 = evals.save_suite(suite_version("qa", "v1"))
    v2 = evals.save_suite(suite_version("qa", "v2"))
    first = completed_run(evals, v1)
    other_model = completed_run(evals, v1, "gpt-4.1")
    newer_version = completed_run(evals, v2)
    assert evals.pinned_baseline("qa", "gpt-4o-mini") is None

    evals.set_baseline(first)
    evals.set_baseline(other_model)
    pinned = evals.pinned_baseline("qa", "gpt-4o-mini")
    assert pinned is not None and (pinned.id, pinned.is_baseline) == (first, True)

    evals.set_baseline(newer_version)  # another version of the same suite: replaces it
    assert evals.pinned_baseline("qa", "gpt-4o-mini").id == newer_version  # type: ignore[union-attr]
    assert evals.pinned_baseline("qa", "gpt-4.1").id == other_model  # type: ignore[union-attr]
    assert count(store, "SELECT count(*) FROM eval_runs WHERE is_baseline = 1") == 2
    with pytest.raises(sqlite3.IntegrityError), store.write() as db:
        db.execute("UPDATE eval_runs SET is_baseline = 1 WHERE id = ?", [first])

    evals.clear_baseline(newer_version)
    assert evals.pinned_baseline("qa", "gpt-4o-mini") is None
    running = start(evals, v2)
    with pytest.raises(RunStateError, match="only a completed run is pinned"):
        evals.set_baseline(running)


def test_the_latest_completed_run_of_a_model_and_version(evals: EvalStore) -> None:
    v1 = evals.save_suite(suite_version("qa", "v1"))
    v2 = evals.save_suite(suite_version("qa", "v2"))
    old = completed_run(evals, v1)
    new = completed_run(evals, v2)
    completed_run(evals, v2, "gpt-4.1")
    start(evals, v2)  # running: never the latest completed
    interrupted = start(evals, v1)
    evals.finish_run(interrupted, "interrupted", WHEN)

    assert evals.latest_completed_run("qa", "gpt-4o-mini").id == new  # type: ignore[union-attr]
    assert evals.latest_completed_run("qa", "gpt-4o-mini", "v1").id == old  # type: ignore[union-attr]
    assert evals.latest_completed_run("qa", "gpt-4o-mini", "v9") is None
    assert evals.latest_completed_run("other", "gpt-4o-mini") is None


def test_the_pass_rate_history_per_model_oldest_first(evals: EvalStore) -> None:
    suite_id = evals.save_suite(suite_version())
    a1 = completed_run(evals, suite_id, "a", passing=1)
    b1 = completed_run(evals, suite_id, "b", passing=3)
    start(evals, suite_id, "a")  # running: not in the chart
    a2 = completed_run(evals, suite_id, "a", passing=2)
    history = evals.pass_rate_history("qa")
    assert {model: [p.run_id for p in points] for model, points in history.items()} == {
        "a": [a1, a2],
        "b": [b1],
    }
    assert [p.pass_rate for p in history["a"]] == pytest.approx([1 / 3, 2 / 3])
    assert history["b"][0].suite_version == "v1"
    assert [p.run_id for p in evals.pass_rate_history("qa", limit=2)["a"]] == [a2]


def test_paired_results_match_cases_and_list_the_unmatched(evals: EvalStore) -> None:
    suite_id = evals.save_suite(suite_version())
    a, b = start(evals, suite_id), start(evals, suite_id, "gpt-4.1")
    for case in ("c1", "c2", "only-a"):
        evals.record_result(a, result(case))
    evals.record_result(a, result("c2", "fail", repeat_index=1))
    for case in ("c2", "c1", "only-b"):
        evals.record_result(b, result(case, "fail"))
    paired = evals.paired_results(a, b)
    assert [(p.case_id, len(p.a), len(p.b)) for p in paired.paired] == [
        ("c1", 1, 1),
        ("c2", 2, 1),
    ]
    assert [r.status for r in paired.paired[1].a] == ["pass", "fail"]
    assert {r.run_id for p in paired.paired for r in p.b} == {b}
    assert [(p.case_id, p.b) for p in paired.only_a] == [("only-a", ())]
    assert [(p.case_id, p.a) for p in paired.only_b] == [("only-b", ())]


# -- deletion -----------------------------------------------------------------------------


def test_deleting_a_run_deletes_its_results_and_unlinks_its_followers(
    evals: EvalStore, store: Store
) -> None:
    suite_id = evals.save_suite(suite_version())
    gone = completed_run(evals, suite_id)
    follower = start(evals, suite_id, baseline=gone)
    evals.record_result(follower, result("c0"))
    assert evals.delete_run(gone) is True
    assert count(store, "SELECT count(*) FROM eval_results WHERE run_id = ?", [gone]) == 0
    assert count(store, "SELECT count(*) FROM eval_results WHERE run_id = ?", [follower]) == 1
    assert evals.run(follower).baseline_run_id is None  # type: ignore[union-attr]
    assert evals.delete_run(gone) is False


# -- query plans --------------------------------------------------------------------------


@pytest.fixture
def traced(store: Store) -> Iterator[list[str]]:
    """Every statement this thread's read connection runs, with its values inlined."""
    statements: list[str] = []
    with store.read() as db:
        db.conn.set_trace_callback(statements.append)
    yield statements
    with store.read() as db:
        db.conn.set_trace_callback(None)


def plan_of(store: Store, sql: str) -> str:
    rows = store.db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    return "\n".join(row[-1] for row in rows)


def test_the_pane_reads_are_index_ranges(evals: EvalStore, store: Store, traced: list[str]) -> None:
    suite_id = evals.save_suite(suite_version())
    a, b = completed_run(evals, suite_id), completed_run(evals, suite_id, "gpt-4.1")
    evals.set_baseline(a)
    traced.clear()
    evals.suites()
    evals.runs("qa", limit=50, before_id=b)
    evals.runs(model="gpt-4.1", before_id=b)
    evals.runs("qa", "gpt-4.1", before_id=b)
    evals.results(a, limit=100, after=("c1", 0))
    evals.results(a, "fail", limit=100, after=("c1", 0))
    evals.paired_results(a, b)
    evals.pass_rate_history("qa")
    evals.latest_completed_run("qa", "gpt-4.1")
    evals.latest_completed_run("qa", "gpt-4.1", "v1")
    evals.pinned_baseline("qa", "gpt-4o-mini")
    evals.finished_cases(a)
    evals.progress(a)
    selects = [sql for sql in traced if sql.lstrip().startswith("SELECT")]
    assert len(selects) == 15
    for sql in selects:
        steps = plan_of(store, sql)
        assert "SCAN eval_results" not in steps, (sql, steps)
        assert "SCAN eval_runs" not in steps, (sql, steps)
        assert "TEMP B-TREE" not in steps, (sql, steps)


def test_percentiles_of_no_values_are_none() -> None:
    from storage.eval_rows import percentile

    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    assert math.isclose(percentile([1.0, 2.0], 0.5) or 0, 1.5)
