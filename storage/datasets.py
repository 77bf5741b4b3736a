"""Dataset versions and their lineage: the `dataset_versions` table.

A version is a file's content (sha256) at a path, in a role, with the version it was made
from. Recording the same content at the same path again returns the existing version (with
its statistics refreshed), so re-checking an unchanged file adds nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.store import Store

ROLES = ("source", "clean", "train", "heldout", "suite")
_MAX_LINEAGE = 100  # a chain deeper than this is a cycle made by hand in the file


@dataclass(frozen=True)
class NewDatasetVersion:
    """What is known of a file to record.

    Attributes:
        path: absolute path of the file.
        sha256: hex digest of its bytes.
        role: `source`, `clean`, `train`, `heldout` or `suite`.
        size_bytes, lines, examples: its size, lines and valid examples.
        format: `chat`, `preference` or `completion`, if known.
        problems: problems found by a check, None when it was written but not checked.
        statistics: summary figures (JSON-ready; never example text).
        parent_id: the version it was made from.
    """

    path: str
    sha256: str
    role: str
    size_bytes: int
    lines: int
    examples: int
    format: str | None = None
    problems: int | None = None
    statistics: dict[str, Any] = field(default_factory=dict)
    parent_id: int | None = None


@dataclass(frozen=True)
class DatasetVersion:
    """A recorded dataset version; `checked_at` is when its statistics were last updated."""

    id: int
    path: str
    sha256: str
    role: str
    size_bytes: int
    lines: int
    examples: int
    format: str | None
    problems: int | None
    statistics: dict[str, Any]
    parent_id: int | None
    created_at: str
    checked_at: str | None


class DatasetVersions:
    """Reads and writes `dataset_versions`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(self, new: NewDatasetVersion, now: str) -> DatasetVersion:
        """Insert `new`, or refresh and return the version with the same path and sha256.

        A refresh updates the figures (a check with another model changes token counts) and
        keeps the id, role, parent and creation time.
        """
        if new.role not in ROLES:
            raise ValueError(f"unknown dataset role {new.role!r}")
        statistics = json.dumps(new.statistics, ensure_ascii=False, sort_keys=True)
        with self._store.write() as db:
            found = db.conn.execute(
                "SELECT id FROM dataset_versions WHERE sha256 = ? AND path = ?",
                [new.sha256, new.path],
            ).fetchone()
            if found is None:
                version_id = _insert(db.conn, new, statistics, now)
            else:
                version_id = int(found[0])
                _refresh(db.conn, version_id, new, statistics, now)
        version = self.get(version_id)
        assert version is not None
        return version

    def find(self, path: str, sha256: str) -> DatasetVersion | None:
        """The version of this content at this path, if recorded."""
        rows = self._rows(
            "SELECT * FROM dataset_versions WHERE sha256 = ? AND path = ?", [sha256, path]
        )
        return rows[0] if rows else None

    def get(self, version_id: int) -> DatasetVersion | None:
        """One version by id."""
        rows = self._rows("SELECT * FROM dataset_versions WHERE id = ?", [version_id])
        return rows[0] if rows else None

    def page(self, limit: int = 50, before_id: int | None = None) -> list[DatasetVersion]:
        """Versions newest first, keyset-paged by id."""
        if before_id is None:
            sql, args = "SELECT * FROM dataset_versions ORDER BY id DESC LIMIT ?", [limit]
        else:
            sql = "SELECT * FROM dataset_versions WHERE id < ? ORDER BY id DESC LIMIT ?"
            args = [before_id, limit]
        return self._rows(sql, args)

    def children(self, version_id: int) -> list[DatasetVersion]:
        """Versions made from `version_id`, oldest first."""
        return self._rows(
            "SELECT * FROM dataset_versions WHERE parent_id = ? ORDER BY id", [version_id]
        )

    def lineage(self, version_id: int) -> list[DatasetVersion]:
        """`version_id` and its ancestors, itself first, up to the original source."""
        sql = (
            "WITH RECURSIVE chain(id, depth) AS (SELECT ?, 0 UNION ALL "
            "SELECT v.parent_id, chain.depth + 1 FROM dataset_versions v JOIN chain "
            "ON v.id = chain.id WHERE v.parent_id IS NOT NULL AND chain.depth < ?) "
            "SELECT v.* FROM chain JOIN dataset_versions v ON v.id = chain.id ORDER BY chain.depth"
        )
        return self._rows(sql, [version_id, _MAX_LINEAGE])

    def _rows(self, sql: str, args: list[Any]) -> list[DatasetVersion]:
        with self._store.read() as db:
            return [_version(row) for row in db.query(sql, args)]


def _insert(connection: Any, new: NewDatasetVersion, statistics: str, now: str) -> int:
    row = {
        "path": new.path,
        "sha256": new.sha256,
        "format": new.format,
        "role": new.role,
        "parent_id": new.parent_id,
        "size_bytes": new.size_bytes,
        "lines": new.lines,
        "examples": new.examples,
        "problems": new.problems,
        "statistics_json": statistics,
        "created_at": now,
        "checked_at": now if new.problems is not None else None,
    }
    cursor = connection.execute(
        f"INSERT INTO dataset_versions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    return int(cursor.lastrowid)


def _refresh(
    connection: Any, version_id: int, new: NewDatasetVersion, statistics: str, now: str
) -> None:
    if new.problems is None:  # a file written again: its check figures stay
        return
    connection.execute(
        "UPDATE dataset_versions SET format = ?, lines = ?, examples = ?, problems = ?, "
        "statistics_json = ?, checked_at = ? WHERE id = ?",
        [new.format, new.lines, new.examples, new.problems, statistics, now, version_id],
    )


def _version(row: dict[str, Any]) -> DatasetVersion:
    return DatasetVersion(
        id=row["id"],
        path=row["path"],
        sha256=row["sha256"],
        role=row["role"],
        size_bytes=row["size_bytes"],
        lines=row["lines"] or 0,
        examples=row["examples"] or 0,
        format=row["format"],
        problems=row["problems"],
        statistics=json.loads(row["statistics_json"] or "{}"),
        parent_id=row["parent_id"],
        created_at=row["created_at"],
        checked_at=row["checked_at"],
    )
