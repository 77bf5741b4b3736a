"""The evaluation history at scale: the Regressions pane's reads, and results committed one by one.

Run: python tests/bench/bench_eval_store.py [--quick] [--runs N] [--keep-db]. Not collected by
pytest.

The issue's target: with 10,000 runs and 2,000,000 case results in the database, the
Regressions pane opens and scrolls in under 100 ms, so each of its reads must be an index range.

The large database (default 10,000 runs of 200 cases: 2,000,000 results) holds 20 suites of one
to three versions, six models, runs ~5% interrupted or failed, one pinned baseline per suite and
model, outputs of ~150 characters with one scorer's verdict each. It is made with `Store.open`
(migration m005 makes the tables and indexes), then the rows go in with executemany in one
transaction, and a checkpoint; no ANALYZE (the app never runs it, so the plans are a user's).
With --keep-db the file stays in the system temporary folder, keyed by its size, for the next
run. The baseline database is built the same way with 100 runs.

On each database, through `EvalStore` on a fresh `Store` (its first read of each query is cold
for SQLite's page cache, not for the OS's):
a) The pane's reads, each on 20 sample runs or suites picked at random: the suites list, the
   first page of a suite's runs (50) and a page deep in it (keyset `before_id`), a page of a
   model's runs, a results page of a run (100) and the next one (keyset `after`), its failures,
   the paired results of two runs of the same suite (200 cases each), the pass-rate history
   (200 runs), the latest completed run and the pinned baseline, a run's summary so far.
   First sample, then median and max of the 20 in ms, and the large/baseline ratio of the
   medians. "pane open" adds what the pane reads to show its first screen (suites, runs of
   the first suite, its history, results of its newest run); "pane scroll" the next runs page
   and the next results page. Plans of each read on the large database are printed: none may
   scan `eval_results`.
b) `record_result` throughput: a new run of 2,000 cases records its results one by one, each
   in its own `BEGIN IMMEDIATE` transaction, as the runner does; against the same INSERT
   between BEGIN IMMEDIATE and COMMIT on a bare sqlite3 connection with the writer's pragmas
   (no run-status guard, no Python record) on the same file. The run is
   deleted after (its results cascade), so a kept database stays as built.
Other processes on the machine skew the figures: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from storage.eval_records import CaseResult, PairedResults, RunStart, RunSummary, SuiteVersion
from storage.eval_rows import RESULT_COLUMNS, percentile, result_values
from storage.evals import EvalStore
from storage.store import Store

CASES = 200
SUITES = 20
MODELS = (
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "ft:gpt-4o-mini:acme::a1",
    "llama-3.1-8b",
    "qwen",
)
WORDS = ("the", "river", "answer", "paris", "json", "total", "is", "not", "seine", "loire", "42")
SAMPLES = 20
START = 1_767_225_600.0  # 2026-01-01, runs every 30 minutes after


def iso(seconds: float) -> str:
    """UTC ISO text as the store keeps it."""
    micros = int(seconds % 1 * 1e6)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


def suite_rows() -> list[tuple[Any, ...]]:
    """(id, name, version) of every suite version: suite i has 1 + i % 3 versions."""
    rows, next_id = [], 1
    for i in range(SUITES):
        for v in range(1 + i % 3):
            rows.append((next_id, f"suite-{i:02d}", f"{i:02d}{v:062x}"))
            next_id += 1
    return rows


def result_rows(run_id: int, rng: random.Random, pass_p: float, at: float) -> list[tuple[Any, ...]]:
    """The 200 results of one run (values of `run_id, RESULT_COLUMNS`)."""
    rows = []
    for case in range(CASES):
        draw = rng.random()
        status = "pass" if draw < pass_p else "error" if draw > 0.99 else "fail"
        score = 1.0 if status == "pass" else (None if status == "error" else rng.random() / 2)
        offset = rng.randrange(0, 500)
        text = " ".join(WORDS[(offset + k) % len(WORDS)] for k in range(25))
        verdict = json.dumps(
            [{"type": "contains", "passed": status == "pass", "score": score or 0, "reason": "-"}]
        )
        latency = None if status == "error" else rng.lognormvariate(6.5, 0.5)
        rows.append(
            (run_id, f"case-{case:04d}", 0, status, score, int(case % 50 == 0), '["qa"]',
             text, verdict, "timeout" if status == "error" else None, latency,
             None if status == "error" else 0.00004, 120, 40, int(rng.random() < 0.1), None,
             iso(at + case / 10))
        )  # fmt: skip
    return rows


def summary_of(rows: list[tuple[Any, ...]]) -> list[Any]:
    """The summary columns of a run computed from its generated rows."""
    statuses = [row[3] for row in rows]
    latencies = sorted(row[10] for row in rows if row[10] is not None)
    sent = [row for row in rows if not row[14]]  # cache hits send nothing
    return [
        statuses.count("pass"),
        statuses.count("fail"),
        statuses.count("error"),
        statistics.fmean(row[4] or 0 for row in rows),
        sum(row[12] for row in sent),
        sum(row[13] for row in sent),
        sum(row[11] or 0 for row in rows),
        percentile(latencies, 0.5),
        percentile(latencies, 0.95),
    ]


def build(path: Path, runs: int) -> None:
    """A database of `runs` runs of 200 results each, made as the module docstring says."""
    began = time.perf_counter()
    store = Store.open(path)
    conn = store.db.conn
    conn.execute("PRAGMA cache_size = -262144")
    rng = random.Random(4)
    suites = suite_rows()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO eval_suites (id, name, version, format, content_json, case_count,"
        " created_at, path) VALUES (?, ?, ?, 'native', '{}', ?, ?, ?)",
        [(i, name, v, CASES, iso(START), f"evals/{name}.yaml") for i, name, v in suites],
    )
    run_sql = (
        "INSERT INTO eval_runs (id, suite_id, suite_name, model, profile, endpoint, params_json,"
        " concurrency, repeats, status, started_at, finished_at, pid, cases_total, passed,"
        " failed, errored, mean_score, prompt_tokens, completion_tokens, cost_usd,"
        " latency_p50_ms, latency_p95_ms) VALUES (?, ?, ?, ?, 'openai', 'https://x/v1',"
        " '{\"temperature\": 0}', 8, 1, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    result_sql = (
        f"INSERT INTO eval_results (run_id, {RESULT_COLUMNS})"
        f" VALUES ({', '.join('?' * (RESULT_COLUMNS.count(',') + 2))})"
    )
    for run_id in range(1, runs + 1):
        suite_name = f"suite-{run_id % SUITES:02d}"
        versions = [s for s in suites if s[1] == suite_name]
        suite_id = versions[min(len(versions) - 1, run_id * len(versions) // runs)][0]
        model = MODELS[(run_id // SUITES) % len(MODELS)]
        at = START + run_id * 1800
        rows = result_rows(run_id, rng, 0.6 + 0.05 * MODELS.index(model), at)
        status = "completed" if rng.random() < 0.95 else rng.choice(["interrupted", "failed"])
        conn.execute(
            run_sql,
            [run_id, suite_id, suite_name, model, status, iso(at), iso(at + 30), CASES,
             *summary_of(rows)],
        )  # fmt: skip
        conn.executemany(result_sql, rows)
    conn.execute(
        "UPDATE eval_runs SET is_baseline = 1 WHERE id IN (SELECT min(id) FROM eval_runs"
        " WHERE status = 'completed' GROUP BY suite_name, model)"
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    size = path.stat().st_size / 1e6
    print(f"  built {path.name}: {runs:,} runs, {runs * CASES:,} results, {size:,.0f} MB"
          f" in {time.perf_counter() - began:.1f} s")  # fmt: skip


def prepared(folder: Path, runs: int, keep: bool) -> Path:
    """The database of `runs` runs: built in `folder`, or kept from an earlier run."""
    home = Path(tempfile.gettempdir()) if keep else folder
    path = home / f"tunedeck-bench-evals-{runs}.db"
    if keep and path.exists():
        print(f"  reusing {path}")
        return path
    path.unlink(missing_ok=True)
    build(path, runs)
    return path


def reads(evals: EvalStore, runs: int, rng: random.Random) -> dict[str, Callable[[], object]]:
    """The pane's reads, each on a sample picked at random when called."""

    def some_run() -> int:
        return rng.randrange(1, runs + 1)

    def suite_of(run_id: int) -> str:
        return f"suite-{run_id % SUITES:02d}"

    def next_results_page() -> object:
        run_id = some_run()
        page = evals.results(run_id, limit=100)
        return evals.results(run_id, limit=100, after=(page[-1].case_id, page[-1].repeat_index))

    def paired() -> object:
        a = some_run()
        b = a + SUITES if a + SUITES <= runs else a - SUITES  # same suite, another model
        return evals.paired_results(a, b)

    return {
        "suites list": evals.suites,
        "runs of a suite, first page": lambda: evals.runs(suite_of(some_run()), limit=50),
        "runs of a suite, deep page": lambda: evals.runs(
            suite_of(some_run()), limit=50, before_id=some_run()
        ),
        "runs of a model, a page": lambda: evals.runs(
            model=rng.choice(MODELS), limit=50, before_id=some_run()
        ),
        "results of a run, first page": lambda: evals.results(some_run(), limit=100),
        "results of a run, next page": next_results_page,
        "failures of a run": lambda: evals.results(some_run(), "fail", limit=100),
        "paired results (200 cases)": paired,
        "pass-rate history (200)": lambda: evals.pass_rate_history(suite_of(some_run())),
        "latest completed run": lambda: evals.latest_completed_run(
            suite_of(some_run()), rng.choice(MODELS)
        ),
        "pinned baseline": lambda: evals.pinned_baseline(suite_of(some_run()), rng.choice(MODELS)),
        "summary so far (200)": lambda: evals.progress(some_run()),
    }


def pane_open(evals: EvalStore) -> object:
    """What the pane reads to show its first screen."""
    suites = evals.suites()
    runs = evals.runs(suites[0].name, limit=50)
    evals.pass_rate_history(suites[0].name)
    return evals.results(runs[0].id, limit=100)


def pane_scroll(evals: EvalStore) -> object:
    """The next page of the runs list and of the results table."""
    runs = evals.runs("suite-00", limit=50)
    page = evals.results(runs[0].id, limit=100)
    evals.runs("suite-00", limit=50, before_id=runs[-1].id)
    return evals.results(runs[0].id, limit=100, after=(page[-1].case_id, 0))


Figures = dict[str, tuple[float, float, float, float]]
"""Per read: first, median and max ms, and the mean number of records it returned."""


def size(found: object) -> int:
    """How many records a read returned (runs, results, cases, history points...)."""
    if isinstance(found, PairedResults):
        return len(found.paired) + len(found.only_a) + len(found.only_b)
    if isinstance(found, dict):
        return sum(len(points) for points in found.values())
    if isinstance(found, RunSummary):
        return found.recorded
    if isinstance(found, list):
        return len(found)
    return int(found is not None)


def timed(action: Callable[[], object]) -> tuple[float, int]:
    """Milliseconds the action took, and the size of what it returned."""
    began = time.perf_counter()
    found = action()
    return (time.perf_counter() - began) * 1000, size(found)


def measure_reads(path: Path, runs: int) -> Figures:
    """Figures of each read on a fresh store."""
    store = Store.open(path)
    evals = EvalStore(store)
    figures = {}
    actions = reads(evals, runs, random.Random(7))
    actions["pane open"] = lambda: pane_open(evals)
    actions["pane scroll"] = lambda: pane_scroll(evals)
    for name, action in actions.items():
        samples, sizes = zip(*(timed(action) for _ in range(SAMPLES)), strict=True)
        figures[name] = (
            samples[0],
            statistics.median(samples),
            max(samples),
            statistics.fmean(sizes),
        )
    store.close()
    return figures


def show_plans(path: Path, runs: int) -> None:
    """The plan of every statement the reads run; a scan of eval_results is flagged."""
    store = Store.open(path)
    evals = EvalStore(store)
    statements: list[str] = []
    with store.read() as db:
        db.conn.set_trace_callback(statements.append)
        for action in reads(evals, runs, random.Random(7)).values():  # the same samples
            action()
        db.conn.set_trace_callback(None)
    seen = set()
    print("\nquery plans on the large database (values shown as ?):")
    for sql in statements:
        shape = re.sub(r"'[^']*'|\b\d+\b", "?", " ".join(sql.split()))
        if not shape.startswith("SELECT") or shape in seen:
            continue
        seen.add(shape)
        steps = [row[-1] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}")]
        flag = "  <-- SCAN of eval_results" if "SCAN eval_results" in " ".join(steps) else ""
        print(f"  {shape[-110:]}{flag}\n      " + "\n      ".join(steps))
    store.close()


def recorded_results(count: int) -> Iterator[CaseResult]:
    for i in range(count):
        yield CaseResult(
            case_id=f"new-{i:05d}",
            status="pass" if i % 3 else "fail",
            score=1.0 if i % 3 else 0.0,
            output_text="the answer is 42 " * 8,
            scores=[{"type": "contains", "passed": bool(i % 3), "score": 1.0, "reason": "-"}],
            latency_ms=700.0,
            cost_usd=0.00004,
            prompt_tokens=120,
            completion_tokens=40,
            finished_at=iso(time.time()),
        )


def measure_writes(path: Path, count: int) -> tuple[float, float]:
    """Results per second: `record_result` one by one, then a bare INSERT + COMMIT each."""
    store = Store.open(path)
    evals = EvalStore(store)
    suite_id = evals.save_suite(
        SuiteVersion(name="bench-writes", version="w", format="native", content={},
                     case_count=count, created_at=iso(time.time()))
    )  # fmt: skip
    start = RunStart(suite_id=suite_id, model="m", started_at=iso(time.time()),
                     pid=os.getpid(), cases_total=count)  # fmt: skip
    run_id = evals.start_run(start)
    results = list(recorded_results(count))
    began = time.perf_counter()
    for result in results:
        evals.record_result(run_id, result)
    api = count / (time.perf_counter() - began)
    evals.delete_run(run_id)

    raw_run = evals.start_run(start)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")  # as the store's writer
    conn.execute("PRAGMA foreign_keys=ON")
    sql = (
        f"INSERT INTO eval_results (run_id, {RESULT_COLUMNS})"
        f" VALUES ({', '.join('?' * (RESULT_COLUMNS.count(',') + 2))})"
    )
    rows = [(raw_run, *result_values(result)) for result in results]
    began = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql, row)
        conn.execute("COMMIT")
    raw = count / (time.perf_counter() - began)
    conn.close()
    evals.delete_run(raw_run)
    with store.write() as db:
        db.execute("DELETE FROM eval_suites WHERE id = ?", [suite_id])
    store.close()
    return api, raw


def report(large: Figures, base: Figures) -> None:
    """The large database's figures beside the baseline's median; `rows`: records returned
    (large/baseline): a suite of the baseline has 5 runs, so its run pages are short."""
    columns = ("first", "median", "max", "baseline", "ratio")
    print(f"\n{'read':30}" + "".join(f"{c:>9}" for c in columns) + "  rows (large/base)  target")
    for name, (first, median, worst, rows) in large.items():
        reference, base_rows = base[name][1], base[name][3]
        verdict = "ok" if worst < 100 else "OVER 100 ms"
        figures = (first, median, worst, reference, median / reference)
        print(
            f"{name:30}"
            + "".join(f"{f:9.2f}" for f in figures)
            + f"  {rows:7.0f} / {base_rows:<7.0f}  {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 runs instead of 10,000")
    parser.add_argument("--runs", type=int, help="runs in the large database (10,000)")
    parser.add_argument("--keep-db", action="store_true", help="keep and reuse built databases")
    parser.add_argument("--writes", type=int, default=2000, help="results recorded one by one")
    args = parser.parse_args()
    runs = args.runs or (1_000 if args.quick else 10_000)
    print(f"load average: {os.getloadavg()}; sqlite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory() as folder:
        base_path = prepared(Path(folder), 100, args.keep_db)
        large_path = prepared(Path(folder), runs, args.keep_db)
        base = measure_reads(base_path, 100)
        large = measure_reads(large_path, runs)
        print(f"\nlarge: {runs:,} runs, {runs * CASES:,} results; baseline: 100 runs, "
              f"{100 * CASES:,} results; ms, {SAMPLES} samples each")  # fmt: skip
        report(large, base)
        show_plans(large_path, runs)
        print(f"\nrecord_result, {args.writes:,} results each committed on its own:")
        for label, path in (("baseline", base_path), ("large", large_path)):
            api, raw = measure_writes(path, args.writes)
            print(f"  {label:9} record_result {api:7,.0f}/s   bare INSERT+COMMIT {raw:7,.0f}/s"
                  f"   ratio {raw / api:.2f}")  # fmt: skip
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
