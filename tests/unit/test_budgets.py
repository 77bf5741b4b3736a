"""Budgets: periods in a fixed time zone, the hard stop, the override, free calls, scopes,
reservations, and threshold alerts raised once per period."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.budgets import BudgetGuard, new_budget
from core.budgets.periods import window
from core.errors import BadInput, BudgetExceeded, ConfigError
from core.settings import load_settings
from storage.alerts import AlertBook, NewAlert
from storage.budgets import BudgetBook
from storage.db import open_database
from storage.store import Store
from tests.conftest import write_config
from tests.support.spend import Clock, log_call

PARIS = ZoneInfo("Europe/Paris")
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # UTC+5:45: local midnight is not on a UTC hour
NOON = datetime(2026, 3, 11, 11, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Paris


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "budgets.db")
    yield opened
    opened.close()


def add_budget(store: Store, name: str = "daily", limit: float = 5.0, **options: str) -> None:
    options.setdefault("period", "day")
    BudgetBook(store).put(
        new_budget(name=name, limit_usd=limit, now="2026-01-01T00:00:00.000000Z", **options)
    )


def guard_at(store: Store, now: datetime, zone: ZoneInfo = PARIS) -> tuple[BudgetGuard, Clock]:
    clock = Clock(now)
    return BudgetGuard(store, zone=zone, clock=clock), clock


# -- schema ---------------------------------------------------------------------------------


def test_a_blank_database_migrates_to_the_budget_tables(tmp_path: Path) -> None:
    db = open_database(tmp_path / "t.db")
    columns = {name: {c.name for c in db[name].columns} for name in db.table_names()}  # type: ignore[union-attr]
    assert {
        "name",
        "scope_kind",
        "scope_value",
        "period",
        "limit_usd",
        "thresholds_json",
    } <= columns["budgets"]
    assert {"created_at", "expires_at", "profile", "model", "amount_usd"} <= columns[
        "budget_reservations"
    ]
    assert {"kind", "rule", "scope", "period", "threshold", "figure", "delivery"} <= columns[
        "alerts"
    ]
    assert {"alert_id", "attempt", "outcome", "http_status", "error"} <= columns["alert_deliveries"]
    assert {"metric", "model_glob", "factor", "floor", "min_calls"} <= columns["monitor_rules"]


def test_an_alert_is_unique_per_rule_scope_period_and_threshold_in_sql(store: Store) -> None:
    alert = NewAlert(
        "2026-03-11T11:00:00Z", "budget", "daily", "all", "day:2026-03-11", 50, 3, 5, "m"
    )
    assert len(AlertBook(store).raise_new([alert])) == 1
    assert AlertBook(store).raise_new([alert]) == []
    with store.write() as db, pytest.raises(sqlite3.IntegrityError):  # not a Python check
        db.conn.execute(
            "INSERT INTO alerts (created_at, kind, rule, scope, period, threshold, figure, "
            "message) VALUES ('x', 'budget', 'daily', 'all', 'day:2026-03-11', 50, 1, 'again')"
        )


# -- periods in a fixed time zone -------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "before", "after", "key_before", "key_after"),
    [
        ("day", "2026-03-10T22:59:59", "2026-03-10T23:00:00", "day:2026-03-10", "day:2026-03-11"),
        (
            "week",
            "2026-03-15T22:59:59",
            "2026-03-15T23:00:00",
            "week:2026-03-09",
            "week:2026-03-16",
        ),
        ("month", "2026-03-31T21:59:59", "2026-03-31T22:00:00", "month:2026-03", "month:2026-04"),
    ],
)
def test_periods_turn_at_local_midnight_and_weeks_start_on_monday(
    period: str, before: str, after: str, key_before: str, key_after: str
) -> None:
    assert window(period, utc(before), PARIS).key == key_before
    ending = window(period, utc(after), PARIS)
    assert ending.key == key_after
    assert ending.since == after + ".000000Z"  # the new period starts exactly there


def test_a_day_with_a_daylight_saving_change_is_23_or_25_hours_long() -> None:
    def hours(day: datetime) -> float:
        current = window("day", day, PARIS)
        assert current.since and current.until
        return (utc(current.until[:19]) - utc(current.since[:19])) / timedelta(hours=1)

    assert hours(utc("2026-03-29T12:00:00")) == 23
    assert hours(utc("2026-10-25T12:00:00")) == 25
    assert hours(utc("2026-03-30T12:00:00")) == 24
    month = window("month", utc("2026-10-15T12:00:00"), PARIS)  # 31 days and one more hour
    assert (month.since, month.until) == (
        "2026-09-30T22:00:00.000000Z",
        "2026-10-31T23:00:00.000000Z",
    )


def test_without_a_configured_zone_periods_follow_the_system_local_time() -> None:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Paris"
    time.tzset()
    try:
        for moment in ("2026-03-29T12:00:00", "2026-10-25T23:30:00", "2026-03-15T23:00:00"):
            for period in ("day", "week", "month"):
                assert window(period, utc(moment), None) == window(period, utc(moment), PARIS)
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


@pytest.mark.parametrize(
    ("zone", "midnight"), [(PARIS, "2026-03-10T23:00:00"), (KATHMANDU, "2026-03-10T18:15:00")]
)
def test_spending_counts_from_local_midnight_to_the_second(
    store: Store, zone: ZoneInfo, midnight: str
) -> None:
    add_budget(store, limit=10.0)
    log_call(store, utc(midnight) - timedelta(seconds=1), 4.0)  # yesterday, local time
    log_call(store, utc(midnight), 1.0)
    log_call(store, utc(midnight) + timedelta(hours=5), 0.5)
    guard, _ = guard_at(store, utc(midnight) + timedelta(hours=6), zone)
    [standing] = guard.standings()
    assert standing.spent_usd == pytest.approx(1.5)
    add_budget(store, "ever", limit=10.0, period="all")
    assert {s.budget.name: s.spent_usd for s in guard.standings()}["ever"] == pytest.approx(5.5)


def test_month_and_all_time_spending_add_whole_days_to_the_quarter_hours_at_the_edges(
    store: Store,
) -> None:
    add_budget(store, "march", limit=100.0, period="month")
    add_budget(store, "ever", limit=100.0, period="all")
    for when, cost in [
        ("2026-02-28T22:59:59", 1.0),  # February in Paris
        ("2026-02-28T23:00:00", 2.0),  # March 1st, 00:00 in Paris: still Feb 28 in UTC
        ("2026-03-15T12:00:00", 4.0),
        ("2026-03-31T21:59:59", 8.0),  # March 31st, 23:59:59 in Paris (summer time)
        ("2026-03-31T22:00:00", 16.0),  # April in Paris
    ]:
        log_call(store, utc(when), cost)
    guard, _ = guard_at(store, utc("2026-03-20T12:00:00"))
    assert {s.budget.name: s.spent_usd for s in guard.standings()} == {"ever": 31.0, "march": 14.0}
    with store.write() as db:  # the daily sums follow every change to the log
        db.conn.execute("UPDATE calls SET cost_usd = 5.5 WHERE cost_usd = 4.0")
        db.conn.execute("DELETE FROM calls WHERE cost_usd = 2.0")
    assert {s.budget.name: s.spent_usd for s in guard.standings()} == {"ever": 30.5, "march": 13.5}
    daily = "SELECT day, model, profile, round(cost_usd, 9) FROM usage_daily WHERE cost_usd != 0"
    rollup = (
        "SELECT substr(bucket, 1, 10) AS day, model, profile, round(sum(cost_usd), 9) "
        "FROM usage_rollup GROUP BY day, model, profile HAVING sum(cost_usd) != 0"
    )
    with store.read() as db:
        assert sorted(db.execute(daily).fetchall()) == sorted(db.execute(rollup).fetchall())


def test_the_timezone_setting_is_checked_where_it_is_written(home: Path) -> None:
    write_config(home, 'log_level = "INFO"\ntimezone = "Mars/Olympus_Mons"\n')
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "config.toml:2: timezone" in str(error.value) and "Europe/Paris" in str(error.value)
    write_config(home, 'timezone = "Europe/Paris"\n')
    assert load_settings().timezone == "Europe/Paris"


# -- the hard stop, the override, free calls ----------------------------------------------------


def test_a_used_up_budget_refuses_a_paid_call_with_one_clear_line(store: Store) -> None:
    add_budget(store)
    log_call(store, NOON - timedelta(hours=1), 3.0)
    log_call(store, NOON - timedelta(minutes=5), 2.0)
    guard, _ = guard_at(store, NOON)
    with pytest.raises(BudgetExceeded) as refused:
        guard.reserve("openai", "gpt-4o-mini", 0.01)
    assert str(refused.value) == (
        "budget 'daily' reached: $5.00 of $5.00 today; use --over-budget to send this call anyway"
    )
    assert refused.value.exit_code == 1 and refused.value.budget == "daily"
    assert BudgetBook(store).outstanding("2026-03-11T11:00:00.000000Z") == 0  # nothing held


def test_a_call_that_would_take_a_budget_over_is_refused_too(store: Store) -> None:
    add_budget(store)
    log_call(store, NOON - timedelta(hours=1), 4.5)
    guard, _ = guard_at(store, NOON)
    with pytest.raises(BudgetExceeded) as refused:
        guard.reserve("openai", "gpt-4o-mini", 0.8)
    assert str(refused.value) == (
        "budget 'daily' would be exceeded: $4.50 of $5.00 today, and this call may cost $0.80; "
        "use --over-budget to send this call anyway"
    )
    guard.reserve("openai", "gpt-4o-mini", 0.5)  # exactly up to the limit: allowed
    with pytest.raises(BudgetExceeded) as refused:
        guard.reserve("openai", "gpt-4o-mini", 0.01)
    assert str(refused.value) == (
        "budget 'daily' reached: $5.00 of $5.00 today ($0.50 of it held by calls in flight); "
        "use --over-budget to send this call anyway"
    )


def test_the_override_sends_anyway_and_still_holds_the_cost(store: Store) -> None:
    add_budget(store)
    log_call(store, NOON - timedelta(hours=1), 5.0)
    guard, _ = guard_at(store, NOON)
    held = guard.reserve("openai", "gpt-4o-mini", 0.25, over_budget=True)
    assert held.id is not None
    [standing] = guard.standings()
    assert standing.reserved_usd == pytest.approx(0.25)
    guard.release(held)
    assert guard.standings()[0].reserved_usd == 0


def test_free_calls_pass_a_used_up_budget_and_unpriced_ones_do_not(store: Store) -> None:
    add_budget(store)
    log_call(store, NOON - timedelta(hours=1), 5.0)
    guard, _ = guard_at(store, NOON)
    free = guard.reserve("vllm", "llama-3.1-8b", 0)
    assert free.id is None and guard.settle(free, 0) == []
    with pytest.raises(BudgetExceeded):
        guard.reserve("openai", "mystery-model", None)  # no price: may cost money
    add_budget(store, limit=100.0)
    unpriced = guard.reserve("openai", "mystery-model", None)
    assert unpriced.id is None and guard.standings()[0].reserved_usd == 0


def test_scopes_cover_their_profile_or_model_pattern_only(store: Store) -> None:
    add_budget(store, "openai", limit=1.0, scope="profile:openai")
    add_budget(store, "minis", limit=1.0, scope="model:gpt-4o*")
    log_call(store, NOON - timedelta(hours=1), 1.0, profile="openai", model="gpt-4.1")
    log_call(store, NOON - timedelta(hours=1), 1.0, profile="azure", model="gpt-4o-mini")
    guard, _ = guard_at(store, NOON)
    spent = {s.budget.name: s.spent_usd for s in guard.standings()}
    assert spent == {"minis": 1.0, "openai": 1.0}
    with pytest.raises(BudgetExceeded, match="budget 'minis'"):
        guard.reserve("azure", "gpt-4o-mini-2024-07-18", 0.01)
    with pytest.raises(BudgetExceeded, match="budget 'openai'"):
        guard.reserve("openai", "gpt-4.1", 0.01)
    assert guard.reserve("azure", "gpt-4.1", 0.01).id is None  # no budget covers it


def test_reservations_hold_budget_until_settled_released_or_expired(store: Store) -> None:
    add_budget(store)
    guard, clock = guard_at(store, NOON)
    first = guard.reserve("openai", "gpt-4o-mini", 2.0)
    second = guard.reserve("openai", "gpt-4o-mini", 2.0)
    with pytest.raises(BudgetExceeded, match=r"\$4\.00 of it held by calls in flight"):
        guard.reserve("openai", "gpt-4o-mini", 2.0)
    guard.release(first)
    third = guard.reserve("openai", "gpt-4o-mini", 2.0)
    log_call(store, NOON, 1.5)  # the second call's real cost, logged before it settles
    guard.settle(second, 1.5)
    assert guard.standings()[0].committed_usd == pytest.approx(3.5)
    clock.now = NOON + timedelta(seconds=guard.hold_seconds + 1)  # third's process died
    assert guard.standings()[0].committed_usd == pytest.approx(1.5)
    guard.reserve("openai", "gpt-4o-mini", 3.5)
    assert third.id is not None


def test_bad_budget_input_names_the_option_and_the_rule() -> None:
    def problem(**options: object) -> str:
        arguments: dict[str, object] = {"name": "b", "limit_usd": 1.0, "period": "day"}
        with pytest.raises(BadInput) as error:
            new_budget(**{**arguments, **options}, now="x")  # type: ignore[arg-type]
        return str(error.value)

    assert problem(limit_usd=0.0) == "--limit 0: must be a number of USD greater than 0"
    assert problem(limit_usd=float("nan")).startswith("--limit nan")
    assert problem(period="year") == "--period 'year': use one of day, week, month, all"
    assert problem(scope="team:x") == "--scope 'team:x': use all, profile:NAME or model:PATTERN"
    assert "unknown profile 'x'" in problem(scope="profile:x", known_profiles=["demo"])
    assert problem(thresholds="50,abc").startswith("--thresholds '50,abc'")
    assert "at most 1000" in problem(thresholds="0,50")
    assert "not the URL" in problem(webhook_env="https://hooks.example.test/T/secret")
    assert problem(name="two words").startswith("budget name 'two words'")


# -- threshold alerts ---------------------------------------------------------------------------


def spend_and_settle(guard: BudgetGuard, store: Store, when: datetime, cost: float) -> list[str]:
    held = guard.reserve("openai", "gpt-4o-mini", cost, over_budget=True)
    log_call(store, when, cost)
    return [alert.message for alert in guard.settle(held, cost)]


def test_each_threshold_alerts_once_per_period(store: Store) -> None:
    add_budget(store, limit=1.0)
    guard, clock = guard_at(store, NOON)
    assert spend_and_settle(guard, store, NOON, 0.40) == []
    assert spend_and_settle(guard, store, NOON, 0.15) == [
        "budget 'daily' at 50%: $0.55 of $1.00 today"
    ]
    assert spend_and_settle(guard, store, NOON, 0.05) == []  # still 50%: no second alert
    assert spend_and_settle(guard, store, NOON, 0.45) == [
        "budget 'daily' at 80%: $1.05 of $1.00 today",
        "budget 'daily' at 100%: $1.05 of $1.00 today",
    ]
    assert spend_and_settle(guard, store, NOON, 1.00) == []
    tomorrow = NOON + timedelta(days=1)
    clock.now = tomorrow
    assert spend_and_settle(guard, store, tomorrow, 0.60) == [
        "budget 'daily' at 50%: $0.60 of $1.00 today"
    ]
    stored = AlertBook(store).recent()
    assert [(a.period, a.threshold) for a in reversed(stored)] == [
        ("day:2026-03-11", 50),
        ("day:2026-03-11", 80),
        ("day:2026-03-11", 100),
        ("day:2026-03-12", 50),
    ]
    assert {(a.kind, a.rule, a.scope, a.reference) for a in stored} == {
        ("budget", "daily", "all", 1.0)
    }


def test_thresholds_are_checked_by_any_process_even_for_unguarded_spending(store: Store) -> None:
    add_budget(store, limit=2.0, thresholds="25,75")
    log_call(store, NOON, 1.6)
    guard, _ = guard_at(store, NOON)
    assert [a.threshold for a in guard.check()] == [25, 75]
    assert guard.check() == []
    other = BudgetGuard(store, zone=PARIS, clock=Clock(NOON))
    assert other.check() == []


def test_a_notifier_gets_the_new_alerts_after_settling(store: Store) -> None:
    add_budget(store, limit=1.0)
    got: list[list[str]] = []
    guard = BudgetGuard(
        store, zone=PARIS, clock=Clock(NOON), notify=lambda a: got.append([x.message for x in a])
    )
    held = guard.reserve("openai", "gpt-4o-mini", 0.6)
    log_call(store, NOON, 0.6)
    guard.settle(held, 0.6)
    assert got == [["budget 'daily' at 50%: $0.60 of $1.00 today"]]
