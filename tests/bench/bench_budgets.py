"""Budget guard overhead per paid call: `reserve` + `settle`, against the log's own writes.

Run: python tests/bench/bench_budgets.py [--quick] [--days N]. Not collected by pytest.

The rollup holds N days (default 365) of quarter-hour buckets for 5 models on 2 profiles, as
`usage_rollup` would after about a million calls (inserted directly: the triggers are not what
is measured). A timed guarded call is `reserve` then `calls.start` + `calls.finish` (the log's
two writes) then `settle`. The baseline, interleaved with it on the same file, is the same call
without budgets: `calls.start` + `calls.finish` alone. Reported: the median and p95 of the
guard's own time (reserve + settle) per call, and its ratio to the baseline's median.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.budgets import BudgetGuard, new_budget
from core.clock import iso
from storage.budgets import BudgetBook
from storage.records import CallOutcome, CallStart, Usage
from storage.store import Store

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
MODELS = ("gpt-4o-mini", "gpt-4.1", "gpt-4o", "o3-mini", "ft:gpt-4o-mini:acme::x")
PROFILES = ("openai", "azure")
BUDGETS: dict[str, list[tuple[str, str, str]]] = {
    "no budget": [],
    "one day budget": [("daily", "day", "all")],
    "day + month + model glob": [
        ("daily", "day", "all"),
        ("monthly", "month", "profile:openai"),
        ("minis", "week", "model:gpt-4o*"),
    ],
    "all-time budget": [("ever", "all", "all")],
}


def fill_rollup(store: Store, days: int) -> int:
    """Quarter-hour rows for every model and profile over `days` days ending now."""
    first = NOW - timedelta(days=days)
    rows = [
        (iso(first + timedelta(minutes=15 * q))[:16], model, profile)
        for q in range(days * 96)
        for model in MODELS
        for profile in PROFILES
    ]
    with store.write() as db:
        db.conn.executemany(
            "INSERT OR IGNORE INTO usage_rollup (bucket, model, profile, calls, cost_usd) "
            "VALUES (?, ?, ?, 1, 0.0001)",
            rows,
        )
    return len(rows)


def one_call(store: Store) -> float:
    """The log's two writes for one call; returns seconds."""
    started = time.perf_counter()
    call_id = store.calls.start(
        CallStart(iso(NOW), "openai", "https://api.openai.com/v1", "gpt-4o-mini", False,
                  {"temperature": 0}, [{"role": "user", "content": "hi"}], "k", False)
    )  # fmt: skip
    store.calls.finish(
        call_id, CallOutcome(iso(NOW), "ok", "answer", usage=Usage(10, 5), cost_usd=0.0001)
    )
    return time.perf_counter() - started


def guarded_call(store: Store, guard: BudgetGuard) -> float:
    """reserve + the log's writes + settle; returns the guard's own seconds."""
    started = time.perf_counter()
    held = guard.reserve("openai", "gpt-4o-mini", 0.0002)
    reserved = time.perf_counter()
    one_call(store)
    settling = time.perf_counter()
    guard.settle(held, 0.0001)
    return (reserved - started) + (time.perf_counter() - settling)


def measure(store: Store, budgets: list[tuple[str, str, str]], calls: int) -> None:
    book = BudgetBook(store)
    for budget in book.all():
        book.delete(budget.name)
    for name, period, scope in budgets:
        book.put(new_budget(name=name, limit_usd=1e9, period=period, scope=scope, now="x"))
    guard = BudgetGuard(store, clock=lambda: NOW)
    base, guarded = [], []
    for _ in range(calls):
        base.append(one_call(store))
        guarded.append(guarded_call(store, guard))
    median, p95 = statistics.median(guarded), sorted(guarded)[int(0.95 * len(guarded))]
    print(
        f"  guard {median * 1000:6.2f} ms median, {p95 * 1000:6.2f} ms p95 per call; "
        f"log writes {statistics.median(base) * 1000:5.2f} ms; "
        f"ratio {median / statistics.median(base):4.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    days, calls = (30, 50) if args.quick else (args.days, 300)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        started = time.perf_counter()
        rows = fill_rollup(store, days)
        print(f"rollup: {rows:,} rows ({days} days) in {time.perf_counter() - started:.1f} s")
        for label, budgets in BUDGETS.items():
            print(label)
            measure(store, budgets, calls)
        store.close()


if __name__ == "__main__":
    main()
