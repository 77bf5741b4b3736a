"""The store: the request log and the cache on one SQLite file, shared by threads.

Writes go through one connection under a lock (`BEGIN IMMEDIATE`). Reads use a connection of
their own thread: in WAL mode a long read (a usage total over a million calls) then never holds
up a write from the event loop, and the writer never holds up a pane's query.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from storage.db import BUSY_TIMEOUT_SECONDS, open_database


class Store:
    """The tunedeck database, safe to share between threads of one process."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._lock = threading.RLock()
        self._readers = threading.local()
        self._path = _file_of(db)
        self._watcher: sqlite3.Connection | None = None
        self._watcher_lock = threading.Lock()  # not the writer's: a long write must not block it
        self._commits = 0  # this process's commits: the version of an in-memory database
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
            self._commits += 1

    def version(self) -> int:
        """A number that changes whenever anything is committed to the database, by this
        process or another: a pane re-reads its figures only when it changed.

        `PRAGMA data_version` of a connection kept for this alone (a connection's own commits
        do not change its data_version, so it must be one that never writes). Microseconds.
        """
        if self._path is None:
            return self._commits
        with self._watcher_lock:
            if self._watcher is None:
                self._watcher = _read_only(self._path, shared=True)
            return int(self._watcher.execute("PRAGMA data_version").fetchone()[0])

    @contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """This thread's read-only connection (the shared one for an in-memory database)."""
        if self._path is None:
            with self._lock:
                yield self.db
            return
        reader: sqlite_utils.Database | None = getattr(self._readers, "db", None)
        if reader is None:
            reader = sqlite_utils.Database(_read_only(self._path))
            self._readers.db = reader
        yield reader

    def close(self) -> None:
        """Close the writer connection (readers close with their threads)."""
        with self._lock:
            self.db.conn.close()
        with self._watcher_lock:
            if self._watcher is not None:
                self._watcher.close()
                self._watcher = None
        reader = getattr(self._readers, "db", None)
        if reader is not None:
            reader.conn.close()
            del self._readers.db


def _file_of(db: sqlite_utils.Database) -> str | None:
    for _, name, file in db.conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(file) or None
    return None


def _read_only(path: str, *, shared: bool = False) -> sqlite3.Connection:
    connection = sqlite3.connect(
        f"file:{path}?mode=ro",
        uri=True,
        timeout=BUSY_TIMEOUT_SECONDS,
        isolation_level=None,
        check_same_thread=not shared,
    )
    connection.execute("PRAGMA query_only=ON")
    return connection
