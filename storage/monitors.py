"""Monitor rules and the figures they watch in the request log, per model and time window.

Call, error and cost counts come from `usage_rollup` (UTC quarter-hour buckets); the p95
latency needs the calls themselves, read through the `(model, started_at)` index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storage.budgets import bucket_of

if TYPE_CHECKING:
    from storage.store import Store


@dataclass(frozen=True)
class MonitorRow:
    """A monitor as stored: a figure per model compared with its trailing baseline."""

    name: str
    metric: str
    """`error_rate`, `p95_latency` or `daily_cost`."""
    model_glob: str
    """Which models it watches (GLOB pattern)."""
    factor: float
    """Breach when the last day's figure is above `factor` times the baseline..."""
    floor: float
    """...and at least this much (a rate 0-1, milliseconds, or USD)."""
    min_calls: int
    """Fewer calls than this in a window: no figure for that window."""
    webhook_env: str | None = None
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class ModelTotals:
    """Calls, failures and cost of one model in a window."""

    model: str
    calls: int
    errors: int
    cost_usd: float


class MonitorBook:
    """Reads and writes `monitor_rules`, and measures the log for them."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def put(self, rule: MonitorRow) -> None:
        """Create or replace the monitor of that name (its creation time is kept)."""
        row = _values(rule)
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c not in ("name", "created_at"))
        sql = (
            f"INSERT INTO monitor_rules ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) "
            f"ON CONFLICT (name) DO UPDATE SET {updates}"
        )
        with self._store.write() as db:
            db.conn.execute(sql, list(row.values()))

    def delete(self, name: str) -> bool:
        """Remove a monitor; False when there was none of that name."""
        with self._store.write() as db:
            sql = "DELETE FROM monitor_rules WHERE name = ?"
            return db.conn.execute(sql, [name]).rowcount > 0

    def all(self) -> list[MonitorRow]:
        """Every configured monitor, by name."""
        with self._store.read() as db:
            rows = db.query("SELECT * FROM monitor_rules ORDER BY name")
            return [_rule(row) for row in rows]

    def totals(self, since: str, until: str, model_glob: str = "*") -> list[ModelTotals]:
        """Per model matching `model_glob`, calls started in [since, until) (UTC ISO times,
        taken to their quarter hour)."""
        sql = """SELECT model, sum(calls), sum(errors), sum(cost_usd) FROM usage_rollup
            WHERE bucket >= ? AND bucket < ? AND model GLOB ? GROUP BY model
            HAVING sum(calls) > 0 ORDER BY model"""
        args = [bucket_of(since), bucket_of(until), model_glob]
        with self._store.read() as db:
            rows = db.execute(sql, args).fetchall()
        return [ModelTotals(m, int(c), int(e or 0), float(usd or 0)) for m, c, e, usd in rows]

    def p95_latency(self, model: str, since: str, until: str) -> tuple[int, float | None]:
        """How many answered calls (not cache hits) `model` had in [since, until), and the
        95th percentile of their latency in ms (nearest rank; None without calls)."""
        where = """WHERE model = ? AND started_at >= ? AND started_at < ? AND status = 'ok'
            AND cache_hit = 0 AND latency_ms IS NOT NULL"""
        args = [model, bucket_of(since), bucket_of(until)]
        with self._store.read() as db:
            count = int(db.execute(f"SELECT count(*) FROM calls {where}", args).fetchone()[0])
            if count == 0:
                return 0, None
            rank = -(-count * 95 // 100)  # ceil(0.95 n): the nearest-rank percentile
            sql = f"SELECT latency_ms FROM calls {where} ORDER BY latency_ms LIMIT 1 OFFSET ?"
            value = db.execute(sql, [*args, rank - 1]).fetchone()[0]
        return count, float(value)


def _values(rule: MonitorRow) -> dict[str, Any]:
    return {
        "name": rule.name,
        "metric": rule.metric,
        "model_glob": rule.model_glob,
        "factor": rule.factor,
        "floor": rule.floor,
        "min_calls": rule.min_calls,
        "webhook_env": rule.webhook_env,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


def _rule(row: Mapping[str, Any]) -> MonitorRow:
    return MonitorRow(
        name=row["name"],
        metric=row["metric"],
        model_glob=row["model_glob"],
        factor=float(row["factor"]),
        floor=float(row["floor"]),
        min_calls=int(row["min_calls"]),
        webhook_env=row["webhook_env"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
