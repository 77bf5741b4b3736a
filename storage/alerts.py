"""Alerts raised by budgets and monitors, and each attempt to deliver one to a webhook."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.store import Store

DELIVERY_STATES = ("none", "pending", "delivered", "failed")
"""`none`: no webhook; `pending`: not tried yet; then `delivered` or `failed`."""


@dataclass(frozen=True)
class NewAlert:
    """An alert to raise; it is stored once per kind, rule, scope, period and threshold."""

    created_at: str
    kind: str
    """`budget` or `monitor`."""
    rule: str
    """The budget's or the monitor's name."""
    scope: str
    """The budget's scope (`all`, `profile:NAME`, `model:PATTERN`) or the monitored model."""
    period: str
    """The period it is for: `day:2026-03-09`, `week:2026-03-09`, `month:2026-03`, `all`."""
    threshold: float
    """A budget's threshold in percent, or a monitor's factor over its baseline."""
    figure: float
    """What crossed it: USD spent, an error rate, a latency in ms or a daily cost."""
    reference: float | None
    """The budget's limit, or the monitor's baseline (None without history)."""
    message: str
    webhook_env: str | None = None
    """NAME of the environment variable holding the webhook URL, when there is one."""


@dataclass(frozen=True)
class AlertRow(NewAlert):
    """A stored alert."""

    id: int = 0
    delivery: str = "none"


@dataclass(frozen=True)
class DeliveryAttempt:
    """One try at posting an alert to its webhook."""

    alert_id: int
    attempt: int
    at: str
    outcome: str
    """`delivered` or `failed`."""
    http_status: int | None
    error: str | None
    """Why it failed, with the webhook's URL masked."""
    duration_ms: float


class AlertBook:
    """Writes and reads `alerts` and `alert_deliveries`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def raise_new(self, alerts: list[NewAlert]) -> list[AlertRow]:
        """Store each alert unless the same one exists (same kind, rule, scope, period and
        threshold: a UNIQUE constraint); return the ones that were new."""
        if not alerts:
            return []
        raised = []
        with self._store.write() as db:
            for alert in alerts:
                row = {**_values(alert), "delivery": "pending" if alert.webhook_env else "none"}
                sql = (
                    f"INSERT OR IGNORE INTO alerts ({', '.join(row)}) "
                    f"VALUES ({', '.join('?' * len(row))})"
                )
                cursor = db.conn.execute(sql, list(row.values()))
                if cursor.rowcount:
                    raised.append(_alert({**row, "id": cursor.lastrowid}))
        return raised

    def get(self, alert_id: int) -> AlertRow | None:
        """One alert by id, or None."""
        with self._store.read() as db:
            rows = list(db.query("SELECT * FROM alerts WHERE id = ?", [alert_id]))
        return _alert(rows[0]) if rows else None

    def recent(self, limit: int = 50, since: str | None = None) -> list[AlertRow]:
        """Alerts newest first, raised at or after `since` when given."""
        where = "WHERE created_at >= ?" if since else ""
        sql = f"SELECT * FROM alerts {where} ORDER BY id DESC LIMIT ?"
        with self._store.read() as db:
            rows = db.query(sql, [*([since] if since else []), limit])
            return [_alert(row) for row in rows]

    def undelivered(self, max_attempts: int) -> list[AlertRow]:
        """Alerts whose webhook has not taken them yet, tried fewer than `max_attempts` times."""
        sql = """SELECT alerts.* FROM alerts WHERE delivery IN ('pending', 'failed')
            AND (SELECT count(*) FROM alert_deliveries WHERE alert_id = alerts.id) < ?
            ORDER BY id"""
        with self._store.read() as db:
            return [_alert(row) for row in db.query(sql, [max_attempts])]

    def record(self, attempt: DeliveryAttempt) -> None:
        """Keep one delivery attempt and set the alert's delivery state from its outcome."""
        with self._store.write() as db:
            db.conn.execute(
                "INSERT INTO alert_deliveries (alert_id, attempt, at, outcome, http_status, "
                "error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    attempt.alert_id,
                    attempt.attempt,
                    attempt.at,
                    attempt.outcome,
                    attempt.http_status,
                    attempt.error,
                    attempt.duration_ms,
                ],
            )
            db.conn.execute(
                "UPDATE alerts SET delivery = ? WHERE id = ?", [attempt.outcome, attempt.alert_id]
            )

    def attempts(self, alert_id: int) -> list[DeliveryAttempt]:
        """Every delivery attempt of one alert, oldest first."""
        sql = "SELECT * FROM alert_deliveries WHERE alert_id = ? ORDER BY id"
        with self._store.read() as db:
            return [_attempt(row) for row in db.query(sql, [alert_id])]

    def attempt_count(self, alert_id: int) -> int:
        """How many times delivery of one alert was tried."""
        sql = "SELECT count(*) FROM alert_deliveries WHERE alert_id = ?"
        with self._store.read() as db:
            return int(db.execute(sql, [alert_id]).fetchone()[0])


def _values(alert: NewAlert) -> dict[str, Any]:
    return {
        "created_at": alert.created_at,
        "kind": alert.kind,
        "rule": alert.rule,
        "scope": alert.scope,
        "period": alert.period,
        "threshold": alert.threshold,
        "figure": alert.figure,
        "reference": alert.reference,
        "message": alert.message,
        "webhook_env": alert.webhook_env,
    }


def _alert(row: Mapping[str, Any]) -> AlertRow:
    return AlertRow(
        id=row["id"],
        created_at=row["created_at"],
        kind=row["kind"],
        rule=row["rule"],
        scope=row["scope"],
        period=row["period"],
        threshold=float(row["threshold"]),
        figure=float(row["figure"]),
        reference=None if row["reference"] is None else float(row["reference"]),
        message=row["message"],
        webhook_env=row["webhook_env"],
        delivery=row["delivery"],
    )


def _attempt(row: Mapping[str, Any]) -> DeliveryAttempt:
    return DeliveryAttempt(
        alert_id=row["alert_id"],
        attempt=row["attempt"],
        at=row["at"],
        outcome=row["outcome"],
        http_status=row["http_status"],
        error=row["error"],
        duration_ms=float(row["duration_ms"] or 0.0),
    )
