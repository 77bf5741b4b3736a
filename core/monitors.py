"""Monitors over the request log: per model, the last 24 hours against the 7 days before.

Three figures are watched: the error rate (failed or cut calls per call), the p95 latency of
answered calls (cache hits left out) and the daily cost. A monitor breaches when the last
day's figure is at least its `floor` and above `factor` times the baseline (the same figure
over the previous 7 days; for cost, the average day). Without a baseline (a new model, or
fewer than `min_calls` calls) only a floor above 0 can breach. A breach raises one alert per
monitor, model and local day. With no monitor configured, `DEFAULT_MONITORS` run.

`watch_once` is what `tunedeck monitor` runs (monitors, budget thresholds, webhooks); the
console can run it in a thread worker every few minutes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from core.alerts import WebhookSender
from core.budgets.guard import BudgetGuard
from core.budgets.periods import local_date
from core.budgets.rules import check_name, check_webhook_env, usd
from core.clock import Clock, iso, utc_now
from core.errors import BadInput
from storage.alerts import AlertBook, AlertRow, DeliveryAttempt, NewAlert
from storage.budgets import Standing
from storage.monitors import ModelTotals, MonitorBook, MonitorRow
from storage.store import Store

METRICS = ("error_rate", "p95_latency", "daily_cost")
"""What a monitor can watch."""

DEFAULT_MONITORS = (
    MonitorRow("error-rate", "error_rate", "*", factor=2.0, floor=0.05, min_calls=20),
    MonitorRow("p95-latency", "p95_latency", "*", factor=1.5, floor=0.0, min_calls=20),
    MonitorRow("daily-cost", "daily_cost", "*", factor=2.0, floor=1.0, min_calls=1),
)
"""Run when none is configured: error rate doubled (and at least 5%), p95 latency up by
half, daily cost doubled (and at least $1); each needs 20 calls in a day (cost: 1)."""

RECENT = timedelta(days=1)
BASELINE_DAYS = 7
_BUCKET = timedelta(minutes=15)
_LABELS = {"error_rate": "error rate", "p95_latency": "p95 latency", "daily_cost": "daily cost"}


@dataclass(frozen=True)
class MonitorResult:
    """One monitor on one model."""

    rule: MonitorRow
    model: str
    calls: int
    """Calls of the model in the last 24 hours."""
    figure: float | None
    """The last 24 hours' figure; None with fewer than `min_calls` calls."""
    baseline: float | None
    """The same figure over the 7 days before; None without enough history."""
    breached: bool
    alert: AlertRow | None = None
    """The alert raised by this run (None when there is no breach or it was raised today)."""


def new_monitor(
    *,
    name: str,
    metric: str,
    model: str = "*",
    factor: float,
    floor: float = 0.0,
    min_calls: int = 20,
    webhook_env: str | None = None,
    now: str,
) -> MonitorRow:
    """A monitor from the user's input, every part checked.

    Raises:
        BadInput: one line naming the option and the rule.
    """
    if metric not in METRICS:
        raise BadInput(f"--metric '{metric}': use one of {', '.join(METRICS)}")
    if not math.isfinite(factor) or factor <= 0:
        raise BadInput(f"--factor {factor:g}: must be a number greater than 0")
    if not math.isfinite(floor) or floor < 0:
        raise BadInput(f"--floor {floor:g}: must be 0 or more")
    if min_calls < 1:
        raise BadInput(f"--min-calls {min_calls}: must be at least 1")
    if not model.strip():
        raise BadInput("--model: give a model name or pattern (like gpt-4o*)")
    return MonitorRow(
        name=check_name(name, "monitor"),
        metric=metric,
        model_glob=model.strip(),
        factor=factor,
        floor=floor,
        min_calls=min_calls,
        webhook_env=check_webhook_env(webhook_env),
        created_at=now,
        updated_at=now,
    )


def active_monitors(store: Store) -> list[MonitorRow]:
    """The configured monitors, or `DEFAULT_MONITORS` when there are none."""
    return MonitorBook(store).all() or list(DEFAULT_MONITORS)


def run_monitors(
    store: Store,
    *,
    zone: tzinfo | None = None,
    clock: Clock = utc_now,
    notify: Callable[[list[AlertRow]], object] | None = None,
) -> list[MonitorResult]:
    """Measure every active monitor on every model it watches, and raise an alert for each
    new breach (once per monitor, model and local day); `notify` gets the new alerts."""
    now = clock()
    book = MonitorBook(store)
    results = [result for rule in active_monitors(store) for result in _measure(book, rule, now)]
    alerts = [_alert(result, now, zone) for result in results if result.breached]
    raised = {(a.rule, a.scope): a for a in AlertBook(store).raise_new(alerts)}
    results = [_with_alert(result, raised) for result in results]
    if raised and notify is not None:
        notify(list(raised.values()))
    return results


@dataclass(frozen=True)
class WatchReport:
    """What one `watch_once` found."""

    monitors: list[MonitorResult]
    raised: list[AlertRow]
    """Alerts raised by this run (budget thresholds first, then monitor breaches)."""
    used_up: list[Standing]
    """Budgets whose logged spending has reached their limit in their current period."""
    failed_deliveries: list[DeliveryAttempt]
    """The last attempt of each alert whose webhook failed in this run."""

    @property
    def breached(self) -> bool:
        """A monitor breaches or a budget is used up (`tunedeck monitor` exits 1)."""
        return bool(self.used_up) or any(result.breached for result in self.monitors)


def watch_once(
    store: Store,
    *,
    zone: tzinfo | None = None,
    clock: Clock = utc_now,
    environ: Mapping[str, str] | None = None,
) -> WatchReport:
    """Check every budget's thresholds, run every monitor, then post the alerts not yet
    delivered to their webhooks (this run's and earlier failures)."""
    guard = BudgetGuard(store, zone=zone, clock=clock)
    raised = guard.check()
    used_up = [s for s in guard.standings() if s.spent_usd + 1e-9 >= s.budget.limit_usd]
    results = run_monitors(store, zone=zone, clock=clock)
    raised += [result.alert for result in results if result.alert is not None]
    attempts = WebhookSender(store, environ=environ, clock=clock).deliver_pending()
    last = {attempt.alert_id: attempt for attempt in attempts}
    failed = [attempt for attempt in last.values() if attempt.outcome == "failed"]
    return WatchReport(results, raised, used_up, failed)


def _measure(book: MonitorBook, rule: MonitorRow, now: datetime) -> list[MonitorResult]:
    recent = (iso(now - RECENT), iso(now + _BUCKET))  # to the end of the current quarter hour
    baseline = (iso(now - RECENT - timedelta(days=BASELINE_DAYS)), recent[0])
    last_day = book.totals(*recent, rule.model_glob)
    history = {row.model: row for row in book.totals(*baseline, rule.model_glob)}
    results = []
    for row in last_day:
        before = history.get(row.model)
        if rule.metric == "p95_latency":
            figure = _p95(book, rule, row.model, recent)
            reference = _p95(book, rule, row.model, baseline)
        else:
            figure = _figure(rule, row, 1)
            reference = _figure(rule, before, BASELINE_DAYS) if before else None
        breached = _breached(rule, figure, reference)
        results.append(MonitorResult(rule, row.model, row.calls, figure, reference, breached))
    return results


def _figure(rule: MonitorRow, totals: ModelTotals, days: int) -> float | None:
    if totals.calls < rule.min_calls:
        return None
    if rule.metric == "error_rate":
        return totals.errors / totals.calls
    return totals.cost_usd / days


def _p95(book: MonitorBook, rule: MonitorRow, model: str, span: tuple[str, str]) -> float | None:
    count, value = book.p95_latency(model, *span)
    return value if count >= rule.min_calls else None


def _breached(rule: MonitorRow, figure: float | None, baseline: float | None) -> bool:
    if figure is None or figure < rule.floor:
        return False
    if baseline is None:
        return rule.floor > 0
    return figure > rule.factor * baseline


def describe(rule: MonitorRow, value: float | None) -> str:
    """A monitor's figure for people: `12.5%`, `1,234 ms`, `$3.20`, or `-`."""
    if value is None:
        return "-"
    if rule.metric == "error_rate":
        return f"{value:.1%}"
    if rule.metric == "p95_latency":
        return f"{value:,.0f} ms"
    return usd(value)


def _alert(result: MonitorResult, now: datetime, zone: tzinfo | None) -> NewAlert:
    rule = result.rule
    against = (
        f"vs {describe(rule, result.baseline)} over the {BASELINE_DAYS} days before"
        if result.baseline is not None
        else "with no history to compare"
    )
    message = (
        f"monitor '{rule.name}' on {result.model}: {_LABELS[rule.metric]} "
        f"{describe(rule, result.figure)} in the last 24 h {against} "
        f"(breach above {rule.factor:g}x and at least {describe(rule, rule.floor)})"
    )
    return NewAlert(
        created_at=iso(now),
        kind="monitor",
        rule=rule.name,
        scope=result.model,
        period=f"day:{local_date(now, zone).isoformat()}",
        threshold=rule.factor,
        figure=result.figure or 0.0,
        reference=result.baseline,
        message=message,
        webhook_env=rule.webhook_env,
    )


def _with_alert(result: MonitorResult, raised: dict[tuple[str, str], AlertRow]) -> MonitorResult:
    alert = raised.get((result.rule.name, result.model))
    if alert is None:
        return result
    return MonitorResult(
        result.rule, result.model, result.calls, result.figure, result.baseline, True, alert
    )
