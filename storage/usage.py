"""What the Usage pane reads: totals per period, breakdowns, a daily series and log pages.

Totals come from `usage_rollup` (quarter-hour sums per model and profile, kept by triggers on
`calls`, migration m003), so they cost the same with 1,000 or 1,000,000 logged calls. Periods are
the user's local days: "today" starts at local midnight, "7 days" at local midnight six days
earlier. Pages of the log are keyset-paged by id, searched through `calls_fts` first when
there are search words (newest matches first, without collecting every match); the last word
typed also matches as a prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from storage.calls import filtered_calls, fts_query
from storage.migrations import usage_amounts
from storage.records import CallFilter, UsageRow

if TYPE_CHECKING:
    from storage.store import Store

PERIODS = (("today", 1), ("7 days", 7), ("30 days", 30))
"""The totals the pane shows: a label and a number of local days ending today."""

BREAKDOWNS = ("model", "profile", "day")
"""What the totals can be broken down by."""

_SUMS = """sum(calls) AS calls, sum(errors) AS errors, sum(prompt_tokens) AS prompt_tokens,
    sum(completion_tokens) AS completion_tokens, sum(cost_usd) AS cost_usd,
    sum(unpriced) AS unpriced, sum(cache_hits) AS cache_hits,
    sum(cost_saved_usd) AS cost_saved_usd"""

DAILY_SQL = f"""SELECT date(bucket, 'localtime') AS grp, {_SUMS}
    FROM usage_rollup WHERE bucket >= ? AND bucket < ? GROUP BY grp"""
"""Sums per local day between two quarter-hour buckets (the totals and the chart read it)."""

_SUMMARY_GROUPS = {
    None: "'all'",
    "model": "model",
    "profile": "profile",
    "day": "date({moment}, 'localtime')",
}
"""What `summary` groups by: everything, a column, or the local day of a moment."""

_GROUP_SQL = """SELECT {column} AS grp, {sums} FROM usage_rollup
    WHERE bucket >= ? AND bucket < ? GROUP BY grp HAVING sum(calls) > 0
    ORDER BY cost_usd DESC, calls DESC, grp"""

_LOG_COLUMNS = """calls.id, calls.started_at, calls.profile, calls.model, calls.status,
    calls.cache_hit, calls.prompt_tokens, calls.completion_tokens, calls.cost_usd,
    calls.latency_ms, calls.error_type,
    CASE WHEN json_valid(calls.messages_json)
        THEN substr(coalesce(json_extract(calls.messages_json, '$[#-1].content'), ''), 1, ?)
        ELSE '' END AS excerpt"""

EXCERPT_CHARS = 200
"""How much of a call's last message a log row carries."""


@dataclass(frozen=True)
class LogRow:
    """One line of the request log as the pane lists it (the whole call: `CallLog.get`)."""

    id: int
    started_at: str
    profile: str
    model: str
    status: str
    cache_hit: bool
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_ms: float | None
    error_type: str | None
    excerpt: str
    """The start of the call's last message (untrusted text: show it inert)."""


class UsageQueries:
    """Aggregate and paged reads of the request log for the Usage pane."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def daily(self, now: datetime, days: int = 30) -> list[UsageRow]:
        """One row per local day (group `YYYY-MM-DD`), oldest first, ending with today;
        days without calls are rows of zeros."""
        first = local_today(now) - timedelta(days=days - 1)
        found = {row.group: row for row in self._rows(DAILY_SQL, *_bounds(now, days))}
        series = (first + timedelta(days=n) for n in range(days))
        return [found.get(day.isoformat()) or empty_row(day.isoformat()) for day in series]

    def totals(self, now: datetime) -> list[UsageRow]:
        """Totals for each of `PERIODS` (groups `today`, `7 days`, `30 days`), from one query."""
        return totals_of(self.daily(now, max(n for _, n in PERIODS)))

    def breakdown(self, by: str, now: datetime, days: int = 30) -> list[UsageRow]:
        """Totals of the last `days` local days per model or profile (costliest first), or per
        day (newest first, days with calls only).

        Raises:
            ValueError: `by` is not one of `BREAKDOWNS`.
        """
        if by not in BREAKDOWNS:
            raise ValueError(f"cannot break usage down by {by!r}")
        if by == "day":
            return [row for row in reversed(self.daily(now, days)) if row.calls]
        sql = _GROUP_SQL.format(column=by, sums=_SUMS)
        return self._rows(sql, *_bounds(now, days))

    def summary(self, by: str | None, since: str | None = None) -> list[UsageRow]:
        """Totals per model, profile or local day (ordered by group), or one row (`all`) for
        everything, of the calls started at or after `since` (UTC ISO), or of the whole log.

        Whole quarter hours come from the rollup; only the calls of the quarter hour holding
        `since` are read one by one (at most 15 minutes of the log).

        Raises:
            ValueError: `by` is neither None nor one of `BREAKDOWNS`.
        """
        if by not in _SUMMARY_GROUPS:
            raise ValueError(f"cannot break usage down by {by!r}")
        found: dict[str, list[UsageRow]] = {}
        with self._store.read() as db:
            for sql, args in _summary_parts(_SUMMARY_GROUPS[by], since):
                for row in db.query(sql, args):
                    found.setdefault(str(row["grp"]), []).append(_usage_row(row))
        totals = (add_rows(group, rows) for group, rows in sorted(found.items()))
        return [row for row in totals if row.calls]

    def log_page(self, query: CallFilter, *, newer_than: int | None = None) -> list[LogRow]:
        """Up to `query.limit` calls, newest first, older than `query.before_id` if set.

        With `newer_than`, the `query.limit` calls just newer than that id instead (still
        newest first): the page above a window of the log, for paging back up.
        """
        sql, args = log_page_sql(query, newer_than)
        with self._store.read() as db:
            rows = db.execute(sql, args).fetchall()
        found = [_log_row(row) for row in rows]
        return found[::-1] if newer_than is not None else found

    def models(self, limit: int = 50) -> list[str]:
        """Models of the log, the most recently called first."""
        return self._store.calls.recent_models(limit)

    def _rows(self, sql: str, since: str, until: str) -> list[UsageRow]:
        with self._store.read() as db:
            rows = list(db.query(sql, [since, until]))
        return [_usage_row(row) for row in rows]


def log_page_sql(query: CallFilter, newer_than: int | None = None) -> tuple[str, list[Any]]:
    """The SQL and arguments of one page of the log (public so tests can EXPLAIN it); with
    `newer_than`, the calls just above that id, oldest first (see `filtered_calls`)."""
    words = search_words(query.search or "")
    source, key, where, args = filtered_calls(query, words, newer_than)
    order = "ASC" if newer_than is not None else "DESC"
    sql = f"SELECT {_LOG_COLUMNS} FROM {source} {where} ORDER BY {key} {order} LIMIT ?"
    return sql, [EXCERPT_CHARS, *args, query.limit]


def totals_of(days: list[UsageRow]) -> list[UsageRow]:
    """Totals for each of `PERIODS` from a daily series ending today (as `daily` returns)."""
    return [add_rows(label, days[-n:]) for label, n in PERIODS]


PREFIX_CHARS = 3
"""A last search word this long also matches longer words (search as you type): shorter
prefixes expand to too many terms (a one-letter prefix takes ~0.2 s at 1M calls)."""


def search_words(text: str) -> str:
    """An FTS5 query for `text`: every word required, the last one also as a prefix."""
    words = fts_query(text)
    last = words.rsplit(" ", 1)[-1]
    return f"{words}*" if len(last) - 2 >= PREFIX_CHARS else words


def local_today(now: datetime) -> date:
    """The user's local date at `now`."""
    return now.astimezone().date()


def local_midnight(day: date) -> str:
    """The UTC ISO time at which local `day` starts."""
    return datetime.combine(day, time()).astimezone().astimezone(UTC).isoformat()


def bucket_of(moment: str) -> str:
    """The rollup bucket (UTC quarter hour `YYYY-MM-DDTHH:MM`) holding an ISO UTC time."""
    minute = int(moment[14:16]) // 15 * 15
    return f"{moment[:14]}{minute:02d}"


def _as_moment(since: str) -> str:
    """A UTC ISO time or a bare date (its midnight UTC) as `YYYY-MM-DDTHH:MM...` text."""
    return since if len(since) >= 16 else f"{since[:10]}T00:00"


def _next_bucket(bucket: str) -> str:
    """The rollup bucket after `bucket` (a quarter hour later)."""
    return (datetime.fromisoformat(bucket) + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M")


def _summary_parts(group: str, since: str | None) -> list[tuple[str, list[str]]]:
    """The queries (SQL, arguments) whose rows add up to `summary`'s totals."""
    rollup = f"SELECT {group.format(moment='bucket')} AS grp, {_SUMS} FROM usage_rollup"
    if since is None:
        return [(f"{rollup} GROUP BY grp", [])]
    first = bucket_of(_as_moment(since))
    return [
        (f"{rollup} WHERE bucket > ? GROUP BY grp", [first]),
        (_calls_between_sql(group), [since, _next_bucket(first)]),
    ]


def _calls_between_sql(group: str) -> str:
    """Sums of the calls started in `[?, ?)`, as the rollup's columns, grouped like it."""
    sums = ", ".join(
        f"sum({amount}) AS {column}" for column, amount in usage_amounts("calls").items()
    )
    return (
        f"SELECT {group.format(moment='started_at')} AS grp, {sums} FROM calls"
        " WHERE started_at >= ? AND started_at < ? GROUP BY grp"
    )


def _bounds(now: datetime, days: int) -> tuple[str, str]:
    """First and after-last rollup bucket of the `days` local days ending today."""
    today = local_today(now)
    first = today - timedelta(days=days - 1)
    return bucket_of(local_midnight(first)), bucket_of(local_midnight(today + timedelta(1)))


def empty_row(group: str) -> UsageRow:
    """A row of zeros."""
    return UsageRow(group, 0, 0, 0, 0, 0.0, 0, 0, 0.0)


def add_rows(group: str, rows: list[UsageRow]) -> UsageRow:
    """The sum of `rows`, named `group`."""
    total = empty_row(group)
    for row in rows:
        total = replace(
            total,
            calls=total.calls + row.calls,
            errors=total.errors + row.errors,
            prompt_tokens=total.prompt_tokens + row.prompt_tokens,
            completion_tokens=total.completion_tokens + row.completion_tokens,
            cost_usd=total.cost_usd + row.cost_usd,
            unpriced_calls=total.unpriced_calls + row.unpriced_calls,
            cache_hits=total.cache_hits + row.cache_hits,
            cost_saved_usd=total.cost_saved_usd + row.cost_saved_usd,
        )
    return total


def _usage_row(row: dict[str, Any]) -> UsageRow:
    return UsageRow(
        group=str(row["grp"]),
        calls=int(row["calls"] or 0),
        errors=int(row["errors"] or 0),
        prompt_tokens=int(row["prompt_tokens"] or 0),
        completion_tokens=int(row["completion_tokens"] or 0),
        cost_usd=float(row["cost_usd"] or 0.0),
        unpriced_calls=int(row["unpriced"] or 0),
        cache_hits=int(row["cache_hits"] or 0),
        cost_saved_usd=float(row["cost_saved_usd"] or 0.0),
    )


def _log_row(row: tuple[Any, ...]) -> LogRow:
    (call_id, started, profile, model, status, hit, tokens_in, tokens_out) = row[:8]
    cost, latency, error_type, excerpt = row[8:]
    return LogRow(
        id=call_id,
        started_at=started,
        profile=profile,
        model=model,
        status=status,
        cache_hit=bool(hit),
        prompt_tokens=tokens_in,
        completion_tokens=tokens_out,
        cost_usd=cost,
        latency_ms=latency,
        error_type=error_type,
        excerpt=str(excerpt or ""),
    )
