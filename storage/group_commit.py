"""Writes of many asyncio tasks committed together: one transaction per turn of the loop.

An evaluation run has dozens of calls in flight, and each one writes its log row before it is
sent and its outcome (with its cache entry) when its answer is in. Committed one by one, every
write rewrites the same pages of the log, its indexes and the full-text index into the WAL
(~0.5 ms a call, on the event loop). Here a task's write waits, instead, for the end of the
loop's current turn: every write asked for in that turn (the tasks woken by the same answers)
is made in one `BEGIN IMMEDIATE` transaction, each in a savepoint of its own, so that one that
fails is undone alone and raises in its own task. A task awaits its write's commit: what it
reads back or tells the user next is in the database, as with a write of its own.

The busier the loop, the more writes a turn gathers; alone, a write is committed at the end of
the turn it was asked in, at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from storage.store import Store

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], Any]


class GroupCommit:
    """Commits the writes its callers ask for in one turn of their event loop together."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._waiting: dict[asyncio.AbstractEventLoop, list[tuple[Work, asyncio.Future[Any]]]] = {}

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` in the turn's transaction and return its result once
        committed. If the caller is cancelled before the turn ends, `work` is not run."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        waiting = self._waiting.get(loop)
        if waiting is None:
            waiting = self._waiting[loop] = []
            loop.call_soon(self._commit, loop)
        waiting.append((work, future))
        return await future

    def _commit(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = [item for item in self._waiting.pop(loop, []) if not item[1].cancelled()]
        if not batch:
            return
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            with self._store.write() as db:
                for work, future in batch:
                    outcomes.append((future, *_in_savepoint(db.conn, work)))
        except Exception as error:  # BEGIN or COMMIT failed: nothing of the batch is in
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for future, value, failure in outcomes:
            if future.done():
                continue
            if failure is None:
                future.set_result(value)
            else:
                future.set_exception(failure)


def _in_savepoint(conn: sqlite3.Connection, work: Work) -> tuple[Any, BaseException | None]:
    """Run one write, undoing only it if it fails: (its result, None) or (None, its error)."""
    conn.execute("SAVEPOINT one_write")
    try:
        value = work(conn)
    except Exception as error:
        conn.execute("ROLLBACK TO one_write")
        conn.execute("RELEASE one_write")
        return None, error
    conn.execute("RELEASE one_write")
    return value, None
