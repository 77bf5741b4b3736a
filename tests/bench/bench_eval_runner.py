"""Evaluation runner throughput: a 2,000-case suite at concurrency 32 against a server that
answers every request after 50 ms, then the same suite re-run fully from the cache.

Run: python tests/bench/bench_eval_runner.py [--quick] [--cases N] [--concurrency C]
     [--latency S] [--rounds R] [--reruns K] [--profile]. Not collected by pytest.

The server is the test suite's FakeOpenAI (real HTTP on 127.0.0.1, TCP_NODELAY) in a process
of its own, so its threads do not share the runner's interpreter lock, as a real endpoint
would not. Each round uses a new data directory (an empty database and cache):

- first run: `run_suite` end to end (estimate, suite and run rows, every answer sent through
  `ChatClient.acomplete`, scored, committed one by one, summary), timed against the ideal
  wall time `cases x latency / concurrency`;
- cached re-run: the same suite again, every answer from the cache (the median of `--reruns`
  such runs in the round); its ratio is first-run wall / re-run wall, and its CPU a case is
  shown (all of the run: estimate, lookups, scoring, log rows and results);
- SDK baseline, measured in the same round: the same requests sent with a bare
  `AsyncOpenAI.chat.completions.create` by the same number of workers, nothing else (no
  cache, no log, no scoring), on aiohttp as the client sends them: the floor the runner sits
  on; and the same on httpx2, the SDK's default transport, for reference;
- the server's CPU during the bare SDK run (from /proc), to set the SDK's and the server's
  CPU against what the machine's cores give in 1.10 x the ideal wall time;
- client baseline, in the same round: the same requests through `ChatClient.acomplete` (cache
  lookup and fill, the request log) by the same number of workers, in a data directory of
  its own, without the runner (no scoring, no results): what the client adds to the SDK, and
  the runner to the client.

Before each run the collector is settled as `tunedeck eval run` settles it
(tui/cli/heap.py), for the rest of the process: the baselines measured after the first run
run with it too.

Medians of the rounds are reported with every value; the machine is shared, so compare ratios
measured in one invocation rather than absolute times across invocations.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SERVER = """
import signal, sys
sys.path.insert(0, {root!r})
from tests.support.fake_openai import FakeOpenAI
server = FakeOpenAI(latency={latency}).start()
print(server.base_url, flush=True)
signal.sigwait([signal.SIGTERM])
server.stop()
"""


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    code = SERVER.format(root=str(ROOT), latency=latency)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used so far, from /proc (None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_suite(folder: Path, cases: int) -> Path:
    path = folder / "bench.jsonl"
    lines = [json.dumps({"suite": {"name": "bench", "params": {"temperature": 0}}})]
    lines += [
        json.dumps(
            {
                "id": f"c{i:06d}",
                "input": f"Question number {i}: what is {i} plus one?",
                "assert": [{"type": "icontains", "value": f"number {i}"}],
            }
        )
        for i in range(cases)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fresh_home(url: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix="tunedeck-bench-eval-"))
    (home / "config.toml").write_text(
        f'default_profile = "bench"\n[profiles.bench]\nbase_url = "{url}"\n'
        'default_model = "gpt-4o-mini"\nlocal = true\n',
        encoding="utf-8",
    )
    return home


def timed_run(home: Path, suite_path: Path, concurrency: int, profile: bool) -> tuple[float, float]:
    """Wall and CPU seconds of one `run_suite` in a new client and event loop (the CPU of
    this process only: the server runs in another)."""
    from core.client import ChatClient
    from core.evals.loader import load_suite
    from core.evals.runner import RunOptions, run_suite
    from core.settings import load_settings
    from storage.store import Store
    from tui.cli import heap

    settings = load_settings(home)
    store = Store.open(settings.database_path)
    client = ChatClient(settings, store)
    suite = load_suite(suite_path)
    options = RunOptions(model="gpt-4o-mini", concurrency=concurrency)
    heap.own_process()  # as `tunedeck eval run` settles its collector before the run
    heap.settle_for_long_work()
    profiler = cProfile.Profile() if profile else None
    try:
        began, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        outcome = asyncio.run(run_suite(client, suite, options))
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    finally:
        if profiler is not None:
            profiler.disable()
        client.close()
        store.close()
    summary = outcome.run.summary
    assert summary is not None and summary.passed == len(suite.cases), summary
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats("core/|storage/", 30)
    return wall, cpu


def timed_reruns(
    home: Path, suite_path: Path, concurrency: int, args: argparse.Namespace
) -> tuple[float, float]:
    """Wall and CPU seconds of a cached re-run: the median of `args.reruns` of them, each
    a new run of the same suite answered wholly from the cache (a re-run lasts well under a
    second, so one is at the mercy of whatever else the machine does meanwhile)."""
    timed = [timed_run(home, suite_path, concurrency, args.profile) for _ in range(args.reruns)]
    return statistics.median(w for w, _ in timed), statistics.median(c for _, c in timed)


def timed_floor(home: Path, suite_path: Path, logged: bool = False) -> float:
    """Wall seconds of the least any cached re-run must do, on a copy of the round's database
    (its last run's results deleted first): each case's cache key (`RequestKeys.key`, as the
    runner hashes it), its entry's answer read (a query per 500 keys) and decoded, a
    one-line check of the answer, and a result row inserted and the entry's hit counted for
    each, committed in one transaction. No log rows, no records, no scoring machinery: the
    floor under any design of the runner, for the re-run's aim.

    `logged`: each hit is also logged as a call, as the product logs every cache hit (the
    Cache pane's hit rate, the Usage pane and the usage rollup count them from the log), by
    `storage.calls.insert_hit_batch` itself in the same transaction: the floor of a runner
    that keeps that promise."""
    from core.cache_key import RequestKeys
    from core.evals.loader import load_suite
    from core.settings import load_settings
    from storage.calls import HitBatch, HitCall, insert_hit_batch
    from storage.eval_rows import RESULT_COLUMNS
    from storage.records import Usage

    settings = load_settings(home)
    copy = home / "floor.db"
    with sqlite3.connect(settings.database_path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    suite = load_suite(suite_path)
    _, profile = settings.resolve_profile(None)
    db = sqlite3.connect(copy, isolation_level=None)
    try:
        run_id = db.execute("SELECT max(id) FROM eval_runs").fetchone()[0]
        db.execute("DELETE FROM eval_results WHERE run_id = ?", [run_id])
        marks = ", ".join("?" for _ in range(len(RESULT_COLUMNS.split(",")) + 1))
        insert = f"INSERT INTO eval_results (run_id, {RESULT_COLUMNS}) VALUES ({marks})"
        began = time.perf_counter()
        keys = RequestKeys(profile.base_url, "gpt-4o-mini", suite.params)
        sent = [[message.as_api() for message in suite.messages_for(case)] for case in suite.cases]
        wanted = [keys.key(messages) for messages in sent]
        answers: dict[str, str] = {}
        for first in range(0, len(wanted), 500):
            chunk = wanted[first : first + 500]
            query = "SELECT key, response_json FROM cache_entries WHERE key IN (%s)"
            for key, text in db.execute(query % ", ".join("?" * len(chunk)), chunk):
                answers[key] = json.loads(text)["text"]
        assert len(answers) == len(suite.cases), "the floor's keys missed the cache"
        now, rows, hits = "2026-01-01T00:00:00Z", [], []
        counted = "hits = hits + 1, last_hit_at = ?"
        for case, key in zip(suite.cases, wanted, strict=True):
            passed = "echo" in answers[key].lower()
            scores = json.dumps([{"type": "icontains", "passed": passed, "score": 1.0}])
            row = (run_id, case.id, 0, "pass" if passed else "fail", float(passed), 0, "[]")
            rows.append((*row, answers[key], scores, None, 0.1, 0.0, 5, 5, 1, None, now, None))
            hits.append((now, key))
        db.execute("BEGIN IMMEDIATE")
        db.executemany(insert, rows)
        if logged:  # the call rows and hit counts, as a run logs a batch of hits
            usage = Usage(prompt_tokens=5, completion_tokens=5)
            calls = [
                HitCall(messages, key, answers[key], "gpt-4o-mini", "stop", None, usage, 1e-6)
                for messages, key in zip(sent, wanted, strict=True)
            ]
            params = suite.params.model_dump(exclude_none=True)
            batch = HitBatch(now, "bench", profile.base_url, "gpt-4o-mini", params, 0.1, calls)
            insert_hit_batch(db, batch)
        else:
            db.executemany(f"UPDATE cache_entries SET {counted} WHERE key = ?", hits)
        db.execute("COMMIT")
        return time.perf_counter() - began
    finally:
        db.close()
        copy.unlink()


def timed_sdk(url: str, cases: int, concurrency: int, aiohttp: bool) -> tuple[float, float]:
    """Wall and CPU seconds of the same requests through a bare AsyncOpenAI client, on
    aiohttp (as the client sends them: core/async_sdks.py) or on httpx2 (the SDK's default)."""
    from openai import AsyncOpenAI, DefaultAioHttpClient, DefaultAsyncHttpxClient

    async def send_all() -> None:
        http = DefaultAioHttpClient() if aiohttp else DefaultAsyncHttpxClient()
        sdk = AsyncOpenAI(api_key="unused", base_url=url, http_client=http)
        pending = iter(range(cases))

        async def worker() -> None:
            for i in pending:
                await sdk.chat.completions.create(
                    model="gpt-4o-mini",
                    temperature=0,
                    messages=[
                        {"role": "user", "content": f"Question number {i}: what is {i} plus one?"}
                    ],
                )

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        await sdk.close()

    began, cpu = time.perf_counter(), time.process_time()
    asyncio.run(send_all())
    return time.perf_counter() - began, time.process_time() - cpu


def timed_client(url: str, cases: int, concurrency: int) -> tuple[float, float]:
    """Wall and CPU seconds of the same requests through `ChatClient.acomplete`."""
    from core.client import ChatClient
    from core.params import ChatRequest, Message, RequestParams
    from core.settings import load_settings
    from storage.store import Store

    settings = load_settings(fresh_home(url))
    store = Store.open(settings.database_path)
    client = ChatClient(settings, store)
    params = RequestParams(temperature=0)

    async def send_all() -> None:
        pending = iter(range(cases))

        async def worker() -> None:
            for i in pending:
                text = f"Question number {i}: what is {i} plus one?"
                messages = [Message(role="user", content=text)]
                request = ChatRequest(model="gpt-4o-mini", messages=messages, params=params)
                await client.acomplete(request)

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    try:
        began, cpu = time.perf_counter(), time.process_time()
        asyncio.run(send_all())
        return time.perf_counter() - began, time.process_time() - cpu
    finally:
        client.close()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 cases, one round")
    parser.add_argument("--cases", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the runs (slower)")
    parser.add_argument(
        "--reruns", type=int, default=3, help="cached re-runs a round (their median counts)"
    )
    args = parser.parse_args()
    cases, rounds = (200, 1) if args.quick else (args.cases, args.rounds)
    ideal = cases * args.latency / args.concurrency
    server, url = start_server(args.latency)
    import openai  # noqa: F401  (imported once, outside the timings)

    firsts: list[tuple[float, float]] = []
    reruns: list[tuple[float, float]] = []
    sdks: list[tuple[float, float]] = []
    httpx_sdks: list[tuple[float, float]] = []
    clients: list[tuple[float, float]] = []
    floors: list[float] = []
    logged_floors: list[float] = []  # the floor with each hit logged as a call
    server_cpus: list[float] = []  # the server's CPU seconds during each bare SDK run
    try:
        suite_path = write_suite(Path(tempfile.mkdtemp(prefix="tunedeck-bench-suite-")), cases)
        timed_run(fresh_home(url), write_suite(Path(tempfile.mkdtemp()), 50), 8, False)  # warm
        for number in range(1, rounds + 1):
            home = fresh_home(url)
            os.environ["TUNEDECK_HOME"] = str(home)
            before = process_cpu(server.pid)
            sdks.append(timed_sdk(url, cases, args.concurrency, aiohttp=True))
            after = process_cpu(server.pid)
            if before is not None and after is not None:
                server_cpus.append(after - before)
            httpx_sdks.append(timed_sdk(url, cases, args.concurrency, aiohttp=False))
            clients.append(timed_client(url, cases, args.concurrency))
            firsts.append(timed_run(home, suite_path, args.concurrency, args.profile))
            reruns.append(timed_reruns(home, suite_path, args.concurrency, args))
            floors.append(timed_floor(home, suite_path))
            logged_floors.append(timed_floor(home, suite_path, logged=True))
            print(
                f"round {number}: sdk {sdks[-1][0]:.2f} s (on httpx2 {httpx_sdks[-1][0]:.2f} s),"
                f" client {clients[-1][0]:.2f} s,"
                f" first run {firsts[-1][0]:.2f} s, cached re-run {reruns[-1][0]:.3f} s"
                f" (cpu {sdks[-1][1]:.2f} / {clients[-1][1]:.2f} / {firsts[-1][1]:.2f} /"
                f" {reruns[-1][1]:.3f} s), re-run floor {floors[-1]:.3f} s"
                f" ({logged_floors[-1]:.3f} s with hits logged)",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(10)
    report(cases, args.concurrency, args.latency, ideal, firsts, reruns, sdks, clients)
    report_floor(_median(firsts, 0), floors, logged_floors)
    if server_cpus:
        report_cpu_budget(ideal, _median(sdks, 1), statistics.median(server_cpus))
    httpx_sdk = _median(httpx_sdks, 0)
    print(
        f"bare SDK on httpx2 (the SDK's default transport): median {httpx_sdk:.2f} s ="
        f" {httpx_sdk / ideal:.2f} x ideal   {_all(httpx_sdks, 0)}"
    )


def report(
    cases: int,
    concurrency: int,
    latency: float,
    ideal: float,
    firsts: list[tuple[float, float]],
    reruns: list[tuple[float, float]],
    sdks: list[tuple[float, float]],
    clients: list[tuple[float, float]],
) -> None:
    first, rerun, sdk, client = (_median(v, 0) for v in (firsts, reruns, sdks, clients))
    first_cpu, rerun_cpu, sdk_cpu, client_cpu = (
        _median(v, 1) for v in (firsts, reruns, sdks, clients)
    )
    walls = [wall for wall, _ in firsts]
    print(f"\n{cases:,} cases, concurrency {concurrency}, {latency * 1000:.0f} ms a request")
    print(f"ideal wall (cases x latency / concurrency): {ideal:.2f} s")
    print(
        f"first run:      median {first:.2f} s = {first / ideal:.2f} x ideal"
        f"  (aim <= 1.10)   {_all(walls)}"
    )
    print(f"bare SDK (aiohttp): median {sdk:.2f} s = {sdk / ideal:.2f} x ideal   {_all(sdks, 0)}")
    print(
        f"client:         median {client:.2f} s = {client / ideal:.2f} x ideal   {_all(clients, 0)}"
    )
    print(f"runner / SDK:   {first / sdk:.2f} wall, {first_cpu / sdk_cpu:.2f} CPU")
    print(f"client / SDK:   {client / sdk:.2f} wall, {client_cpu / sdk_cpu:.2f} CPU")
    print(f"runner / client: {first / client:.2f} wall, {first_cpu / client_cpu:.2f} CPU")
    print(
        f"cached re-run:  median {rerun:.3f} s, first / re-run = {first / rerun:.1f}x"
        f"  (aim >= 50x)   {_all(reruns, 0)}; CPU {rerun_cpu * 1e6 / cases:.0f} us a case"
    )
    per_case = 1000 / cases
    print(
        f"CPU per case:   first run {first_cpu * per_case:.2f} ms, cached re-run"
        f" {rerun_cpu * per_case:.3f} ms, client {client_cpu * per_case:.2f} ms,"
        f" bare SDK {sdk_cpu * per_case:.2f} ms"
    )


def report_floor(first: float, floors: list[float], logged_floors: list[float]) -> None:
    """The re-run's floors (`timed_floor`), and the ratios the first run would have to them."""
    floor, logged = statistics.median(floors), statistics.median(logged_floors)
    print(
        f"re-run floor:   median {floor:.3f} s (keys, reads, result rows, hit counts, commit;"
        f" nothing else): first / floor = {first / floor:.1f}x   {_all(floors)}"
    )
    print(
        f"  with each hit logged as a call (as the product logs cache hits): median"
        f" {logged:.3f} s: first / floor = {first / logged:.1f}x   {_all(logged_floors)}"
    )


def report_cpu_budget(ideal: float, sdk_cpu: float, server_cpu: float) -> None:
    """Whether this machine has the CPU for the aim at all: the bare SDK's and the server's
    CPU seconds against what its cores give in 1.10 x the ideal wall time."""
    cores = os.cpu_count() or 1
    budget = 1.10 * ideal * cores
    print(
        f"CPU budget:     bare SDK {sdk_cpu:.2f} s + server {server_cpu:.2f} s ="
        f" {sdk_cpu + server_cpu:.2f} core-seconds; {cores} cores x 1.10 x ideal ="
        f" {budget:.2f} core-seconds"
    )


def _median(values: list[tuple[float, float]], index: int) -> float:
    return statistics.median(value[index] for value in values)


def _all(values: list[float] | list[tuple[float, float]], index: int | None = None) -> str:
    shown = [value if index is None else value[index] for value in values]  # type: ignore[index]
    return "[" + ", ".join(f"{value:.3f}" for value in shown) + "]"


if __name__ == "__main__":
    main()
