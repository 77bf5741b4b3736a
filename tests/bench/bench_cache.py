"""Response cache cost: lookup latency on a large table, and cached vs uncached calls end to end.

Run: python tests/bench/bench_cache.py [--quick] [--entries N]. Not collected by pytest.

a) `store.cache.lookup(key, now)` (SELECT * of the live entry; on a hit, an UPDATE of its hits)
   on a `cache_entries` table of N rows (default 1,000,000), hits and misses, against the baseline
   `SELECT 1 FROM cache_entries WHERE key = ?` on the same raw sqlite3 connection and keys. Every
   key set is read once untimed first, so all figures are warm-cache figures.
b) `ChatClient.complete` and the in-process CLI (`tui.cli.run(["prompt", ...])`) against the fake
   OpenAI server answering after 200 ms: N distinct temperature-0 prompts sent (cache misses, the
   answers are stored), then the same N again (cache hits). The uncached medians are the baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # for tests.support

from core.client import ChatClient
from core.params import build_request
from core.settings import load_settings
from storage.store import Store
from tests.support.fake_openai import FakeOpenAI

ENDPOINT = "https://api.openai.com/v1"
MODELS = ("gpt-4o-mini", "gpt-4.1", "ft:gpt-4o-mini-2024-07-18:acme::abc123")
WORDS = ("the", "model", "answer", "token", "cache", "prompt", "latency", "data", "eval", "loss")
INSERT_SQL = (
    "INSERT INTO cache_entries (key, endpoint, model, components_json, prompt_excerpt,"
    " response_json, prompt_tokens, completion_tokens, cost_usd, size_bytes, created_at,"
    " expires_at, last_hit_at, hits, source_call_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
CONFIG = """
default_profile = "fake"

[profiles.fake]
base_url = "{base_url}"
api_key_env = "FAKE_API_KEY"
default_model = "gpt-4o-mini"
timeout = 10.0
max_retries = 0
"""


def key_for(label: str) -> str:
    """A cache key shaped like the real ones (SHA-256 hex)."""
    return hashlib.sha256(label.encode()).hexdigest()


# Row JSON as %-templates: the slots take plain words, so no escaping is needed.
COMPONENTS = json.dumps(
    {
        "version": 1,
        "endpoint": ENDPOINT,
        "model": "%s",
        "messages": [{"role": "user", "content": "%s"}],
        "params": {"temperature": 0.0, "extra": {}},
    }
)
RESPONSE = json.dumps(
    {
        "text": "%s",
        "finish_reason": "stop",
        "tool_calls": None,
        "model": "%s",
        "usage": {
            "prompt_tokens": 31,
            "completion_tokens": 64,
            "cached_tokens": 0,
            "reasoning_tokens": 0,
            "estimated": False,
        },
    }
)


def utc_text(seconds: float) -> str:
    """`core.clock.iso` of a POSIX time, ~4x faster (the load formats 2M of them)."""
    micros = int(seconds % 1 * 1e6)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


def cache_rows(count: int, now: float) -> Iterator[tuple[Any, ...]]:
    """Live entries: components_json ~300 bytes, response_json ~500 bytes, created in 30 days."""
    rng = random.Random(1)
    corpus = " ".join(rng.choices(WORDS, k=60_000))
    for i in range(count):
        offset = (i * 7919) % (len(corpus) - 600)
        prompt, answer = corpus[offset : offset + 150], corpus[offset + 150 : offset + 480]
        model = MODELS[i % len(MODELS)]
        created = now - i * 2.5
        yield (
            key_for(f"hit-{i}"),
            ENDPOINT,
            model,
            COMPONENTS % (model, prompt),
            prompt,
            RESPONSE % (answer, model + "-2024-07-18"),
            31,
            64,
            0.0000431,
            len(answer),
            utc_text(created),
            utc_text(created + 30 * 86400),
            None,
            0,
            None,
        )


def time_each(keys: Sequence[str], action: Callable[[str], object]) -> list[float]:
    """Microseconds of `action(key)` for each key."""
    samples = []
    for key in keys:
        start = time.perf_counter_ns()
        action(key)
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def pct(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def bench_lookup(folder: Path, entries: int, samples: int) -> None:
    """Part a: lookup p50/p99 against a bare indexed SELECT on the same keys."""
    path = folder / "cache.db"
    store = Store.open(path)
    now = time.time()
    start = time.perf_counter()
    conn = store.db.conn
    conn.execute("PRAGMA cache_size = -262144")  # load only: this connection is closed after
    conn.execute("BEGIN")
    conn.executemany(INSERT_SQL, cache_rows(entries, now))
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    size_mb = path.stat().st_size / 1e6
    print(f"loaded {entries:,} entries in {time.perf_counter() - start:.1f} s ({size_mb:.0f} MB)")

    store = Store.open(path)
    rng = random.Random(2)
    hits = [key_for(f"hit-{rng.randrange(entries)}") for _ in range(samples)]
    misses = [key_for(f"missing-{i}") for i in range(samples)]
    raw = store.db.conn
    now_text = utc_text(now)

    def bare(key: str) -> object:
        return raw.execute("SELECT 1 FROM cache_entries WHERE key = ?", [key]).fetchone()

    for key in hits + misses:  # warm the page cache for every measurement alike
        bare(key)
    results = {
        "hit": (time_each(hits, bare), time_each(hits, lambda k: store.cache.lookup(k, now_text))),
        "miss": (
            time_each(misses, bare),
            time_each(misses, lambda k: store.cache.lookup(k, now_text)),
        ),
    }
    assert store.cache.lookup(hits[0], now_text) is not None
    assert store.cache.lookup(misses[0], now_text) is None
    store.close()

    print(f"\na) cache lookup, {entries:,} entries, {samples:,} keys each (microseconds)")
    print(f"{'':34} {'p50':>8} {'p99':>8}   ratio p50 / p99")
    for kind, (baseline, lookup) in results.items():
        rows = (("bare SELECT 1 (baseline)", baseline), ("store.cache.lookup", lookup))
        for label, series in rows:
            p50, p99 = pct(series, 50), pct(series, 99)
            ratios = f"x{p50 / pct(baseline, 50):.1f} / x{p99 / pct(baseline, 99):.1f}"
            print(f"{kind:4} {label:29} {p50:8.1f} {p99:8.1f}   {ratios}")


def median_ms(action: Callable[[int], object], count: int) -> float:
    """Median milliseconds of `action(i)` for i in range(count)."""
    times = []
    for i in range(count):
        start = time.perf_counter()
        action(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_end_to_end(folder: Path, count: int) -> None:
    """Part b: cached vs uncached prompt calls, through ChatClient and through the CLI."""
    from tui.cli import run

    home = folder / "home"
    home.mkdir()
    for name in [n for n in os.environ if n.startswith(("TUNEDECK_", "OPENAI_"))]:
        del os.environ[name]
    os.environ["TUNEDECK_HOME"] = str(home)
    os.environ["FAKE_API_KEY"] = "sk-bench-0123456789abcdef"

    with FakeOpenAI(latency=0.2) as fake:
        (home / "config.toml").write_text(CONFIG.format(base_url=fake.base_url), encoding="utf-8")
        settings = load_settings()
        store = Store.open(settings.database_path)
        client = ChatClient(settings, store)

        def complete(i: int, hit: bool) -> None:
            messages = [{"role": "user", "content": f"Benchmark question number {i}?"}]
            request = build_request("gpt-4o-mini", messages, temperature=0)
            assert client.complete(request).cache_hit is hit

        complete(-1, False)  # warm-up: imports, SDK client, connection
        sdk = {
            "uncached": median_ms(lambda i: complete(i, False), count),
            "cached": median_ms(lambda i: complete(i, True), count),
        }
        client.close()
        store.close()

        def cli(i: int) -> None:
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                code = run(["prompt", f"CLI benchmark question {i}?", "-t", "0", "--no-stream"])
            assert code == 0, out.getvalue()

        cli(-1)
        via_cli = {"uncached": median_ms(cli, count), "cached": median_ms(cli, count)}
        assert len(fake.chat_requests) == 2 * (count + 1), "cache hits must not reach the server"

    print(f"\nb) prompt calls, fake server latency 200 ms, {count} distinct prompts (median ms)")
    print(f"{'':24} {'uncached':>9} {'cached':>9}   speedup")
    for label, figures in (("ChatClient.complete", sdk), ("CLI run(['prompt', ...])", via_cli)):
        uncached, cached = figures["uncached"], figures["cached"]
        print(f"{label:24} {uncached:9.2f} {cached:9.2f}   x{uncached / cached:.0f}")


def main() -> None:
    """Parse the sizes, run both parts in a temporary directory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--entries", type=int, help="rows in cache_entries (1,000,000)")
    args = parser.parse_args()
    entries = args.entries or (20_000 if args.quick else 1_000_000)
    samples, calls = (200, 5) if args.quick else (2_000, 20)
    with tempfile.TemporaryDirectory(prefix="bench_cache_") as folder:
        bench_lookup(Path(folder), entries, samples)
        bench_end_to_end(Path(folder), calls)


if __name__ == "__main__":
    main()
