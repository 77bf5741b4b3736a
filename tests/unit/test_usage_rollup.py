"""The usage rollup against the log it sums: random logs edited at random (inserts, updates,
deletes), migration m004's backfill, `rebuild_usage_rollup`, and the reads built on the rollup
(`ResponseCache.stats`, `UsageQueries.summary`) compared with full scans of `calls`."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.db import open_database
from storage.migrations import migrations, rebuild_usage_rollup
from storage.store import Store
from storage.usage import UsageQueries, _summary_parts

# -- a random log -------------------------------------------------------------------------

# Moments on both sides of quarter-hour and day edges, over three UTC days.
MOMENTS = [
    f"2026-11-{day}T{hour}:{minute}:{second}Z"
    for day in ("26", "27", "28")
    for hour in ("00", "18", "23")
    for minute in ("00", "14", "15", "44", "45", "59")
    for second in ("00.000000", "59.999999")
]
COLUMNS = [
    "started_at",
    "model",
    "profile",
    "status",
    "cache_eligible",
    "cache_hit",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "cost_saved_usd",
]
CALL = st.fixed_dictionaries(
    {
        "started_at": st.sampled_from(MOMENTS),
        "model": st.sampled_from(["a", "b"]),
        "profile": st.sampled_from(["p", "q"]),
        "status": st.sampled_from(["ok", "ok", "error", "incomplete", "cancelled", "pending"]),
        "cache_eligible": st.sampled_from([0, 1]),
        "cache_hit": st.sampled_from([0, 1]),
        "prompt_tokens": st.none() | st.integers(0, 5000),
        "completion_tokens": st.none() | st.integers(0, 5000),
        "cost_usd": st.none() | st.sampled_from([0.0, 0.000125, 0.5, 3.25]),
        "cost_saved_usd": st.none() | st.sampled_from([0.0, 0.002, 1.5]),
    }
)


def _some_columns(call: dict[str, Any], names: set[str]) -> dict[str, Any]:
    return {name: value for name, value in call.items() if name in names}


CHANGES = st.builds(_some_columns, CALL, st.sets(st.sampled_from(COLUMNS), min_size=1, max_size=3))
"""New values for some columns of a call (one column alone, at times)."""
EDIT = st.one_of(
    st.tuples(st.just("insert"), CALL),
    st.tuples(st.just("update"), st.integers(0, 50), CHANGES),
    st.tuples(st.just("delete"), st.integers(0, 50)),
)
SINCE = st.none() | st.sampled_from([*MOMENTS, "2026-11-27", "2026-11-27T18:15:00.000000Z"])


def apply_edits(store: Store, edits: list[tuple[Any, ...]]) -> None:
    """Insert, update (a subset of the columns) and delete calls, in SQL, as edits say."""
    with store.write() as db:
        for edit in edits:
            ids = [row[0] for row in db.execute("SELECT id FROM calls ORDER BY id")]
            if edit[0] == "insert":
                call = {"endpoint": "e", **edit[1]}
                columns, marks = ", ".join(call), ", ".join("?" * len(call))
                db.execute(f"INSERT INTO calls ({columns}) VALUES ({marks})", list(call.values()))
            elif ids and edit[0] == "update":
                changes = ", ".join(f"{column} = ?" for column in edit[2])
                args = [*edit[2].values(), ids[edit[1] % len(ids)]]
                db.execute(f"UPDATE calls SET {changes} WHERE id = ?", args)
            elif ids and edit[0] == "delete":
                db.execute("DELETE FROM calls WHERE id = ?", [ids[edit[1] % len(ids)]])


@contextmanager
def scratch_store() -> Iterator[Store]:
    """A new database file (hypothesis runs many examples in one test: no tmp_path)."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "rollup.db")
        try:
            yield store
        finally:
            store.close()


@contextmanager
def local_zone(name: str) -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


# -- what the rollup must equal, straight from `calls` ------------------------------------


def bucket(started_at: str) -> str:
    return f"{started_at[:14]}{int(started_at[14:16]) // 15 * 15:02d}"


ROLLUP_SUMS = """calls, errors, prompt_tokens, completion_tokens, round(cost_usd, 9), unpriced,
    cache_hits, round(cost_saved_usd, 9), lookups, tokens_saved"""


def expected_rollup(db: sqlite_utils.Database) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """Each quarter hour, model and profile's sums, call by call in Python."""
    sums: dict[tuple[str, str, str], list[Any]] = {}
    for call in db.query("SELECT * FROM calls"):
        hit = bool(call["cache_hit"])
        amounts = [
            1,
            int(call["status"] in ("error", "incomplete")),
            0 if hit else call["prompt_tokens"] or 0,
            0 if hit else call["completion_tokens"] or 0,
            call["cost_usd"] or 0.0,
            int(call["cost_usd"] is None and call["status"] == "ok" and not hit),
            int(hit),
            call["cost_saved_usd"] or 0.0,
            call["cache_eligible"],
            (call["prompt_tokens"] or 0) + (call["completion_tokens"] or 0)
            if hit and call["prompt_tokens"] is not None and call["completion_tokens"] is not None
            else 0,
        ]
        key = (bucket(call["started_at"]), call["model"], call["profile"])
        total = sums.setdefault(key, [0] * len(amounts))
        sums[key] = [a + b for a, b in zip(total, amounts, strict=True)]
    return {key: rounded(values) for key, values in sums.items()}


def rounded(values: list[Any] | tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(round(v, 9) if isinstance(v, float) else v for v in values)


def rollup(db: sqlite_utils.Database) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    rows = db.execute(f"SELECT bucket, model, profile, {ROLLUP_SUMS} FROM usage_rollup")
    return {tuple(row[:3]): rounded(row[3:]) for row in rows}


def scanned_stats(db: sqlite_utils.Database) -> tuple[Any, ...]:
    """`ResponseCache.stats`'s log figures as they were read before m004: every call."""
    row = db.execute(
        "SELECT coalesce(sum(cache_eligible), 0), coalesce(sum(cache_hit), 0),"
        " coalesce(sum(CASE WHEN cache_hit THEN prompt_tokens + completion_tokens END), 0),"
        " round(coalesce(sum(cost_saved_usd), 0), 9) FROM calls"
    ).fetchone()
    return tuple(row)


def scanned_summary(db: sqlite_utils.Database, by: str | None, since: str | None) -> list[Any]:
    """Totals per group as `CallLog.usage` read them before the rollup: every call."""
    group = {None: "'all'", "model": "model", "profile": "profile"}.get(by)
    # Seconds only: SQLite reads fractions to the millisecond and rounds .9999995 up to the next
    # second (the next day at midnight), where the rollup's buckets floor.
    group = group or "date(substr(started_at, 1, 19), 'localtime')"
    where = "WHERE started_at >= ?" if since else ""
    rows = db.execute(
        f"""SELECT {group} AS grp, count(*), sum(status IN ('error', 'incomplete')),
            coalesce(sum(CASE WHEN cache_hit = 0 THEN prompt_tokens END), 0),
            coalesce(sum(CASE WHEN cache_hit = 0 THEN completion_tokens END), 0),
            round(coalesce(sum(cost_usd), 0), 9),
            sum(cost_usd IS NULL AND status = 'ok' AND cache_hit = 0), sum(cache_hit),
            round(coalesce(sum(cost_saved_usd), 0), 9)
        FROM calls {where} GROUP BY grp ORDER BY grp""",
        [since] if since else [],
    )
    return [tuple(row) for row in rows]


def summary_rows(store: Store, by: str | None, since: str | None) -> list[Any]:
    return [
        rounded(
            (
                row.group,
                row.calls,
                row.errors,
                row.prompt_tokens,
                row.completion_tokens,
                row.cost_usd,
                row.unpriced_calls,
                row.cache_hits,
                row.cost_saved_usd,
            )
        )
        for row in UsageQueries(store).summary(by, since)
    ]


RANDOM_LOGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- properties ---------------------------------------------------------------------------


@RANDOM_LOGS
@given(st.lists(EDIT, max_size=40))
def test_the_rollup_equals_the_log_after_any_inserts_updates_and_deletes(
    edits: list[tuple[Any, ...]],
) -> None:
    with scratch_store() as store:
        for edit in edits:  # checked after each: a later delete could hide a wrong sum
            apply_edits(store, [edit])
            assert rollup(store.db) == expected_rollup(store.db), edit


@RANDOM_LOGS
@given(st.lists(EDIT, max_size=40))
def test_cache_stats_from_the_rollup_equal_a_scan_of_the_log(
    edits: list[tuple[Any, ...]],
) -> None:
    with scratch_store() as store:
        apply_edits(store, edits)
        stats = store.cache.stats("2026-11-28T12:00:00.000000Z")
        figures = (stats.lookups, stats.hits, stats.tokens_saved, round(stats.cost_saved_usd, 9))
        assert figures == scanned_stats(store.db)


@RANDOM_LOGS
@given(
    st.lists(EDIT, max_size=40),
    st.sampled_from([None, "model", "profile", "day"]),
    SINCE,
    st.sampled_from(["UTC", "Asia/Kathmandu", "America/New_York"]),
)
def test_usage_summary_from_the_rollup_equals_a_scan_of_the_log(
    edits: list[tuple[Any, ...]], by: str | None, since: str | None, zone: str
) -> None:
    with scratch_store() as store, local_zone(zone):
        apply_edits(store, edits)
        assert summary_rows(store, by, since) == scanned_summary(store.db, by, since)
        assert store.calls.usage(by, since) == UsageQueries(store).summary(by, since)


# -- the migration, the rebuild and the query plans ---------------------------------------


def test_m004_adds_the_cache_sums_and_fills_them_from_calls_logged_before_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m004_cache_rollup")
    older = Store(old)
    edits = [("insert", call) for call in SAMPLE_CALLS]
    apply_edits(older, [*edits, ("update", 1, {"cache_hit": 1}), ("delete", 2)])
    old.close()

    migrated = Store(open_database(path))
    columns = {c.name for c in migrated.db["usage_rollup"].columns}  # type: ignore[union-attr]
    assert {"lookups", "tokens_saved"} <= columns
    assert rollup(migrated.db) == expected_rollup(migrated.db)
    apply_edits(migrated, [("update", 0, {"cache_eligible": 0}), ("insert", SAMPLE_CALLS[0])])
    assert rollup(migrated.db) == expected_rollup(migrated.db)  # the new triggers keep them
    migrated.close()


SAMPLE_CALLS = [
    {
        "started_at": moment,
        "model": "a",
        "profile": "p",
        "status": "ok",
        "cache_eligible": 1,
        "cache_hit": hit,
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "cost_usd": 0.0 if hit else 0.01,
        "cost_saved_usd": 0.01 if hit else None,
    }
    for moment, hit in zip(MOMENTS[:6], [0, 1, 1, 0, 1, 0], strict=True)
]


def test_rebuild_usage_rollup_sums_the_log_again(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.db")
    apply_edits(store, [("insert", call) for call in SAMPLE_CALLS])
    with store.write() as db:
        db.execute("UPDATE usage_rollup SET calls = 99, tokens_saved = 0")
        db.execute("INSERT INTO usage_rollup (bucket, model, profile) VALUES ('x', 'y', 'z')")
    assert rollup(store.db) != expected_rollup(store.db)
    with store.write() as db:
        rebuild_usage_rollup(db)
    assert rollup(store.db) == expected_rollup(store.db)
    store.close()


def plan(db: sqlite_utils.Database, sql: str, args: list[Any]) -> str:
    return " | ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", args))


@pytest.mark.parametrize("by", [None, "model", "day"])
def test_a_summary_since_a_time_reads_the_rollup_by_its_key_and_calls_by_range(
    tmp_path: Path, by: str | None
) -> None:
    db = open_database(tmp_path / "t.db")
    group = {None: "'all'", "model": "model", "day": "date({moment}, 'localtime')"}[by]
    (rollup_sql, rollup_args), (calls_sql, calls_args) = _summary_parts(
        group, "2026-11-28T10:07:00.000000Z"
    )
    assert rollup_args == ["2026-11-28T10:00"] and calls_args[1] == "2026-11-28T10:15"
    assert "SEARCH usage_rollup USING PRIMARY KEY (bucket>?)" in plan(db, rollup_sql, rollup_args)
    steps = plan(db, calls_sql, calls_args)
    assert "SEARCH calls USING" in steps and "(started_at>? AND started_at<?)" in steps
    assert "SCAN calls" not in steps


def test_cache_stats_read_the_rollup_and_a_covering_index_not_the_tables(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.db")
    apply_edits(store, [("insert", call) for call in SAMPLE_CALLS])
    statements: list[str] = []
    with store.read() as db:
        db.conn.set_trace_callback(statements.append)
        store.cache.stats("2026-11-28T12:00:00.000000Z")
        db.conn.set_trace_callback(None)
        steps = [plan(db, sql, []) for sql in statements if sql.lstrip().startswith("SELECT")]
    assert len(steps) == 2
    assert "SCAN cache_entries USING COVERING INDEX idx_cache_entries_figures" in steps[0]
    assert "SCAN usage_rollup" in steps[1]
    assert not any("calls" in step.replace("usage_rollup", "") for step in steps)
    store.close()
