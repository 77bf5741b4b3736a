"""32 workers against one budget: reserve, log the call with its real cost, settle.

The guard admits a call only while spent + reserved + its estimate fits the limit, in one
`BEGIN IMMEDIATE` transaction. So when estimates are upper bounds the limit holds exactly,
and when real costs come out above estimates the overshoot is at most the excess of the
calls in flight when the last call was admitted. Both are asserted (and the figures
printed: run with `-s`), in threads of one process and across processes.
"""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.budgets import BudgetGuard, new_budget
from core.errors import BudgetExceeded
from storage.budgets import BudgetBook
from storage.store import Store
from tests.support.spend import log_call

ROOT = Path(__file__).parents[2]
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
LIMIT = 1.0
ESTIMATE = 0.01


@dataclass(frozen=True)
class Call:
    """One admitted call: when it was asked for, admitted and settled, and what it cost."""

    asked: int
    admitted: int
    settled: int
    actual: float

    @property
    def excess(self) -> float:
        return max(0.0, self.actual - ESTIMATE)


def worker(store: Store, seed: int, low: float, high: float, calls: list[Call]) -> None:
    """Make calls until the guard refuses one; `actual` cost is ESTIMATE x U(low, high)."""
    guard = BudgetGuard(store, clock=lambda: NOW)
    rng = random.Random(seed)
    while True:
        asked = time.monotonic_ns()
        try:
            held = guard.reserve("openai", "gpt-4o-mini", ESTIMATE)
        except BudgetExceeded:
            return
        admitted = time.monotonic_ns()
        time.sleep(rng.uniform(0.001, 0.01))  # the request in flight
        actual = round(ESTIMATE * rng.uniform(low, high), 6)
        log_call(store, NOW, actual)
        guard.settle(held, actual)
        calls.append(Call(asked, admitted, time.monotonic_ns(), actual))


def run_threads(path: Path, threads: int, seed: int, low: float, high: float) -> list[Call]:
    store = Store.open(path)
    calls: list[Call] = []
    workers = [
        threading.Thread(target=worker, args=(store, seed * 1000 + n, low, high, calls))
        for n in range(threads)
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    store.close()
    return calls


def in_flight_at_last_admission(calls: list[Call]) -> list[Call]:
    """Calls whose reservation may have been held when the last call was admitted (a
    superset: their ask-to-settle span overlaps the last call's ask-to-admit span)."""
    last = max(calls, key=lambda call: call.admitted)
    return [c for c in calls if c.asked <= last.admitted and c.settled >= last.asked]


def spent(path: Path) -> float:
    store = Store.open(path)
    try:
        [standing] = BudgetGuard(store, clock=lambda: NOW).standings()
        assert standing.reserved_usd == 0  # every reservation was settled
        return standing.spent_usd
    finally:
        store.close()


def budget_file(tmp_path: Path) -> Path:
    path = tmp_path / "budget.db"
    store = Store.open(path)
    BudgetBook(store).put(new_budget(name="eval", limit_usd=LIMIT, period="day", now="x"))
    store.close()
    return path


def check_bound(label: str, calls: list[Call], total: float) -> None:
    flight = in_flight_at_last_admission(calls)
    bound = sum(call.excess for call in flight)
    overshoot = total - LIMIT
    print(
        f"\n{label}: {len(calls)} calls admitted, spent ${total:.4f} of ${LIMIT:.2f}, "
        f"overshoot ${max(overshoot, 0):.4f}; {len(flight)} in flight at the last admission, "
        f"their excess over the estimate ${bound:.4f}"
    )
    assert overshoot <= bound + 1e-9
    assert overshoot <= 32 * max(call.excess for call in calls) + 1e-9  # 32 workers at most


def test_32_threads_never_overshoot_when_estimates_are_upper_bounds(tmp_path: Path) -> None:
    path = budget_file(tmp_path)
    calls = run_threads(path, 32, seed=1, low=0.5, high=1.0)
    total = spent(path)
    check_bound("32 threads, estimates >= costs", calls, total)
    assert total <= LIMIT + 1e-9
    assert total == pytest.approx(sum(call.actual for call in calls))
    assert total > LIMIT - ESTIMATE * 32  # and the budget was really used, not refused early


def test_32_threads_overshoot_at_most_the_excess_of_the_calls_in_flight(tmp_path: Path) -> None:
    path = budget_file(tmp_path)
    calls = run_threads(path, 32, seed=2, low=1.0, high=2.0)
    total = spent(path)
    check_bound("32 threads, costs up to 2x estimates", calls, total)
    assert total > LIMIT - ESTIMATE  # the budget was used up


def process_main(path: str, index: int) -> None:
    """Entry point of one worker process: 8 threads on its own connection; prints its calls."""
    calls = run_threads(Path(path), 8, seed=100 + int(index), low=1.0, high=2.0)
    print(json.dumps([dataclasses.astuple(call) for call in calls]))


@pytest.mark.slow
def test_4_processes_of_8_threads_keep_the_same_bound(tmp_path: Path) -> None:
    path = budget_file(tmp_path)
    code = "import sys; from tests.unit.test_budgets_concurrency import process_main as m; "
    code += "m(*sys.argv[1:])"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path), str(n)], cwd=ROOT, stdout=subprocess.PIPE
        )
        for n in range(4)
    ]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    calls = [Call(*fields) for output in outputs for fields in json.loads(output)]
    total = spent(path)
    check_bound("4 processes x 8 threads, costs up to 2x estimates", calls, total)
    assert total == pytest.approx(sum(call.actual for call in calls))
