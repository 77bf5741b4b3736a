"""The database: schema, pragmas, file mode, search, and concurrent writers."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlite_utils

from storage.calls import find_sql
from storage.db import open_database
from storage.migrations import migrations
from storage.records import CallFilter, CallOutcome, CallStart, Usage
from storage.store import Store
from storage.usage import _calls_between_sql
from tests.support.old_schema import log_calls_as_before_m013


def start(
    model: str = "m", prompt: str = "hello", when: str = "2026-11-28T10:00:00.000000Z"
) -> CallStart:
    return CallStart(
        started_at=when,
        profile="p",
        endpoint="http://x/v1",
        model=model,
        stream=False,
        params={"temperature": 0.0},
        messages=[{"role": "user", "content": prompt}],
        request_key="k",
        cache_eligible=True,
    )


def done(text: str, status: str = "ok", cost: float | None = 0.01) -> CallOutcome:
    return CallOutcome(
        finished_at="2026-11-28T10:00:01.000000Z",
        status=status,
        response_text=text,
        usage=Usage(10, 5),
        cost_usd=cost,
        latency_ms=5.0,
    )


def test_a_blank_database_migrates_to_the_expected_columns(tmp_path: Path) -> None:
    db = open_database(tmp_path / "t.db")
    calls = {c.name for c in db["calls"].columns}  # type: ignore[union-attr]
    assert {
        "started_at",
        "profile",
        "endpoint",
        "model",
        "params_json",
        "messages_json",
        "response_text",
        "finish_reason",
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "reasoning_tokens",
        "usage_estimated",
        "cost_usd",
        "ttft_ms",
        "latency_ms",
        "cache_hit",
        "retries",
        "error_type",
        "error_message",
        "incomplete",
        "status",
    } <= calls
    entries = {c.name for c in db["cache_entries"].columns}  # type: ignore[union-attr]
    assert {
        "key",
        "endpoint",
        "model",
        "components_json",
        "response_json",
        "hits",
        "created_at",
        "last_hit_at",
        "expires_at",
        "size_bytes",
    } <= entries
    applied = [row["name"] for row in db["_sqlite_migrations"].rows]
    assert applied[:2] == ["m001_calls", "m002_cache_entries"]
    assert migrations.pending(db) == []
    open_database(tmp_path / "t.db")  # applying again is a no-op
    assert db["_sqlite_migrations"].count == len(applied)


def test_m009_drops_the_index_on_request_keys_and_keeps_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No query reads the log by request key, and a hash-keyed index is the costly kind
    (each row's entry lands on a random page)."""
    log_calls_as_before_m013(monkeypatch)
    old = sqlite_utils.Database(tmp_path / "t.db")
    migrations.apply(old, stop_before="m009_calls_without_request_key_index")
    ids = [Store(old).calls.start(start(prompt=f"p{n}")) for n in range(3)]
    assert "idx_calls_request_key" in {index.name for index in old["calls"].indexes}
    old.close()

    store = Store(open_database(tmp_path / "t.db"))
    indexed = [index.columns for index in store.db["calls"].indexes]
    assert indexed and not any("request_key" in columns for columns in indexed)
    assert [call.id for call in store.calls.find(CallFilter(limit=10))] == ids[::-1]
    store.close()


def test_m010_drops_the_usage_index_and_the_usage_and_hit_rate_still_read_by_time(
    tmp_path: Path,
) -> None:
    old = sqlite_utils.Database(tmp_path / "t.db")
    migrations.apply(old, stop_before="m010_calls_without_usage_index")
    assert "idx_calls_usage" in {index.name for index in old["calls"].indexes}
    old.close()

    store = Store(open_database(tmp_path / "t.db"))
    assert "idx_calls_usage" not in {index.name for index in store.db["calls"].indexes}
    since = "2026-11-28T10:00:00Z"
    for sql in (
        "SELECT sum(cache_hit) FROM calls WHERE started_at >= ?",
        _calls_between_sql("'all'"),  # the Usage pane's edge of a period, as it is read
    ):
        args = [since] * sql.count("?")
        plan = " | ".join(row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}", args))
        assert "INDEX idx_calls_started_at (started_at>?" in plan, plan
    store.close()


def test_the_file_is_private_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = open_database(tmp_path / "deep" / "t.db")
    assert stat.S_IMODE(os.stat(tmp_path / "deep" / "t.db").st_mode) == 0o600
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert db.execute("PRAGMA temp_store").fetchone()[0] == 2  # statement journals in memory


def test_the_file_opens_in_plain_sqlite_utils(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.db")
    store.calls.finish(store.calls.start(start()), done("hi"))
    other = sqlite_utils.Database(tmp_path / "t.db")
    assert [row["response_text"] for row in other["calls"].rows] == ["hi"]


def test_full_text_search_finds_prompts_and_answers(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.db")
    for prompt, answer in [("translate cheese", "fromage"), ("weather today", "sunny")]:
        store.calls.finish(store.calls.start(start(prompt=prompt)), done(answer))
    assert [c.outcome.response_text for c in store.calls.find(CallFilter(search="cheese"))] == [
        "fromage"
    ]
    assert [
        c.start.messages[0]["content"] for c in store.calls.find(CallFilter(search="sunny"))
    ] == ["weather today"]
    assert store.calls.find(CallFilter(search='"unbalanced (*')) == []


def test_log_filters_and_keyset_paging(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.db")
    for index in range(5):
        call_id = store.calls.start(
            start(model="a" if index % 2 else "b", when=f"2026-11-2{index}T00:00:00.000000Z")
        )
        store.calls.finish(call_id, done("x", status="error" if index == 4 else "ok"))
    assert [c.id for c in store.calls.find(CallFilter(limit=2))] == [5, 4]
    assert [c.id for c in store.calls.find(CallFilter(limit=2, before_id=4))] == [3, 2]
    assert [c.id for c in store.calls.find(CallFilter(model="a"))] == [4, 2]
    assert [c.id for c in store.calls.find(CallFilter(errors_only=True))] == [5]
    assert [c.id for c in store.calls.find(CallFilter(since="2026-11-23"))] == [5, 4]


def test_usage_totals_by_model_leave_cache_hits_out_of_tokens(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.db")
    store.calls.finish(store.calls.start(start(model="a")), done("x", cost=0.5))
    store.calls.finish(store.calls.start(start(model="a")), done("x", cost=None))
    hit = CallOutcome(
        finished_at="t",
        status="ok",
        usage=Usage(10, 5),
        cost_usd=0.0,
        cost_saved_usd=0.5,
        cache_hit=True,
    )
    store.calls.finish(store.calls.start(start(model="a")), hit)
    (row,) = store.calls.usage("model")
    assert (row.group, row.calls, row.prompt_tokens, row.cost_usd) == ("a", 3, 20, 0.5)
    assert (row.unpriced_calls, row.cache_hits, row.cost_saved_usd) == (1, 1, 0.5)


def test_a_crash_mid_stream_leaves_the_partial_text(tmp_path: Path) -> None:
    script = f"""
import os
from storage.store import Store
from tests.unit.test_storage import start
store = Store.open({str(tmp_path / "t.db")!r})
call_id = store.calls.start(start())
store.calls.save_partial(call_id, "half an ans")
os._exit(9)
"""
    subprocess.run([sys.executable, "-c", script], check=False, cwd=Path(__file__).parents[2])
    (call,) = Store.open(tmp_path / "t.db").calls.find(CallFilter())
    assert call.status == "pending" and call.outcome.response_text == "half an ans"


def test_two_processes_and_threads_write_at_once_without_locking_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    Store.open(path)
    script = f"""
from storage.store import Store
from tests.unit.test_storage import start, done
store = Store.open({str(path)!r})
for i in range(150):
    store.calls.finish(store.calls.start(start()), done("p"))
"""
    other = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[2])
    store = Store.open(path)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(100):
                store.calls.finish(store.calls.start(start()), done("t"))
        except BaseException as error:  # pragma: no cover - the assertion shows it
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert other.wait(timeout=60) == 0
    assert errors == []
    assert store.calls.count() == 350


def test_a_long_read_in_a_thread_does_not_hold_up_a_write(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.db")
    store.calls.finish(store.calls.start(start()), done("x"))
    reading = threading.Event()
    release = threading.Event()

    def long_read() -> None:
        with store.read() as db:
            cursor = db.execute("SELECT * FROM calls")
            cursor.fetchone()
            reading.set()
            release.wait(10)  # a read transaction stays open meanwhile

    reader = threading.Thread(target=long_read)
    reader.start()
    assert reading.wait(10)
    writer = threading.Thread(
        target=lambda: store.calls.finish(store.calls.start(start()), done("y"))
    )
    writer.start()
    writer.join(timeout=5)
    finished_while_reading = not writer.is_alive()
    release.set()
    writer.join()
    assert finished_while_reading
    reader.join()
    assert store.calls.count() == 2


def test_the_version_changes_with_every_commit_from_any_connection_and_only_then(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path / "t.db")
    first = store.version()
    store.calls.count()
    store.cache.stats("now")
    assert store.version() == first  # reads change nothing
    store.calls.start(start())  # this store's own writer
    second = store.version()
    assert second != first
    other = Store.open(tmp_path / "t.db")  # another connection (another process alike)
    other.calls.start(start())
    assert store.version() not in (first, second)
    other.close()
    store.close()


def test_an_in_memory_store_counts_its_commits_as_its_version() -> None:
    store = Store(sqlite_utils.Database(memory=True))
    migrations.apply(store.db)
    before = store.version()
    store.calls.start(start())
    assert store.version() == before + 1


def test_a_search_of_the_log_walks_the_full_text_index_and_stops_at_the_limit(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path / "t.db")
    ids = [store.calls.start(start(prompt=f"invoice {n}")) for n in range(5)]
    store.calls.start(start(prompt="weather"))
    query = CallFilter(search="invoice", limit=2)
    assert [call.id for call in store.calls.find(query)] == [ids[4], ids[3]]
    paged = CallFilter(search="invoice", limit=2, before_id=ids[3])
    assert [call.id for call in store.calls.find(paged)] == [ids[2], ids[1]]
    sql, args = find_sql(query)
    steps = " | ".join(row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}", args))
    assert steps.startswith("SCAN calls_fts VIRTUAL TABLE")
    assert "LIST SUBQUERY" not in steps and "TEMP B-TREE" not in steps
