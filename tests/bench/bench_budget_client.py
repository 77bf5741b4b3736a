"""Per-call cost of budgets on the client's path. Not collected by pytest.

Run: python tests/bench/bench_budget_client.py [--quick] [--rows N]

Times `ChatClient.complete` (real SDK, real HTTP to the local fake server, real SQLite with
N calls already logged) in three interleaved modes, so machine noise hits them alike:
`before` (the budget hook replaced by one that does nothing: the client as it was),
`no budget` (the hook live, no budget covering the calls: the common case) and `budget` (a
covering budget: pre-flight estimate, reserve and settle, each a write transaction).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.client import ChatClient
from core.clock import iso, utc_now
from core.params import build_request
from core.results import CallOptions
from core.settings import load_settings
from storage.budgets import BudgetBook, BudgetRow
from storage.store import Store
from tests.support.fake_openai import FakeOpenAI
from tests.support.spend import log_call


class NoBudget:
    """The hook as if budgets did not exist (the client before this change)."""

    def reserve(self, *args: Any) -> None:
        return None

    def settle(self, *args: Any) -> list[Any]:
        return []

    def release(self, *args: Any) -> None:
        return None

    def close(self) -> None:
        return None


def setup(home: Path, server: FakeOpenAI, rows: int) -> tuple[ChatClient, ChatClient, Store]:
    os.environ["TUNEDECK_HOME"] = str(home)
    os.environ["BENCH_KEY"] = "sk-bench"
    (home / "config.toml").write_text(
        f'default_profile = "bench"\n[profiles.bench]\nbase_url = "{server.base_url}"\n'
        'api_key_env = "BENCH_KEY"\ndefault_model = "gpt-4o-mini"\nmax_retries = 0\n'
        "[cache]\nenabled = false\n",
        encoding="utf-8",
    )
    settings = load_settings()
    store = Store.open(settings.database_path)
    for _ in range(rows):
        log_call(store, utc_now(), 0.0001, profile="bench")
    live = ChatClient(settings, store)
    before = ChatClient(settings, store)
    before.budget = NoBudget()  # type: ignore[assignment]
    return before, live, store


def timed(client: ChatClient, number: int) -> float:
    request = build_request("gpt-4o-mini", [{"role": "user", "content": f"question {number}"}])
    start = time.perf_counter()
    client.complete(request, options=CallOptions(cache="off"))
    return (time.perf_counter() - start) * 1000


def set_budget(store: Store, on: bool) -> None:
    book = BudgetBook(store)
    if on:
        now = iso(utc_now())
        book.put(BudgetRow("bench", "all", "", "day", 1e9, (50.0, 80.0, 100.0), None, now, now))
    else:
        book.delete("bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args()
    rows, rounds = (args.rows or 1000, 100) if args.quick else (args.rows or 20_000, 500)
    samples: dict[str, list[float]] = {"before": [], "no budget": [], "budget": []}
    with tempfile.TemporaryDirectory() as folder, FakeOpenAI() as server:
        before, live, store = setup(Path(folder), server, rows)
        for client in (before, live):
            timed(client, 0)  # warm the SDK, the tokenizer and the connection
        for number in range(rounds):
            samples["before"].append(timed(before, number))
            samples["no budget"].append(timed(live, number))
            set_budget(store, True)
            samples["budget"].append(timed(live, number))
            set_budget(store, False)
        before.close()
        live.close()
        store.close()
    base = statistics.median(samples["before"])
    print(f"{rounds} calls per mode, {rows} calls in the log; median ms per call (ratio)")
    for mode, values in samples.items():
        median = statistics.median(values)
        print(f"  {mode:10} {median:7.3f} ms  x{median / base:.3f}  (+{median - base:.3f} ms)")


if __name__ == "__main__":
    main()
