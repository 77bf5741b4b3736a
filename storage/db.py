"""Opening the tunedeck database: one SQLite file, WAL, migrated on open."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils

from storage.migrations import migrations

BUSY_TIMEOUT_SECONDS = 10.0


def open_database(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the database at `path` and apply pending migrations.

    The file is created with mode 0600 (it holds prompts and answers), in WAL mode so the
    console and a command can use it at once, with a busy timeout and foreign keys on.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _create_private(path)
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False, isolation_level=None
    )
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    db = sqlite_utils.Database(connection)
    migrations.apply(db)
    # Statement journals in memory: a transaction of many statements that fire triggers (a
    # batch of cache hits, ~6 pages each) otherwise spills them to a temporary file, a
    # write system call a page. After the migrations: their large sorts may still spill.
    connection.execute("PRAGMA temp_store=MEMORY")
    return db


def _create_private(path: Path) -> None:
    if path.exists():
        return
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(descriptor)
