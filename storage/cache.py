"""The response cache table: lookups, inserts, eviction and statistics."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from storage.records import CacheEntry, CacheStats

if TYPE_CHECKING:
    from storage.store import Store


_KEYS_PER_QUERY = 500


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """A live entry's answer (`CacheEntry.response`) and what it cost when it was asked."""

    response: dict[str, Any]
    cost_usd: float | None


class ResponseCache:
    """Reads and writes `cache_entries`. Times are UTC ISO strings, compared as text."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def lookup(self, key: str, now: str) -> CacheEntry | None:
        """The live entry for `key` (counting the hit), or None when absent or expired.

        A miss only reads; a hit adds one UPDATE, so lookups never wait on the write lock
        unless they hit.
        """
        with self._store.read() as db:
            rows = list(
                db.query(
                    "SELECT * FROM cache_entries WHERE key = ?"
                    " AND (expires_at IS NULL OR expires_at > ?)",
                    [key, now],
                )
            )
        if not rows:
            return None
        with self._store.write() as db:
            db.conn.execute(
                "UPDATE cache_entries SET hits = hits + 1, last_hit_at = ? WHERE key = ?",
                [now, key],
            )
        return _entry(rows[0])

    def live_keys(self, keys: Sequence[str], now: str) -> set[str]:
        """Which of `keys` have a live entry, in a query per 500 keys. Reads only."""
        return {key for (key,) in self._live_rows("key", keys, now)}

    def live_responses(self, keys: Sequence[str], now: str) -> dict[str, CachedResponse]:
        """The answers of the live entries among `keys`, by key, in a query per 500 keys,
        without the rest of each entry (its key's components, the largest part). Reads only:
        the caller counts the hits it uses (`count_hits`)."""
        rows = self._live_rows("key, response_json, cost_usd", keys, now)
        return {key: CachedResponse(json.loads(text), cost) for key, text, cost in rows}

    def _live_rows(self, columns: str, keys: Sequence[str], now: str) -> list[tuple[Any, ...]]:
        """`columns` of the live entries among `keys` (each key once), a query per 500."""
        unique = list(dict.fromkeys(keys))
        rows: list[tuple[Any, ...]] = []
        with self._store.read() as db:
            for first in range(0, len(unique), _KEYS_PER_QUERY):
                chunk = unique[first : first + _KEYS_PER_QUERY]
                sql = (
                    f"SELECT {columns} FROM cache_entries"
                    f" WHERE key IN ({', '.join('?' * len(chunk))})"
                    " AND (expires_at IS NULL OR expires_at > ?)"
                )
                rows.extend(db.conn.execute(sql, [*chunk, now]).fetchall())
        return rows

    def put(self, entry: CacheEntry) -> None:
        """Store (or replace) an entry."""
        with self._store.write() as db:
            put_entry(db.conn, entry)

    def get(self, key_prefix: str) -> CacheEntry | None:
        """The entry whose key starts with `key_prefix` (at least 6 characters), if unique."""
        rows = self._by_prefix(key_prefix)
        return _entry(rows[0]) if len(rows) == 1 else None

    def matches(self, key_prefix: str) -> int:
        """How many keys start with `key_prefix`."""
        return len(self._by_prefix(key_prefix))

    def browse(
        self,
        limit: int = 100,
        *,
        after: tuple[str, str] | None = None,
        before: tuple[str, str] | None = None,
        search: str = "",
    ) -> list[CacheEntry]:
        """One page of entries in listing order (newest first, then by key), keyset-paged.

        The listing order is `created_at DESC, key ASC`; a position in it is the pair
        `(created_at, key)` of an entry. Entries created at the same instant are never
        skipped (as they would be by paging on `created_at` alone), and paging works in both
        directions, so a view can hold a window of a few pages and slide it either way without
        OFFSET.

        Args:
            limit: The most entries to return.
            after: Return the entries that follow this position (older ones).
            before: Return the entries that precede this position (newer ones), still in
                listing order; ignored when `after` is given.
            search: Keep entries whose model or prompt excerpt contains this text (literally:
                `%` and `_` are not wildcards).

        Returns:
            At most `limit` entries, newest first.
        """
        clauses, args = [], []
        # The range on created_at comes first so that SQLite walks its index instead of sorting.
        if after is not None:
            clauses.append("created_at <= ? AND (created_at < ? OR key > ?)")
            args += [after[0], after[0], after[1]]
        elif before is not None:
            clauses.append("created_at >= ? AND (created_at > ? OR key < ?)")
            args += [before[0], before[0], before[1]]
        if search:
            pattern = "%" + _like_escape(search) + "%"
            clauses.append("(model LIKE ? ESCAPE '\\' OR prompt_excerpt LIKE ? ESCAPE '\\')")
            args += [pattern, pattern]
        where = "WHERE " + " AND ".join(clauses) if clauses else ""
        backwards = after is None and before is not None
        order = "created_at ASC, key DESC" if backwards else "created_at DESC, key ASC"
        sql = f"SELECT * FROM cache_entries {where} ORDER BY {order} LIMIT ?"
        with self._store.read() as db:
            entries = [_entry(row) for row in db.query(sql, [*args, limit])]
        return entries[::-1] if backwards else entries

    def delete(self, key_prefix: str) -> int:
        """Delete the one entry whose key starts with `key_prefix`; returns 1 or 0."""
        rows = self._by_prefix(key_prefix)
        if len(rows) != 1:
            return 0
        with self._store.write() as db:
            db.conn.execute("DELETE FROM cache_entries WHERE key = ?", [rows[0]["key"]])
        return 1

    def clear(self, expired_before: str | None = None) -> int:
        """Delete every entry, or only those expired at `expired_before`; returns the count."""
        with self._store.write() as db:
            if expired_before is None:
                cursor = db.conn.execute("DELETE FROM cache_entries")
            else:
                cursor = db.conn.execute(
                    "DELETE FROM cache_entries WHERE expires_at <= ?", [expired_before]
                )
            return cursor.rowcount

    def stats(self, now: str) -> CacheStats:
        """Entries, bytes and expired entries of the cache; lookups, hits and savings of the log.

        The log's figures are all-time sums of `usage_rollup` (kept by triggers, migration
        m004), not of every call: they cost the same with 1,000 or 1,000,000 logged calls.
        """
        with self._store.read() as db:
            entries, size, expired = db.execute(
                "SELECT count(*), coalesce(sum(size_bytes), 0),"
                " coalesce(sum(expires_at <= ?), 0) FROM cache_entries",
                [now],
            ).fetchone()
            lookups, hits, tokens, saved = db.execute(
                "SELECT coalesce(sum(lookups), 0), coalesce(sum(cache_hits), 0),"
                " coalesce(sum(tokens_saved), 0), coalesce(sum(cost_saved_usd), 0)"
                " FROM usage_rollup"
            ).fetchone()
        return CacheStats(
            entries=entries,
            size_bytes=size,
            expired=expired,
            lookups=lookups,
            hits=hits,
            tokens_saved=tokens,
            cost_saved_usd=saved,
        )

    def _by_prefix(self, key_prefix: str) -> list[dict[str, Any]]:
        if len(key_prefix) < 6:
            return []
        upper = key_prefix + "\uffff"
        with self._store.read() as db:
            return list(
                db.query(
                    "SELECT * FROM cache_entries WHERE key >= ? AND key < ? LIMIT 2",
                    [key_prefix, upper],
                )
            )


def put_entry(conn: sqlite3.Connection, entry: CacheEntry) -> None:
    """Store (or replace) an entry, inside the caller's write transaction."""
    # Not asdict: it deep-copies the answer and the key's components, only for them to be
    # serialised (it showed in a profile of an evaluation run, once per answer).
    row = {item.name: getattr(entry, item.name) for item in fields(entry)}
    row["components_json"] = json.dumps(row.pop("components"), ensure_ascii=False)
    row["response_json"] = json.dumps(row.pop("response"), ensure_ascii=False)
    columns = ", ".join(row)
    conn.execute(
        f"INSERT OR REPLACE INTO cache_entries ({columns}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )


def count_hits(conn: sqlite3.Connection, hits: Iterable[tuple[str, str]]) -> None:
    """Count one hit per (key, time) pair, as `lookup` does, inside the caller's write
    transaction."""
    conn.executemany(
        "UPDATE cache_entries SET hits = hits + 1, last_hit_at = ? WHERE key = ?",
        [(now, key) for key, now in hits],
    )


def _like_escape(text: str) -> str:
    """`text` with LIKE's wildcards (and the escape character) matched literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _entry(row: dict[str, Any]) -> CacheEntry:
    return CacheEntry(
        key=row["key"],
        endpoint=row["endpoint"],
        model=row["model"],
        components=json.loads(row["components_json"]),
        response=json.loads(row["response_json"]),
        prompt_excerpt=row["prompt_excerpt"] or "",
        prompt_tokens=row["prompt_tokens"] or 0,
        completion_tokens=row["completion_tokens"] or 0,
        cost_usd=row["cost_usd"],
        size_bytes=row["size_bytes"] or 0,
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_hit_at=row["last_hit_at"],
        hits=row["hits"] or 0,
        source_call_id=row["source_call_id"],
    )
