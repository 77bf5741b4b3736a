"""Monitors over the request log: the last 24 hours per model against the 7 days before,
one alert per monitor, model and day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.errors import BadInput
from core.monitors import MonitorResult, new_monitor, run_monitors
from storage.alerts import AlertBook
from storage.monitors import MonitorBook
from storage.store import Store
from tests.support.spend import Clock, log_call

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "monitors.db")
    yield opened
    opened.close()


def calls(
    store: Store, model: str, count: int, *, days_ago: float, errors: int = 0, **kw: float
) -> None:
    """`count` calls of `model` spread over the hour ending `days_ago` days before NOW."""
    end = NOW - timedelta(days=days_ago)
    for n in range(count):
        status = "error" if n < errors else "ok"
        log_call(
            store,
            end - timedelta(seconds=n + 1),
            kw.get("cost", 0.0),
            model=model,
            status=status,
            latency_ms=kw.get("latency", 500.0),
        )


def history(
    store: Store, model: str, per_day: int, errors_per_day: int = 0, cost: float = 0.0
) -> None:
    for day in range(2, 9):  # inside the 7 days before the last 24 hours
        calls(store, model, per_day, days_ago=day - 0.5, errors=errors_per_day, cost=cost)


def run(store: Store, now: datetime = NOW) -> dict[tuple[str, str], MonitorResult]:
    results = run_monitors(store, zone=PARIS, clock=Clock(now))
    return {(r.rule.name, r.model): r for r in results}


def test_an_error_rate_above_twice_its_baseline_raises_one_alert_a_day(store: Store) -> None:
    history(store, "gpt-4o-mini", per_day=10, errors_per_day=0)
    calls(store, "gpt-4o-mini", 1, days_ago=3, errors=1)  # 1 failure in 71 calls: 1.4%
    calls(store, "gpt-4o-mini", 30, days_ago=0.2, errors=6)  # 20% in the last day
    calls(store, "gpt-4.1", 30, days_ago=0.2, errors=1)  # 3.3%: under the 5% floor
    calls(store, "brand-new", 25, days_ago=0.1, errors=10)  # 40%, no history: the floor decides
    calls(store, "rare", 5, days_ago=0.1, errors=5)  # too few calls to measure
    first = run(store)
    mini = first[("error-rate", "gpt-4o-mini")]
    assert (mini.calls, mini.figure, mini.breached) == (30, 0.2, True)
    assert mini.baseline == pytest.approx(1 / 71)
    assert mini.alert is not None and mini.alert.message == (
        "monitor 'error-rate' on gpt-4o-mini: error rate 20.0% in the last 24 h vs 1.4% over "
        "the 7 days before (breach above 2x and at least 5.0%)"
    )
    assert mini.alert.period == "day:2026-03-11" and mini.alert.threshold == 2
    assert not first[("error-rate", "gpt-4.1")].breached
    assert first[("error-rate", "brand-new")].breached
    assert "with no history to compare" in first[("error-rate", "brand-new")].alert.message  # type: ignore[union-attr]
    assert first[("error-rate", "rare")].figure is None
    second = run(store, NOW + timedelta(hours=1))
    assert second[("error-rate", "gpt-4o-mini")].breached
    assert second[("error-rate", "gpt-4o-mini")].alert is None  # already raised today
    calls(store, "gpt-4o-mini", 30, days_ago=-0.9, errors=12)
    tomorrow = run(store, NOW + timedelta(days=1))
    assert tomorrow[("error-rate", "gpt-4o-mini")].alert is not None
    monitor_alerts = [a for a in AlertBook(store).recent() if a.rule == "error-rate"]
    assert sorted((a.scope, a.period) for a in monitor_alerts) == [
        ("brand-new", "day:2026-03-11"),
        ("gpt-4o-mini", "day:2026-03-11"),
        ("gpt-4o-mini", "day:2026-03-12"),
    ]


def test_p95_latency_is_the_nearest_rank_of_answered_calls_only(store: Store) -> None:
    for ms in range(1, 101):
        log_call(store, NOW - timedelta(days=3, seconds=ms), 0.0, latency_ms=float(ms))
        log_call(store, NOW - timedelta(hours=2, seconds=ms), 0.0, latency_ms=float(ms))
    log_call(store, NOW - timedelta(hours=1), 0.0, latency_ms=90_000.0, status="error")
    log_call(store, NOW - timedelta(hours=1), 0.0, latency_ms=80_000.0, cache_hit=True)
    steady = run(store)[("p95-latency", "gpt-4o-mini")]
    assert (steady.figure, steady.baseline, steady.breached) == (95.0, 95.0, False)
    for ms in range(1, 101):  # the last day gets slow: 200 calls, p95 = 190th = 190 ms
        log_call(store, NOW - timedelta(hours=3, seconds=ms), 0.0, latency_ms=float(ms + 100))
    slow = run(store)[("p95-latency", "gpt-4o-mini")]
    assert (slow.figure, slow.baseline, slow.breached) == (190.0, 95.0, True)
    assert (
        slow.alert is not None
        and "p95 latency 190 ms in the last 24 h vs 95 ms" in slow.alert.message
    )


def test_daily_cost_against_the_average_day_of_the_week_before(store: Store) -> None:
    history(store, "gpt-4o-mini", per_day=4, cost=0.25)  # $1.00 a day
    calls(store, "gpt-4o-mini", 6, days_ago=0.5, cost=0.25)  # $1.50: under 2x
    calm = run(store)[("daily-cost", "gpt-4o-mini")]
    assert (calm.figure, calm.baseline, calm.breached) == (1.5, 1.0, False)
    calls(store, "gpt-4o-mini", 3, days_ago=0.4, cost=0.25)  # $2.25: over 2x and $1
    spike = run(store)[("daily-cost", "gpt-4o-mini")]
    assert (spike.figure, spike.breached) == (2.25, True)
    assert (
        spike.alert is not None
        and "daily cost $2.25 in the last 24 h vs $1.00" in spike.alert.message
    )


def test_configured_monitors_replace_the_defaults_and_watch_their_models(store: Store) -> None:
    rule = new_monitor(
        name="minis",
        metric="error_rate",
        model="gpt-4o*",
        factor=3,
        floor=0.1,
        min_calls=5,
        now="x",
    )
    MonitorBook(store).put(rule)
    calls(store, "gpt-4o-mini", 10, days_ago=0.1, errors=5)
    calls(store, "gpt-4.1", 10, days_ago=0.1, errors=5)
    results = run(store)
    assert (
        list(results) == [("minis", "gpt-4o-mini")] and results[("minis", "gpt-4o-mini")].breached
    )
    assert MonitorBook(store).delete("minis") and not MonitorBook(store).delete("minis")
    assert {name for name, _ in run(store)} == {"error-rate", "p95-latency", "daily-cost"}


def test_bad_monitor_input_names_the_option() -> None:
    def problem(**options: object) -> str:
        arguments: dict[str, object] = {"name": "m", "metric": "error_rate", "factor": 2.0}
        with pytest.raises(BadInput) as error:
            new_monitor(**{**arguments, **options}, now="x")  # type: ignore[arg-type]
        return str(error.value)

    assert (
        problem(metric="uptime")
        == "--metric 'uptime': use one of error_rate, p95_latency, daily_cost"
    )
    assert problem(factor=0.0) == "--factor 0: must be a number greater than 0"
    assert problem(floor=-1.0) == "--floor -1: must be 0 or more"
    assert problem(min_calls=0) == "--min-calls 0: must be at least 1"
    assert problem(webhook_env="http://x/y").startswith("--webhook-env: must be the NAME")
