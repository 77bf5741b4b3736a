"""The request log: every call to a model, written before it is sent and completed after."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from storage.cache import count_hits, put_entry
from storage.eval_rows import process_alive
from storage.records import (
    CacheEntry,
    CallFilter,
    CallOutcome,
    CallRecord,
    CallStart,
    Usage,
    UsageRow,
)

if TYPE_CHECKING:
    from storage.store import Store

_FTS_SPECIALS = str.maketrans({c: " " for c in "\"'*^:()-+{}[]"})


ORPHANED_MESSAGE = "its process ended before the answer came (killed, or the machine stopped)"
"""The error message of a call `CallLog.cancel_orphaned` closed."""


class CallLog:
    """Writes and reads the `calls` table."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def start(self, call: CallStart) -> int:
        """Log a call about to be sent (status `pending`) and return its id."""
        with self._store.write() as db:
            return insert_start(db.conn, call)

    def save_partial(self, call_id: int, text: str) -> None:
        """Keep the text streamed so far, so a crash mid-stream leaves it in the log."""
        with self._store.write() as db:
            db.conn.execute(
                "UPDATE calls SET response_text = ?, incomplete = 1 WHERE id = ?", [text, call_id]
            )

    def finish(self, call_id: int, outcome: CallOutcome) -> None:
        """Record how the call ended."""
        with self._store.write() as db:
            write_outcome(db.conn, call_id, outcome)

    def cancel_orphaned(self, at: str, pid_alive: Callable[[int], bool] = process_alive) -> int:
        """Close the calls left `pending` by a process that is gone (killed, or the machine
        stopped before their answers came): `cancelled`, as a call stopped before its answer
        is, with the error type `interrupted`, at `at`. Returns how many.

        Their cost stays unknown (a provider may have billed a request whose answer was
        lost). Calls of this process, of a live one, or logged without a pid (before m013)
        are left alone. The check reads this machine's processes: a call logged by another
        machine sharing the file would look orphaned.
        """
        with self._store.read() as db:
            pids = [
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT pid FROM calls WHERE status = 'pending' AND pid IS NOT NULL"
                ).fetchall()
            ]
        gone = [pid for pid in pids if pid != os.getpid() and not pid_alive(pid)]
        if not gone:
            return 0
        marks = ", ".join("?" for _ in gone)
        with self._store.write() as db:
            cursor = db.conn.execute(
                "UPDATE calls SET status = 'cancelled', finished_at = ?,"
                " error_type = 'interrupted', error_message = ?"
                f" WHERE status = 'pending' AND pid IN ({marks})",
                [at, ORPHANED_MESSAGE, *gone],
            )
            return cursor.rowcount

    def get(self, call_id: int) -> CallRecord | None:
        """One call by id, or None."""
        with self._store.read() as db:
            rows = list(db.query("SELECT * FROM calls WHERE id = ?", [call_id]))
        return _record(rows[0]) if rows else None

    def find(self, query: CallFilter) -> list[CallRecord]:
        """Calls newest first, paged by id (`before_id`), filtered as asked."""
        sql, args = find_sql(query)
        with self._store.read() as db:
            rows = list(db.query(sql, args))
        return [_record(row) for row in rows]

    def usage(self, by: str | None, since: str | None = None) -> list[UsageRow]:
        """Totals per model, profile or day (local time), or one row for everything.

        Tokens count what was sent to a model: cache hits add to `cache_hits` and savings.
        Summed from the usage rollup (see `UsageQueries.summary`), not call by call.

        Args:
            by: `model`, `profile`, `day` or None for a single total.
            since: only calls started at or after this UTC ISO time.
        """
        from storage.usage import UsageQueries  # it imports this module

        return UsageQueries(self._store).summary(by, since)

    def recent_models(self, limit: int = 50) -> list[str]:
        """Models of the last 5,000 calls, most recent first, without repeats."""
        sql = (
            "SELECT model FROM (SELECT id, model FROM calls ORDER BY id DESC LIMIT 5000)"
            " GROUP BY model ORDER BY max(id) DESC LIMIT ?"
        )
        with self._store.read() as db:
            return [row[0] for row in db.execute(sql, [limit]).fetchall()]

    def recent_prompts(self, limit: int = 200) -> list[str]:
        """The last user message of recent calls, newest first, without repeats."""
        sql = "SELECT messages_json FROM calls ORDER BY id DESC LIMIT ?"
        with self._store.read() as db:
            rows = db.execute(sql, [limit * 3]).fetchall()
        prompts: list[str] = []
        for (messages_json,) in rows:
            text = _last_user_text(json.loads(messages_json or "[]"))
            if text and text not in prompts:
                prompts.append(text)
        return prompts[:limit]

    def cache_hit_rate(self, since: str) -> float | None:
        """Hits per cache-eligible call started since `since` (None before the first).

        A range on `started_at`: cheap for a day (`cache.stats` gives the all-time figure).
        """
        sql = (
            "SELECT coalesce(sum(cache_eligible), 0), coalesce(sum(cache_hit), 0)"
            " FROM calls WHERE started_at >= ?"
        )
        with self._store.read() as db:
            lookups, hits = db.execute(sql, [since]).fetchone()
        return hits / lookups if lookups else None

    def count(self) -> int:
        """Number of calls in the log."""
        with self._store.read() as db:
            return int(db.execute("SELECT count(*) FROM calls").fetchone()[0])


def insert_start(conn: sqlite3.Connection, call: CallStart) -> int:
    """`CallLog.start`, inside the caller's write transaction: returns the row's id."""
    row = _start_row(call)
    cursor = conn.execute(
        f"INSERT INTO calls ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    return int(cursor.lastrowid or 0)


def insert_finished(conn: sqlite3.Connection, call: CallStart, outcome: CallOutcome) -> int:
    """A call's finished row at once (a lone cache hit), inside the caller's write
    transaction: the row `insert_start` then `write_outcome` leave. Returns its id."""
    row = {**_start_row(call), **_outcome_row(outcome)}
    cursor = conn.execute(
        f"INSERT INTO calls ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    return int(cursor.lastrowid or 0)


def write_outcome(
    conn: sqlite3.Connection,
    call_id: int,
    outcome: CallOutcome,
    cache_entry: CacheEntry | None = None,
) -> None:
    """`CallLog.finish`, inside the caller's write transaction."""
    values = _outcome_row(outcome)
    assignments = ", ".join(f"{column} = ?" for column in values)
    conn.execute(f"UPDATE calls SET {assignments} WHERE id = ?", [*values.values(), call_id])
    if cache_entry is not None:
        put_entry(conn, cache_entry)


class HitCall(NamedTuple):
    """One call of a `HitBatch`: what its row does not share with the others (a tuple:
    thousands are made at once)."""

    messages: list[dict[str, Any]]
    request_key: str
    response_text: str
    response_model: str | None
    finish_reason: str | None
    tool_calls: list[dict[str, Any]] | None
    usage: Usage
    cost_saved_usd: float | None


@dataclass(frozen=True)
class HitBatch:
    """Calls answered from the cache at once, with the same profile, model and parameters
    and not streamed: their rows are the rows `CallLog.start` then `CallLog.finish` leave for
    such a cache hit (status `ok`, cost 0, its cache entry's savings)."""

    at: str
    """When they were answered: their start and end, and their entries' `last_hit_at`."""
    profile: str
    endpoint: str
    model: str
    params: dict[str, Any]
    latency_ms: float
    calls: Sequence[HitCall]


_HIT_COLUMNS = (
    "id, started_at, finished_at, profile, endpoint, model, stream, params_json,"
    " cache_eligible, status, incomplete, cost_usd, cache_hit, retries, latency_ms, pid,"
    " messages_json, prompt_text, request_key, response_text, response_model, finish_reason,"
    " tool_calls_json, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens,"
    " usage_estimated, cost_saved_usd"
)
"""A hit's row: the columns its batch shares (`id` aside), then its own (`_hit_values`)."""
_INSERT_HIT = (
    f"INSERT INTO calls ({_HIT_COLUMNS}) VALUES ({', '.join('?' for _ in _HIT_COLUMNS.split(','))})"
)
_LOG_JSON = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(..., ensure_ascii=False)


def insert_hit_batch(conn: sqlite3.Connection, batch: HitBatch) -> list[int]:
    """Log a batch of calls answered from the cache, inside the caller's write transaction:
    a finished row each (one statement for all; the usage rollup's triggers sum each one, and
    the full-text index leaves hits out, m008) and their cache entries' hits. Returns the
    rows' ids, in order.

    The ids are given, from the largest one up, as SQLite would give them: the caller's
    transaction holds the write lock, so no other row can take one meanwhile.
    """
    first = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM calls").fetchone()[0])
    shared = (
        batch.at,
        batch.at,
        batch.profile,
        batch.endpoint,
        batch.model,
        0,  # not streamed
        _LOG_JSON(batch.params),
        1,  # only cache-eligible calls are answered from the cache
        "ok",
        0,
        0.0,  # a hit costs nothing
        1,
        0,
        batch.latency_ms,
        os.getpid(),
    )
    rows = [(first + index, *shared, *_hit_values(call)) for index, call in enumerate(batch.calls)]
    conn.executemany(_INSERT_HIT, rows)
    count_hits(conn, [(call.request_key, batch.at) for call in batch.calls])
    return list(range(first, first + len(rows)))


def _hit_values(call: HitCall) -> tuple[Any, ...]:
    """The values of a hit's row that are its own, in `_HIT_COLUMNS` order."""
    usage = call.usage
    return (
        _LOG_JSON(call.messages),
        _prompt_text(call.messages),
        call.request_key,
        call.response_text,
        call.response_model,
        call.finish_reason,
        json.dumps(call.tool_calls) if call.tool_calls else None,
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.cached_tokens,
        usage.reasoning_tokens,
        int(usage.estimated),
        call.cost_saved_usd,
    )


def fts_query(text: str) -> str:
    """A user's search words as an FTS5 query matching all of them (no syntax errors)."""
    words = text.translate(_FTS_SPECIALS).split()
    return " ".join(f'"{word}"' for word in words)


def find_sql(query: CallFilter) -> tuple[str, list[Any]]:
    """The SQL and arguments of `CallLog.find` (public so tests can EXPLAIN it)."""
    source, key, where, args = filtered_calls(query, fts_query(query.search or ""))
    sql = f"SELECT calls.* FROM {source} {where} ORDER BY {key} DESC LIMIT ?"
    return sql, [*args, query.limit]


def filtered_calls(
    query: CallFilter, words: str, newer_than: int | None = None
) -> tuple[str, str, str, list[Any]]:
    """The FROM, the key to order by, the WHERE and its arguments of the calls that `query`
    (its search as the FTS5 query `words`) keeps, older than `query.before_id`, newer than
    `newer_than`.

    With search words the full-text index drives the query in id order, so a page stops at
    its end; `calls.id IN (SELECT rowid ...)` would first collect every match (~0.1-0.6 s at
    1M calls). The errors-only clause is `idx_calls_failed`'s WHERE, so it uses that index.
    """
    source, key = "calls", "calls.id"
    clauses: list[str] = []
    args: list[Any] = []
    if words:
        source, key = "calls_fts JOIN calls ON calls.id = calls_fts.rowid", "calls_fts.rowid"
        clauses.append("calls_fts MATCH ?")
        args.append(words)
    for clause, value in (
        ("calls.model = ?", query.model),
        ("calls.started_at >= ?", query.since),
        (f"{key} < ?", query.before_id),
        (f"{key} > ?", newer_than),
    ):
        if value is not None and value != "":
            clauses.append(clause)
            args.append(value)
    if query.errors_only:
        clauses.append("calls.status IN ('error', 'incomplete')")
    return source, key, f"WHERE {' AND '.join(clauses)}" if clauses else "", args


def _start_row(call: CallStart) -> dict[str, Any]:
    return {
        "started_at": call.started_at,
        "profile": call.profile,
        "endpoint": call.endpoint,
        "model": call.model,
        "stream": int(call.stream),
        "params_json": json.dumps(call.params, ensure_ascii=False),
        "messages_json": json.dumps(call.messages, ensure_ascii=False),
        "prompt_text": _prompt_text(call.messages),
        "request_key": call.request_key,
        "cache_eligible": int(call.cache_eligible),
        "status": "pending",
        "pid": os.getpid(),
    }


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return str(message["content"])
    return ""


def _prompt_text(messages: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "\n".join(parts)


def _outcome_row(outcome: CallOutcome) -> dict[str, Any]:
    usage = outcome.usage
    return {
        "finished_at": outcome.finished_at,
        "status": outcome.status,
        "response_text": outcome.response_text,
        "response_model": outcome.response_model,
        "finish_reason": outcome.finish_reason,
        "tool_calls_json": json.dumps(outcome.tool_calls) if outcome.tool_calls else None,
        "incomplete": int(
            outcome.status == "incomplete"
            or (bool(outcome.response_text or outcome.tool_calls) and outcome.status == "cancelled")
        ),
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "usage_estimated": int(usage.estimated),
        "cost_usd": outcome.cost_usd,
        "cost_saved_usd": outcome.cost_saved_usd,
        "ttft_ms": outcome.ttft_ms,
        "latency_ms": outcome.latency_ms,
        "cache_hit": int(outcome.cache_hit),
        "retries": outcome.retries,
        "error_type": outcome.error_type,
        "error_message": outcome.error_message,
    }


def _record(row: dict[str, Any]) -> CallRecord:
    start = CallStart(
        started_at=row["started_at"],
        profile=row["profile"],
        endpoint=row["endpoint"],
        model=row["model"],
        stream=bool(row["stream"]),
        params=json.loads(row["params_json"] or "{}"),
        messages=json.loads(row["messages_json"] or "[]"),
        request_key=row["request_key"] or "",
        cache_eligible=bool(row["cache_eligible"]),
    )
    return CallRecord(id=row["id"], start=start, status=row["status"], outcome=_outcome(row))


def _outcome(row: dict[str, Any]) -> CallOutcome:
    usage = Usage(
        prompt_tokens=row["prompt_tokens"] or 0,
        completion_tokens=row["completion_tokens"] or 0,
        cached_tokens=row["cached_tokens"] or 0,
        reasoning_tokens=row["reasoning_tokens"] or 0,
        estimated=bool(row["usage_estimated"]),
    )
    return CallOutcome(
        finished_at=row["finished_at"] or "",
        status=row["status"],
        response_text=row["response_text"] or "",
        response_model=row["response_model"],
        finish_reason=row["finish_reason"],
        tool_calls=json.loads(row["tool_calls_json"]) if row["tool_calls_json"] else None,
        usage=usage,
        cost_usd=row["cost_usd"],
        cost_saved_usd=row["cost_saved_usd"],
        ttft_ms=row["ttft_ms"],
        latency_ms=row["latency_ms"],
        cache_hit=bool(row["cache_hit"]),
        retries=row["retries"] or 0,
        error_type=row["error_type"],
        error_message=row["error_message"],
    )
