"""Request-log overhead per call: `calls.start` + `calls.finish` on an empty and on a large log.

Run: python tests/bench/bench_logging.py [--quick] [--rows N]. Not collected by pytest.

The large log has N rows (default 1,000,000) bulk-loaded in one transaction through the real
schema: its indexes and the triggers that keep `calls_fts` (FTS5, porter) up to date; the load
time is reported. A timed call is the exact pair of writes a call makes: `store.calls.start`
(INSERT, status pending) then `store.calls.finish` (UPDATE with the outcome), each its own
BEGIN IMMEDIATE transaction. The baseline, measured interleaved with it on the same connection
and file, is a raw INSERT then UPDATE by id (two autocommit statements, values pre-serialised)
on a plain table with the same columns and no index, FTS or trigger.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.calls import _outcome_row
from storage.records import CallOutcome, CallStart, Usage
from storage.store import Store

ENDPOINT = "https://api.openai.com/v1"
MODELS = ("gpt-4o-mini", "gpt-4.1", "ft:gpt-4o-mini-2024-07-18:acme::abc123")
SYSTEM = "You are a concise assistant for a fine-tuning team. Answer in plain prose."
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "zen", "qua", "str", "ph", "ion", "er")
START_COLUMNS = [
    "started_at",
    "profile",
    "endpoint",
    "model",
    "stream",
    "params_json",
    "messages_json",
    "prompt_text",
    "request_key",
    "cache_eligible",
    "status",
]
OUTCOME_COLUMNS = list(_outcome_row(CallOutcome(finished_at="", status="ok")))
COLUMNS = START_COLUMNS + [c for c in OUTCOME_COLUMNS if c != "status"]


def corpus(seed: int = 3) -> str:
    """Text from a vocabulary of 4,000 pseudo-words (FTS posting lists of a plausible shape)."""
    rng = random.Random(seed)
    words = ["".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(4000)]
    return " ".join(rng.choices(words, k=150_000))


def texts(text: str, i: int) -> tuple[str, str]:
    """A prompt of ~200 characters and an answer of ~600, different for each i."""
    offset = (i * 7919) % (len(text) - 900)
    return text[offset : offset + 200], text[offset + 200 : offset + 800]


def utc_text(seconds: float) -> str:
    """`core.clock.iso` of a POSIX time, faster (the load formats 2M of them)."""
    micros = int(seconds % 1 * 1e6)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


def call_pair(text: str, i: int, now: float) -> tuple[CallStart, CallOutcome]:
    """The start and the outcome of a finished call (every 20th an error, every 10th a hit)."""
    prompt, answer = texts(text, i)
    model = MODELS[i % len(MODELS)]
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
    start = CallStart(
        started_at=utc_text(now),
        profile="default",
        endpoint=ENDPOINT,
        model=model,
        stream=i % 2 == 0,
        params={"temperature": 0.0, "max_tokens": 512},
        messages=messages,
        request_key=hashlib.sha256(f"call-{i}".encode()).hexdigest(),
        cache_eligible=True,
    )
    failed = i % 20 == 0
    outcome = CallOutcome(
        finished_at=utc_text(now + 1.8),
        status="error" if failed else "ok",
        response_text="" if failed else answer,
        response_model=None if failed else model + "-2024-07-18",
        finish_reason=None if failed else "stop",
        usage=Usage() if failed else Usage(prompt_tokens=52, completion_tokens=121),
        cost_usd=0.0 if failed else 0.0000804,
        cost_saved_usd=0.0000804 if i % 10 == 1 else None,
        ttft_ms=None if failed else 412.5,
        latency_ms=1803.2,
        cache_hit=i % 10 == 1,
        retries=2 if failed else 0,
        error_type="rate_limit" if failed else None,
        error_message="429 Rate limit reached for requests" if failed else None,
    )
    return start, outcome


def row_values(start: CallStart, outcome: CallOutcome) -> tuple[list[Any], list[Any]]:
    """What the log writes for a call: the start row's values and the outcome's (serialised)."""
    first = [
        start.started_at,
        start.profile,
        start.endpoint,
        start.model,
        int(start.stream),
        json.dumps(start.params),
        json.dumps(start.messages),
        SYSTEM + "\n" + start.messages[-1]["content"],
        start.request_key,
        int(start.cache_eligible),
        "pending",
    ]
    return first, list(_outcome_row(outcome).values())


def finished_rows(count: int, text: str, now: float) -> Iterator[list[Any]]:
    """`count` finished calls, one every 30 s up to `now`."""
    for i in range(count):
        first, outcome = row_values(*call_pair(text, i, now - (count - i) * 30.0))
        first[-1] = outcome[1]  # the final status
        yield first + outcome[:1] + outcome[2:]


def pct(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


@dataclass
class Timings:
    """Microseconds per call of each way of writing it."""

    baseline: list[float]
    logged: list[float]
    start: list[float]
    finish: list[float]


def time_calls(store: Store, text: str, count: int) -> Timings:
    """Interleave `count` logged calls with `count` raw insert+update pairs on a plain table."""
    conn: sqlite3.Connection = store.db.conn
    conn.execute("DROP TABLE IF EXISTS plain_calls")
    conn.execute(f"CREATE TABLE plain_calls (id INTEGER PRIMARY KEY, {', '.join(COLUMNS)})")
    insert = (
        f"INSERT INTO plain_calls ({', '.join(START_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(START_COLUMNS))})"
    )
    update = f"UPDATE plain_calls SET {', '.join(c + ' = ?' for c in OUTCOME_COLUMNS)} WHERE id = ?"
    now = time.time()
    pairs = [call_pair(text, 2_000_000 + i, now + i) for i in range(count)]
    raw = [row_values(start, outcome) for start, outcome in pairs]
    timings = Timings([], [], [], [])
    for (start, outcome), (first, second) in zip(pairs, raw, strict=True):
        t0 = time.perf_counter_ns()
        row_id = conn.execute(insert, first).lastrowid
        conn.execute(update, [*second, row_id])
        t1 = time.perf_counter_ns()
        call_id = store.calls.start(start)
        t2 = time.perf_counter_ns()
        store.calls.finish(call_id, outcome)
        t3 = time.perf_counter_ns()
        timings.baseline.append((t1 - t0) / 1000)
        timings.logged.append((t3 - t1) / 1000)
        timings.start.append((t2 - t1) / 1000)
        timings.finish.append((t3 - t2) / 1000)
    return timings


def report(title: str, timings: Timings) -> None:
    """p50/p99 of each series and its ratio to the baseline."""
    print(f"\n{title} (microseconds per call)")
    print(f"{'':44} {'p50':>8} {'p99':>8}   ratio p50 / p99")
    base50, base99 = pct(timings.baseline, 50), pct(timings.baseline, 99)
    for label, series in (
        ("raw INSERT+UPDATE, plain table (baseline)", timings.baseline),
        ("calls.start + calls.finish", timings.logged),
        ("  calls.start alone", timings.start),
        ("  calls.finish alone", timings.finish),
    ):
        p50, p99 = pct(series, 50), pct(series, 99)
        print(f"{label:44} {p50:8.1f} {p99:8.1f}   x{p50 / base50:.1f} / x{p99 / base99:.1f}")


def load(store: Store, rows: int, text: str) -> float:
    """Insert `rows` finished calls in one transaction (indexes and FTS triggers in place)."""
    conn = store.db.conn
    sql = f"INSERT INTO calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    started = time.perf_counter()
    conn.execute("PRAGMA cache_size = -262144")  # load only: this connection is closed after
    conn.execute("BEGIN")
    conn.executemany(sql, finished_rows(rows, text, time.time()))
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


def main() -> None:
    """Time the log on an empty database, then on one with the large log."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--rows", type=int, help="rows already in calls (1,000,000)")
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    samples = 200 if args.quick else 2_000
    text = corpus()
    with tempfile.TemporaryDirectory(prefix="bench_logging_") as folder:
        store = Store.open(Path(folder) / "empty.db")
        report(f"empty log, {samples:,} calls", time_calls(store, text, samples))
        store.close()

        path = Path(folder) / "large.db"
        store = Store.open(path)
        seconds = load(store, rows, text)
        store.close()
        size = sum(p.stat().st_size for p in Path(folder).glob("large.db*")) / 1e6
        print(f"\nloaded {rows:,} calls with indexes and FTS triggers in {seconds:.1f} s", end="")
        print(f" ({rows / seconds:,.0f} rows/s, {size:,.0f} MB)")

        store = Store.open(path)
        assert store.calls.count() == rows
        report(f"log of {rows:,} calls, {samples:,} more calls", time_calls(store, text, samples))
        found = store.db.conn.execute(
            "SELECT count(*) FROM calls_fts WHERE calls_fts MATCH ?", [text.split()[5]]
        ).fetchone()[0]
        assert found > 0, "the FTS index was not maintained"
        store.close()


if __name__ == "__main__":
    main()
