"""Budgets and the reservations of paid calls in flight (tables of migration m007).

Spending is read from `usage_rollup` (UTC quarter-hour sums kept by triggers on `calls`), so a
budget check costs the same with 1,000 or 1,000,000 logged calls; a local day, week or month
starts on a quarter hour in every time zone, so its spending is a whole number of buckets.
A budget's scope is matched in SQL: `all`, a profile by name, or a model by GLOB pattern.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

    from storage.store import Store


@dataclass(frozen=True)
class BudgetRow:
    """A budget as stored: a spending limit on a scope of calls for a period."""

    name: str
    scope_kind: str
    """`all`, `profile` or `model`."""
    scope_value: str
    """The profile name, or a model pattern (`*`, `?`, `[abc]`); empty for `all`."""
    period: str
    """`day`, `week`, `month` or `all`."""
    limit_usd: float
    thresholds: tuple[float, ...]
    """Percentages of the limit at which an alert is raised, ascending."""
    webhook_env: str | None = None
    """NAME of the environment variable holding the alert webhook's URL."""
    created_at: str = ""
    updated_at: str = ""

    @property
    def scope(self) -> str:
        """The scope as the user writes it: `all`, `profile:NAME` or `model:PATTERN`."""
        return "all" if self.scope_kind == "all" else f"{self.scope_kind}:{self.scope_value}"


@dataclass(frozen=True)
class Window:
    """A budget period as UTC ISO times: [since, until); None is unbounded."""

    key: str
    """Names the period for alerts: `day:2026-03-09`, `week:2026-03-09`, `month:2026-03`."""
    since: str | None
    until: str | None


@dataclass(frozen=True)
class Standing:
    """How much of a budget is used in its current period."""

    budget: BudgetRow
    window: Window
    spent_usd: float
    """Cost logged by calls started in the period."""
    reserved_usd: float
    """Estimated cost of paid calls in flight (reserved and not yet settled or expired)."""

    @property
    def committed_usd(self) -> float:
        """Spent plus reserved."""
        return self.spent_usd + self.reserved_usd


@dataclass(frozen=True)
class Hold:
    """A reservation to write: the estimated cost of one call about to be sent."""

    profile: str
    model: str
    amount_usd: float
    created_at: str
    expires_at: str


Windows = Mapping[str, Window]
"""The current window of each period (`day`, `week`, `month`, `all`)."""

_MATCHES = """(scope_kind = 'all' OR (scope_kind = 'profile' AND scope_value = ?)
    OR (scope_kind = 'model' AND ? GLOB scope_value))"""


class BudgetBook:
    """Reads and writes budgets and reservations."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def put(self, budget: BudgetRow) -> None:
        """Create or replace the budget of that name (its creation time is kept)."""
        row = _budget_values(budget)
        columns = ", ".join(row)
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c not in ("name", "created_at"))
        sql = (
            f"INSERT INTO budgets ({columns}) VALUES ({', '.join('?' * len(row))}) "
            f"ON CONFLICT (name) DO UPDATE SET {updates}"
        )
        with self._store.write() as db:
            db.conn.execute(sql, list(row.values()))

    def delete(self, name: str) -> bool:
        """Remove a budget; False when there was none of that name."""
        with self._store.write() as db:
            return db.conn.execute("DELETE FROM budgets WHERE name = ?", [name]).rowcount > 0

    def get(self, name: str) -> BudgetRow | None:
        """One budget by name, or None."""
        with self._store.read() as db:
            rows = list(db.query("SELECT * FROM budgets WHERE name = ?", [name]))
        return _budget(rows[0]) if rows else None

    def all(self) -> list[BudgetRow]:
        """Every budget, by name."""
        with self._store.read() as db:
            return [_budget(row) for row in db.query("SELECT * FROM budgets ORDER BY name")]

    def standings(
        self, windows: Windows, now: str, profile: str | None = None, model: str | None = None
    ) -> list[Standing]:
        """Every budget (or those whose scope covers `profile` and `model`) with its use."""
        with self._store.read() as db:
            return _standings(db, windows, now, profile, model)

    def reserve(
        self, hold: Hold, windows: Windows, decide: Callable[[list[Standing]], None]
    ) -> int | None:
        """Atomically check and hold budget for one call; the reservation's id, or None when
        nothing was held (no budget covers the call, or the amount is 0).

        In one `BEGIN IMMEDIATE` transaction: expired reservations are dropped, the budgets
        covering the call are measured, `decide` sees them (it raises to refuse, which rolls
        everything back), and the hold is written. Concurrent reservers, in this process or
        another, wait for each other, so each sees the holds of all calls already admitted.
        """
        if not self._covered(hold.profile, hold.model):
            return None  # most calls, when no budget is set: no write lock taken
        with self._store.write() as db:
            expired = "DELETE FROM budget_reservations WHERE expires_at <= ?"
            db.conn.execute(expired, [hold.created_at])
            standings = _standings(db, windows, hold.created_at, hold.profile, hold.model)
            decide(standings)
            if not standings or hold.amount_usd <= 0:
                return None
            cursor = db.conn.execute(
                "INSERT INTO budget_reservations (created_at, expires_at, profile, model, "
                "amount_usd) VALUES (?, ?, ?, ?, ?)",
                [hold.created_at, hold.expires_at, hold.profile, hold.model, hold.amount_usd],
            )
            return int(cursor.lastrowid or 0)

    def covers(self, profile: str, model: str) -> bool:
        """Whether a budget's scope covers calls of `profile` to `model` (one indexed read)."""
        return self._covered(profile, model)

    def _covered(self, profile: str, model: str) -> bool:
        with self._store.read() as db:
            sql = f"SELECT 1 FROM budgets WHERE {_MATCHES} LIMIT 1"
            return db.execute(sql, [profile, model]).fetchone() is not None

    def release(self, reservation_id: int) -> None:
        """Drop a reservation (its call is logged with its real cost, or failed)."""
        with self._store.write() as db:
            db.conn.execute("DELETE FROM budget_reservations WHERE id = ?", [reservation_id])

    def typical_output(self, model: str, calls: int = 200) -> int | None:
        """The 95th percentile (nearest rank) of the completion tokens of `model`'s last
        `calls` answered calls that were not cache hits; None without any."""
        sql = """SELECT completion_tokens FROM calls WHERE model = ? AND status = 'ok'
            AND cache_hit = 0 AND completion_tokens IS NOT NULL ORDER BY id DESC LIMIT ?"""
        with self._store.read() as db:
            found = sorted(row[0] for row in db.execute(sql, [model, calls]).fetchall())
        return found[-(-len(found) * 95 // 100) - 1] if found else None

    def outstanding(self, now: str) -> int:
        """Number of unexpired reservations."""
        with self._store.read() as db:
            sql = "SELECT count(*) FROM budget_reservations WHERE expires_at > ?"
            return int(db.execute(sql, [now]).fetchone()[0])


def bucket_of(moment: str) -> str:
    """The rollup bucket (UTC quarter hour `YYYY-MM-DDTHH:MM`) holding an ISO UTC time."""
    minute = int(moment[14:16]) // 15 * 15
    return f"{moment[:14]}{minute:02d}"


def _standings(
    db: sqlite_utils.Database,
    windows: Windows,
    now: str,
    profile: str | None,
    model: str | None,
) -> list[Standing]:
    if profile is None or model is None:
        rows = db.query("SELECT * FROM budgets ORDER BY name")
    else:
        rows = db.query(f"SELECT * FROM budgets WHERE {_MATCHES} ORDER BY name", [profile, model])
    budgets = [_budget(row) for row in rows]
    return [_standing(db, budget, windows[budget.period], now) for budget in budgets]


def _standing(db: sqlite_utils.Database, budget: BudgetRow, window: Window, now: str) -> Standing:
    scope, scope_args = _scope_sql(budget)
    spent = sum(
        db.execute(
            f"SELECT coalesce(sum(cost_usd), 0) FROM {table} WHERE {scope} {bounds}",
            [*scope_args, *bound_args],
        ).fetchone()[0]
        for table, bounds, bound_args in _spending_parts(window)
    )
    held_since = "AND created_at >= ?" if window.since else ""
    reserved = db.execute(
        "SELECT coalesce(sum(amount_usd), 0) FROM budget_reservations "
        f"WHERE {scope} AND expires_at > ? {held_since}",
        [*scope_args, now, *([window.since] if window.since else [])],
    ).fetchone()[0]
    return Standing(budget, window, float(spent), float(reserved))


def _spending_parts(window: Window) -> list[tuple[str, str, list[str]]]:
    """Where a window's spending is summed: whole UTC days from `usage_daily`, the quarter
    hours before the first and after the last whole day from `usage_rollup`."""
    if window.since is None or window.until is None:  # all time
        return [("usage_daily", "", [])]
    first, until = bucket_of(window.since), bucket_of(window.until)
    first_day = first[:10] if first.endswith("T00:00") else _next_day(first[:10])
    last_day = until[:10]  # whole days end where the window's last (partial) day starts
    if first_day >= last_day:
        return [("usage_rollup", "AND bucket >= ? AND bucket < ?", [first, until])]
    return [
        ("usage_rollup", "AND bucket >= ? AND bucket < ?", [first, f"{first_day}T00:00"]),
        ("usage_daily", "AND day >= ? AND day < ?", [first_day, last_day]),
        ("usage_rollup", "AND bucket >= ? AND bucket < ?", [f"{last_day}T00:00", until]),
    ]


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _scope_sql(budget: BudgetRow) -> tuple[str, list[Any]]:
    if budget.scope_kind == "profile":
        return "profile = ?", [budget.scope_value]
    if budget.scope_kind == "model":
        return "model GLOB ?", [budget.scope_value]
    return "1", []


def _budget_values(budget: BudgetRow) -> dict[str, Any]:
    return {
        "name": budget.name,
        "scope_kind": budget.scope_kind,
        "scope_value": budget.scope_value,
        "period": budget.period,
        "limit_usd": budget.limit_usd,
        "thresholds_json": json.dumps(list(budget.thresholds)),
        "webhook_env": budget.webhook_env,
        "created_at": budget.created_at,
        "updated_at": budget.updated_at,
    }


def _budget(row: Mapping[str, Any]) -> BudgetRow:
    return BudgetRow(
        name=row["name"],
        scope_kind=row["scope_kind"],
        scope_value=row["scope_value"],
        period=row["period"],
        limit_usd=float(row["limit_usd"]),
        thresholds=tuple(float(t) for t in json.loads(row["thresholds_json"])),
        webhook_env=row["webhook_env"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
