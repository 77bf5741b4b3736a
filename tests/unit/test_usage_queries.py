"""The Usage pane's reads: totals per local-day period, breakdowns, the daily series, log pages,
the rollup kept by triggers, and the query plans that keep them fast."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlite_utils

from storage.db import open_database
from storage.migrations import migrations
from storage.records import CallFilter, CallOutcome, CallStart, Usage
from storage.store import Store
from storage.usage import DAILY_SQL, UsageQueries, local_midnight, log_page_sql
from tests.support.old_schema import log_calls_as_before_m013

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # 07:00 in New York (EST, UTC-5)


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is New York's: days start at 05:00 UTC, at 04:00 UTC before Nov 1 (EDT)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "usage.db")
    yield opened
    opened.close()


def log_call(
    store: Store,
    when: str,
    *,
    model: str = "gpt-4o-mini",
    profile: str = "openai",
    tokens_in: int = 100,
    tokens_out: int = 10,
    cost: float | None = 0.001,
    status: str = "ok",
    hit: bool = False,
    saved: float | None = None,
    prompt: str = "hello",
    answer: str = "hi",
) -> int:
    """Log one finished call started at `when` (UTC ISO)."""
    call_id = store.calls.start(
        CallStart(
            started_at=when,
            profile=profile,
            endpoint="https://api.openai.com/v1",
            model=model,
            stream=False,
            params={"temperature": 0},
            messages=[
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": prompt},
            ],
            request_key="k",
            cache_eligible=True,
        )
    )
    store.calls.finish(
        call_id,
        CallOutcome(
            finished_at=when,
            status=status,
            response_text=answer,
            usage=Usage(tokens_in, tokens_out),
            cost_usd=cost,
            cost_saved_usd=saved,
            cache_hit=hit,
        ),
    )
    return call_id


# -- periods ------------------------------------------------------------------------------


BOUNDARY_CALLS = [
    # (started at, UTC; prompt tokens: a power of two, so every sum names its calls)
    ("2026-11-28T05:00:00.000000Z", 1),  # local midnight today: today
    ("2026-11-28T04:59:59.999999Z", 2),  # 23:59 yesterday: 7 days, not today
    ("2026-11-22T05:00:00.000000Z", 4),  # first moment of the 7-day window
    ("2026-11-22T04:59:59.000000Z", 8),  # just before it: 30 days only
    ("2026-10-30T04:00:00.000000Z", 16),  # first moment of the 30 days (EDT, UTC-4)
    ("2026-10-30T03:59:59.000000Z", 32),  # just before: in no period
    ("2026-11-29T05:00:00.000000Z", 64),  # tomorrow: in no period
]


def test_totals_follow_local_days_across_daylight_saving(store: Store, new_york: None) -> None:
    for when, tokens in BOUNDARY_CALLS:
        log_call(store, when, tokens_in=tokens, tokens_out=0)

    today, week, month = UsageQueries(store).totals(NOW)

    assert (today.group, today.prompt_tokens, today.calls) == ("today", 1, 1)
    assert (week.group, week.prompt_tokens, week.calls) == ("7 days", 1 + 2 + 4, 3)
    assert (month.group, month.prompt_tokens, month.calls) == ("30 days", 1 + 2 + 4 + 8 + 16, 5)


def test_quarter_hour_buckets_split_days_of_a_utc_plus_5_45_zone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Asia/Kathmandu")  # local midnight is 18:15 UTC
    time.tzset()
    try:
        log_call(store, "2026-11-27T18:15:00.000000Z", tokens_in=1)  # 00:00 on the 28th
        log_call(store, "2026-11-27T18:14:59.000000Z", tokens_in=2)  # 23:59 on the 27th
        queries = UsageQueries(store)
        assert queries.totals(NOW)[0].prompt_tokens == 1
        days = {row.group: row.prompt_tokens for row in queries.daily(NOW, 2)}
        assert days == {"2026-11-27": 2, "2026-11-28": 1}
    finally:
        monkeypatch.undo()
        time.tzset()


def test_local_midnight_is_utc_text_with_the_offset_of_that_day(new_york: None) -> None:
    assert local_midnight(date(2026, 10, 30)).startswith("2026-10-30T04:00:00")
    assert local_midnight(date(2026, 11, 28)).startswith("2026-11-28T05:00:00")


def test_totals_count_errors_cache_hits_savings_and_unpriced_calls(store: Store) -> None:
    today = "2026-11-28T10:00:00.000000Z"
    log_call(store, today, tokens_in=100, tokens_out=10, cost=0.002)
    log_call(store, today, tokens_in=100, tokens_out=10, cost=None)  # no price known
    log_call(store, today, tokens_in=100, tokens_out=10, cost=0.0, hit=True, saved=0.002)
    log_call(store, today, tokens_in=0, tokens_out=0, cost=None, status="error")

    total = UsageQueries(store).totals(NOW)[0]

    assert total.calls == 4
    assert total.errors == 1
    assert total.unpriced_calls == 1  # the error and the hit are not unpriced
    assert (total.prompt_tokens, total.completion_tokens) == (200, 20)  # the hit sent nothing
    assert total.cache_hits == 1
    assert total.cost_usd == pytest.approx(0.002)
    assert total.cost_saved_usd == pytest.approx(0.002)


# -- the rollup ---------------------------------------------------------------------------


def live_sums(store: Store) -> tuple[int, ...]:
    """What the rollup must equal: the same sums straight from `calls`."""
    row = store.db.execute(
        """SELECT count(*), sum(status IN ('error', 'incomplete')),
            coalesce(sum(CASE WHEN cache_hit = 0 THEN prompt_tokens END), 0),
            sum(cost_usd IS NULL AND status = 'ok' AND cache_hit = 0), sum(cache_hit),
            round(coalesce(sum(cost_usd), 0), 9) FROM calls"""
    ).fetchone()
    return tuple(value or 0 for value in row)


def rollup_sums(store: Store) -> tuple[int, ...]:
    row = store.db.execute(
        """SELECT sum(calls), sum(errors), sum(prompt_tokens), sum(unpriced), sum(cache_hits),
            round(sum(cost_usd), 9) FROM usage_rollup"""
    ).fetchone()
    return tuple(value or 0 for value in row)


def test_a_blank_database_gets_the_rollup_its_triggers_and_the_paging_indexes(
    tmp_path: Path,
) -> None:
    db = open_database(tmp_path / "blank.db")
    columns = {c.name for c in db["usage_rollup"].columns}  # type: ignore[union-attr]
    assert columns == {
        "bucket",
        "model",
        "profile",
        "calls",
        "errors",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "unpriced",
        "cache_hits",
        "cost_saved_usd",
        "lookups",
        "tokens_saved",
    }
    triggers = {t.name for t in db.triggers}
    assert {"calls_usage_ai", "calls_usage_au", "calls_usage_ad"} <= triggers
    indexes = {i.name for i in db["calls"].indexes}  # type: ignore[union-attr]
    assert {"idx_calls_model", "idx_calls_failed"} <= indexes
    assert "idx_calls_usage" not in indexes  # m010: the rollup made it dead weight
    entries = {i.name for i in db["cache_entries"].indexes}  # type: ignore[union-attr]
    assert "idx_cache_entries_figures" in entries


def test_the_rollup_follows_inserts_updates_and_deletes(store: Store) -> None:
    first = log_call(store, "2026-11-28T10:07:00.000000Z", cost=None)
    second = log_call(store, "2026-11-28T10:22:00.000000Z", status="error", cost=0.0)
    log_call(store, "2026-11-27T23:59:00.000000Z", hit=True, cost=0.0, saved=0.01)
    pending = store.calls.start(
        CallStart("2026-11-28T11:00:00.000000Z", "p", "e", "m", False, {}, [], "k", True)
    )
    store.calls.save_partial(pending, "half an answ")
    assert rollup_sums(store) == live_sums(store)

    with store.write() as db:
        db.execute("UPDATE calls SET model = 'other', cost_usd = 0.5 WHERE id = ?", [first])
        db.execute("DELETE FROM calls WHERE id = ?", [second])
    assert rollup_sums(store) == live_sums(store)
    models = {row[0] for row in store.db.execute("SELECT model FROM usage_rollup")}
    assert models == {"gpt-4o-mini", "other", "m"}  # emptied groups are removed


def test_the_rollup_buckets_are_quarter_hours(store: Store) -> None:
    log_call(store, "2026-11-28T10:07:00.000000Z")
    log_call(store, "2026-11-28T10:14:59.999999Z")
    log_call(store, "2026-11-28T10:45:00.000000Z")
    buckets = [row[0] for row in store.db.execute("SELECT bucket FROM usage_rollup ORDER BY 1")]
    assert buckets == ["2026-11-28T10:00", "2026-11-28T10:45"]


def test_the_migration_rolls_up_calls_logged_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_calls_as_before_m013(monkeypatch)
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    migrations.apply(old, stop_before="m003_usage_rollup")
    older = Store(old)
    log_call(older, "2026-11-28T10:00:00.000000Z", cost=None)
    log_call(older, "2026-11-20T10:00:00.000000Z", hit=True, cost=0.0)
    expected = live_sums(older)
    old.close()

    migrated = Store(open_database(path))
    assert rollup_sums(migrated) == expected
    migrated.close()


# -- breakdowns and the daily series ------------------------------------------------------


def test_breakdown_by_model_and_profile_costliest_first(store: Store) -> None:
    log_call(store, "2026-11-28T10:00:00.000000Z", model="a", profile="p1", cost=0.001)
    log_call(store, "2026-11-27T10:00:00.000000Z", model="b", profile="p2", cost=0.005)
    log_call(store, "2026-11-26T10:00:00.000000Z", model="b", profile="p1", cost=0.001)
    log_call(store, "2026-09-01T10:00:00.000000Z", model="old", profile="p3", cost=9.0)
    queries = UsageQueries(store)

    by_model = queries.breakdown("model", NOW)
    by_profile = queries.breakdown("profile", NOW)

    assert [(row.group, row.calls) for row in by_model] == [("b", 2), ("a", 1)]
    assert [(row.group, row.calls) for row in by_profile] == [("p2", 1), ("p1", 2)]
    assert by_model[0].cost_usd == pytest.approx(0.006)


def test_breakdown_by_day_lists_days_with_calls_newest_first(store: Store) -> None:
    log_call(store, "2026-11-20T10:00:00.000000Z")
    log_call(store, "2026-11-28T10:00:00.000000Z")
    log_call(store, "2026-11-28T11:00:00.000000Z")
    days = UsageQueries(store).breakdown("day", NOW)
    assert [(row.group, row.calls) for row in days] == [("2026-11-28", 2), ("2026-11-20", 1)]
    with pytest.raises(ValueError, match="break usage down"):
        UsageQueries(store).breakdown("colour", NOW)


def test_the_daily_series_has_every_local_day_with_zeros(store: Store, new_york: None) -> None:
    log_call(store, "2026-11-28T04:00:00.000000Z", cost=0.25)  # 23:00 on the 27th locally
    log_call(store, "2026-11-01T12:00:00.000000Z", cost=0.5)

    series = UsageQueries(store).daily(NOW, days=30)

    assert len(series) == 30
    assert (series[0].group, series[-1].group) == ("2026-10-30", "2026-11-28")
    by_day = {row.group: row.cost_usd for row in series}
    assert by_day["2026-11-27"] == pytest.approx(0.25)
    assert by_day["2026-11-01"] == pytest.approx(0.5)
    assert sum(1 for row in series if row.calls == 0) == 28
    assert series[-1].calls == 0 and series[-1].cost_usd == 0.0


# -- the log ------------------------------------------------------------------------------


def test_log_pages_are_keyset_paged_newest_first(store: Store) -> None:
    ids = [log_call(store, f"2026-11-28T10:{n:02d}:00.000000Z") for n in range(7)]
    queries = UsageQueries(store)
    first = queries.log_page(CallFilter(limit=3))
    second = queries.log_page(CallFilter(limit=3, before_id=first[-1].id))
    assert [row.id for row in first + second] == ids[::-1][:6]


def test_log_pages_filter_by_words_model_and_failure(store: Store) -> None:
    log_call(store, "2026-11-28T10:00:00.000000Z", prompt="translate the invoice")
    haiku = log_call(store, "2026-11-28T10:01:00.000000Z", prompt="a haiku", model="b")
    failed = log_call(store, "2026-11-28T10:02:00.000000Z", status="error", prompt="haiku too")
    queries = UsageQueries(store)

    def ids(**kwargs: object) -> list[int]:
        return [row.id for row in queries.log_page(CallFilter(**kwargs))]  # type: ignore[arg-type]

    assert ids(search="haiku") == [failed, haiku]
    assert ids(search="haiku", model="b") == [haiku]
    assert ids(errors_only=True) == [failed]
    assert ids(search="haiku", before_id=failed) == [haiku]
    assert ids(search="nothing-like-it") == []
    assert ids(search="hai") == [failed, haiku]  # the last word typed is a prefix
    assert ids(search="ha") == []  # too short to be one
    assert ids(search="hai invoice") == []


def test_a_log_row_carries_the_last_message_untouched(store: Store) -> None:
    nasty = "\x1b]0;pwned\x07 [bold red]x"
    log_call(store, "2026-11-28T10:00:00.000000Z", prompt=nasty, cost=None)
    row = UsageQueries(store).log_page(CallFilter())[0]
    assert row.excerpt == nasty  # made inert where it is shown, not in storage
    assert (row.status, row.cost_usd, row.prompt_tokens) == ("ok", None, 100)


# -- query plans --------------------------------------------------------------------------


def plan(store: Store, sql: str, args: list[object]) -> str:
    return " | ".join(row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}", args))


def test_the_totals_query_searches_the_rollup_by_its_key(store: Store) -> None:
    steps = plan(store, DAILY_SQL, ["2026-10-30T04:00", "2026-11-29T05:00"])
    assert "SEARCH usage_rollup USING PRIMARY KEY (bucket>? AND bucket<?)" in steps
    assert "SCAN" not in steps


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (CallFilter(), "SCAN calls"),  # in rowid order: stops after a page
        (CallFilter(before_id=9), "SEARCH calls USING INTEGER PRIMARY KEY (rowid<?)"),
        (CallFilter(model="m", before_id=9), "USING INDEX idx_calls_model (model=? AND rowid<?)"),
        (CallFilter(errors_only=True), "USING INDEX idx_calls_failed"),
        (CallFilter(search="haiku", before_id=9), "SCAN calls_fts VIRTUAL TABLE"),
    ],
)
def test_log_pages_use_an_index_or_the_id_order(
    store: Store, query: CallFilter, expected: str
) -> None:
    sql, args = log_page_sql(query)
    steps = plan(store, sql, args)
    assert expected in steps
    assert "TEMP B-TREE" not in steps  # no sort of every match
    if query.search:
        assert steps.index("calls_fts") < steps.index("SEARCH calls USING INTEGER PRIMARY KEY")


def test_a_page_newer_than_a_call_is_the_calls_just_above_it_newest_first(store: Store) -> None:
    ids = [
        log_call(store, f"2026-11-28T10:{n:02d}:00.000000Z", prompt=f"haiku {n}", model="ab"[n % 2])
        for n in range(9)
    ]
    queries = UsageQueries(store)

    def ids_above(call_id: int, **kwargs: object) -> list[int]:
        query = CallFilter(limit=3, **kwargs)  # type: ignore[arg-type]
        return [row.id for row in queries.log_page(query, newer_than=call_id)]

    assert ids_above(ids[2]) == [ids[5], ids[4], ids[3]]
    assert ids_above(ids[7]) == [ids[8]]
    assert ids_above(ids[0], model="b") == [ids[5], ids[3], ids[1]]
    assert ids_above(ids[0], search="haiku") == [ids[3], ids[2], ids[1]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (CallFilter(), "SEARCH calls USING INTEGER PRIMARY KEY (rowid>?)"),
        (CallFilter(model="m"), "USING INDEX idx_calls_model (model=? AND rowid>?)"),
        (CallFilter(errors_only=True), "USING INDEX idx_calls_failed"),
        (CallFilter(search="haiku"), "SCAN calls_fts VIRTUAL TABLE"),
    ],
)
def test_pages_newer_than_a_call_use_an_index_or_the_id_order(
    store: Store, query: CallFilter, expected: str
) -> None:
    sql, args = log_page_sql(query, newer_than=9)
    steps = plan(store, sql, args)
    assert expected in steps and "TEMP B-TREE" not in steps
