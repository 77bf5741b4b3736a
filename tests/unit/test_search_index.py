"""The log's full-text index holds the calls sent to a model and no cache hit (m008): on a
blank database, after random edits of the log, and on a database upgraded with hits that
the old triggers had indexed. The index is compared token by token (`fts5vocab`) with one
built from scratch over the rows that should be in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.calls import HitBatch, HitCall, insert_hit_batch
from storage.db import open_database
from storage.migrations import migrations
from storage.records import CallFilter, CallOutcome, CallStart, Usage
from storage.store import Store
from tests.support.old_schema import log_calls_as_before_m013

WORDS = ["rivers", "cheese", "haiku", "invoice", "gradient", "paris", "lora"]
TEXT = st.lists(st.sampled_from(WORDS), min_size=0, max_size=3).map(" ".join) | st.none()
CALL = st.fixed_dictionaries(
    {"prompt_text": TEXT, "response_text": TEXT, "cache_hit": st.sampled_from([0, 1, None])}
)
EDIT = st.one_of(
    st.tuples(st.just("insert"), CALL),
    st.tuples(st.just("update"), st.integers(0, 30), CALL.map(lambda c: _some(c))),
    st.tuples(st.just("delete"), st.integers(0, 30)),
)


def _some(call: dict[str, Any]) -> dict[str, Any]:
    """One or two of a call's columns: an update that leaves the others as they are."""
    names = sorted(call)
    return {name: call[name] for name in names[: 1 + len(str(call)) % 2]}


def apply_edits(db: sqlite_utils.Database, edits: list[tuple[Any, ...]]) -> None:
    """Insert, update and delete calls in SQL (the `n`th call, wrapping around)."""
    for edit in edits:
        ids = [row[0] for row in db.execute("SELECT id FROM calls ORDER BY id").fetchall()]
        if edit[0] == "insert":
            row = {"started_at": "t", "profile": "p", "endpoint": "e", "model": "m"}
            db.execute(
                "INSERT INTO calls (started_at, profile, endpoint, model, status, prompt_text,"
                " response_text, cache_hit) VALUES (:started_at, :profile, :endpoint, :model,"
                " 'ok', :prompt_text, :response_text, :cache_hit)",
                {**row, **edit[1]},
            )
        elif ids and edit[0] == "update":
            assignments = ", ".join(f"{name} = :{name}" for name in edit[2])
            db.execute(
                f"UPDATE calls SET {assignments} WHERE id = :id",
                {**edit[2], "id": ids[edit[1] % len(ids)]},
            )
        elif ids:
            db.execute("DELETE FROM calls WHERE id = ?", [ids[edit[1] % len(ids)]])


def indexed(db: sqlite_utils.Database) -> set[tuple[Any, ...]]:
    """Every token the log's index holds: (term, row id, column, offset)."""
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.calls_tokens"
        " USING fts5vocab(main, calls_fts, 'instance')"
    )
    return set(db.execute("SELECT * FROM temp.calls_tokens").fetchall())


def expected_index(db: sqlite_utils.Database) -> set[tuple[Any, ...]]:
    """The tokens of an index built from scratch over the calls that are not cache hits."""
    db.execute("DROP TABLE IF EXISTS temp.fresh")
    db.execute(
        "CREATE VIRTUAL TABLE temp.fresh USING fts5(prompt_text, response_text, tokenize='porter')"
    )
    db.execute(
        "INSERT INTO temp.fresh (rowid, prompt_text, response_text)"
        " SELECT id, prompt_text, response_text FROM calls WHERE coalesce(cache_hit, 0) = 0"
    )
    db.execute("DROP TABLE IF EXISTS temp.fresh_tokens")
    db.execute("CREATE VIRTUAL TABLE temp.fresh_tokens USING fts5vocab(temp, fresh, 'instance')")
    return set(db.execute("SELECT * FROM temp.fresh_tokens").fetchall())


def start(prompt: str) -> CallStart:
    return CallStart(
        started_at="2026-11-28T10:00:00.000000Z",
        profile="p",
        endpoint="http://x/v1",
        model="m",
        stream=False,
        params={"temperature": 0.0},
        messages=[{"role": "user", "content": prompt}],
        request_key=prompt,
        cache_eligible=True,
    )


def answer(text: str, *, hit: bool) -> CallOutcome:
    return CallOutcome(
        finished_at="2026-11-28T10:00:01.000000Z",
        status="ok",
        response_text=text,
        usage=Usage(10, 5),
        cost_usd=0.0 if hit else 0.01,
        cost_saved_usd=0.01 if hit else None,
        cache_hit=hit,
    )


def test_search_lists_calls_sent_and_leaves_out_cache_hits_lone_or_in_a_batch(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path / "t.db")
    sent = store.calls.start(start("rivers of france"))
    store.calls.finish(sent, answer("the seine", hit=False))
    lone_hit = store.calls.start(start("rivers of france"))  # logged pending, then a hit
    store.calls.finish(lone_hit, answer("the seine", hit=True))
    batch = HitBatch(
        at="2026-11-28T10:00:02.000000Z",
        profile="p",
        endpoint="http://x/v1",
        model="m",
        params={"temperature": 0.0},
        latency_ms=0.1,
        calls=[
            HitCall(
                messages=[{"role": "user", "content": "rivers of france"}],
                request_key="rivers of france",
                response_text="the seine",
                response_model="m",
                finish_reason="stop",
                tool_calls=None,
                usage=Usage(10, 5),
                cost_saved_usd=0.01,
            )
        ],
    )
    with store.write() as db:
        (batch_hit,) = insert_hit_batch(db.conn, batch)

    assert [call.id for call in store.calls.find(CallFilter(search="seine"))] == [sent]
    assert [call.id for call in store.calls.find(CallFilter())] == [batch_hit, lone_hit, sent]
    assert indexed(store.db) == expected_index(store.db) != set()
    triggers = dict(
        store.db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    )
    assert "WHEN coalesce(NEW.cache_hit, 0) = 0" in triggers["calls_ai"]
    assert "WHEN coalesce(OLD.cache_hit, 0) = 0" in triggers["calls_ad"]
    assert "cache_hit ON calls" in triggers["calls_au"]  # a call becoming a hit leaves it

    store.db.execute("DELETE FROM calls WHERE id IN (?, ?)", [sent, batch_hit])
    assert store.calls.find(CallFilter(search="seine")) == []
    assert indexed(store.db) == expected_index(store.db) == set()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EDIT, min_size=1, max_size=25))
def test_the_index_stays_that_of_the_calls_sent_whatever_the_edits(
    edits: list[tuple[Any, ...]],
) -> None:
    db = sqlite_utils.Database(memory=True)
    migrations.apply(db)
    apply_edits(db, edits)
    assert indexed(db) == expected_index(db)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EDIT, min_size=1, max_size=20), st.lists(EDIT, max_size=10))
def test_m008_takes_the_hits_the_old_triggers_indexed_out_and_keeps_the_rest(
    before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]
) -> None:
    db = sqlite_utils.Database(memory=True)
    migrations.apply(db, stop_before="m008_search_skips_cache_hits")
    apply_edits(db, before)  # every row indexed, hits too
    migrations.apply(db)
    assert indexed(db) == expected_index(db)
    apply_edits(db, after)
    assert indexed(db) == expected_index(db)


def test_an_upgraded_database_no_longer_finds_its_hits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_calls_as_before_m013(monkeypatch)
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m008_search_skips_cache_hits")
    older = Store(old)
    sent = older.calls.start(start("a haiku about gradients"))
    older.calls.finish(sent, answer("descending", hit=False))
    hit = older.calls.start(start("a haiku about gradients"))
    older.calls.finish(hit, answer("descending", hit=True))
    assert {c.id for c in older.calls.find(CallFilter(search="haiku"))} == {sent, hit}
    old.close()

    migrated = Store(open_database(path))
    assert [c.id for c in migrated.calls.find(CallFilter(search="haiku"))] == [sent]
    assert [c.id for c in migrated.calls.find(CallFilter(search="descending"))] == [sent]
    assert indexed(migrated.db) == expected_index(migrated.db)
    migrated.close()
