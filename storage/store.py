"""The store: one database connection shared by the request log and the cache."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from storage.db import open_database


class Store:
    """The tunedeck database, safe to share between threads of one process.

    One connection serves every thread; a lock keeps their transactions from interleaving.
    """

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._lock = threading.RLock()
        from storage.cache import ResponseCache
        from storage.calls import CallLog

        self.calls = CallLog(self)
        self.cache = ResponseCache(self)

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating and migrating if needed) the database file at `path`."""
        return cls(open_database(path))

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A `BEGIN IMMEDIATE` transaction: the write lock is taken before any read."""
        with self._lock:
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.conn.execute("ROLLBACK")
                raise
            self.db.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """Serialise reads with this process's writers on the shared connection."""
        with self._lock:
            yield self.db

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.db.conn.close()
