"""The evaluation history: suite versions, runs and their case results (migration m005).

Each result is committed on its own as it finishes, so a run killed mid-way loses at most the
cases in flight, and `finished_cases` tells a resumed run what not to send again. Every read the
Regressions pane makes is a range of an index (see m005), never a scan of `eval_results`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

from storage.calls import HitBatch, insert_hit_batch
from storage.eval_records import (
    FINAL_RUN_STATUSES,
    CasePair,
    CaseResult,
    DuplicateResult,
    EvalRun,
    HistoryPoint,
    PairedResults,
    RecordedResult,
    RunStart,
    RunStateError,
    RunSummary,
    StoredSuite,
    SuiteListing,
    SuiteVersion,
    UnknownRun,
    UnknownSuite,
)
from storage.eval_rows import (
    RESULT_COLUMNS,
    RUN_COLUMNS,
    SUMMARY_COLUMNS,
    check_result,
    listing_from_row,
    process_alive,
    result_from_row,
    result_values,
    run_from_row,
    suite_from_row,
    summarise,
)

if TYPE_CHECKING:
    from storage.store import Store

_RESULT_COLUMN_NAMES = [name.strip() for name in RESULT_COLUMNS.split(",")]
_CALL_ID_INDEX = _RESULT_COLUMN_NAMES.index("call_id")
_INSERT_RESULT = (
    f"INSERT INTO eval_results (run_id, {RESULT_COLUMNS})"
    f" VALUES (?, {', '.join('?' * len(_RESULT_COLUMN_NAMES))})"
)
_CLEARED_SUMMARY = ", ".join(f"{column} = NULL" for column in SUMMARY_COLUMNS)


class EvalStore:
    """Writes and reads `eval_suites`, `eval_runs` and `eval_results`."""

    def __init__(self, store: Store, pid_alive: Callable[[int], bool] | None = None) -> None:
        """Args:
        store: the open database.
        pid_alive: tells whether a process id is running (this machine's processes by
            default); runs whose process is gone are interrupted.
        """
        self._store = store
        self._pid_alive = pid_alive or process_alive

    # -- suites ---------------------------------------------------------------------------

    def save_suite(self, suite: SuiteVersion) -> int:
        """Save a suite version and return its id; the id of the saved one if (name, version)
        is already there (its content is the same: the version is the file's hash)."""
        # Not asdict: it deep-copies the content (every case) before it is serialised.
        row = {item.name: getattr(suite, item.name) for item in fields(suite)}
        row["content_json"] = json.dumps(row.pop("content"), ensure_ascii=False)
        columns = ", ".join(row)
        with self._store.write() as db:
            db.conn.execute(
                f"INSERT INTO eval_suites ({columns}) VALUES ({', '.join('?' * len(row))})"
                " ON CONFLICT (name, version) DO NOTHING",
                list(row.values()),
            )
            found = db.conn.execute(
                "SELECT id FROM eval_suites WHERE name = ? AND version = ?",
                [suite.name, suite.version],
            ).fetchone()
        return int(found[0])

    def suite_id(self, name: str, version: str) -> int | None:
        """The id of a saved suite version, or None (to save a version's content only once)."""
        sql = "SELECT id FROM eval_suites WHERE name = ? AND version = ?"
        with self._store.read() as db:
            found = db.execute(sql, [name, version]).fetchone()
        return None if found is None else int(found[0])

    def suite(self, suite_id: int) -> StoredSuite | None:
        """One suite version by id, or None."""
        with self._store.read() as db:
            rows = list(db.query("SELECT * FROM eval_suites WHERE id = ?", [suite_id]))
        return suite_from_row(rows[0]) if rows else None

    def suites(self) -> list[SuiteListing]:
        """Every suite name with its newest version, its number of runs (all versions) and the
        start of its last run, by name."""
        # The names come in index order from the grouped subquery; CROSS JOIN keeps it as
        # the outer loop, so there is no sort (an ORDER BY outside would add one).
        sql = """
            SELECT s.*, g.versions,
                (SELECT count(*) FROM eval_runs r WHERE r.suite_name = g.name) AS run_count,
                (SELECT r.started_at FROM eval_runs r WHERE r.suite_name = g.name
                    ORDER BY r.id DESC LIMIT 1) AS last_run_at
            FROM (SELECT name, max(id) AS latest, count(*) AS versions FROM eval_suites
                GROUP BY name ORDER BY name) AS g
            CROSS JOIN eval_suites AS s ON s.id = g.latest"""
        with self._store.read() as db:
            return [listing_from_row(row) for row in db.query(sql)]

    # -- writing a run --------------------------------------------------------------------

    def start_run(self, start: RunStart) -> int:
        """Record a run as `running` and return its id.

        Raises:
            ValueError: `repeats` is below 1.
            UnknownSuite: no suite version has `suite_id`.
            UnknownRun: no run has `baseline_run_id`.
        """
        if start.repeats < 1:
            raise ValueError(f"a run repeats its cases at least once, not {start.repeats}")
        row = asdict(start)
        row["params_json"] = json.dumps(row.pop("params"), ensure_ascii=False)
        sql = (
            f"INSERT INTO eval_runs (suite_name, status, {', '.join(row)})"
            f" SELECT name, 'running', {', '.join('?' * len(row))}"
            " FROM eval_suites WHERE id = ?"
        )
        try:
            with self._store.write() as db:
                cursor = db.conn.execute(sql, [*row.values(), start.suite_id])
        except sqlite3.IntegrityError as error:
            if "FOREIGN KEY" not in str(error):
                raise
            raise UnknownRun(f"no evaluation run has id {start.baseline_run_id}") from None
        if cursor.rowcount == 0:
            raise UnknownSuite(f"no evaluation suite has id {start.suite_id}")
        return int(cursor.lastrowid or 0)

    def record_result(self, run_id: int, result: CaseResult) -> int:
        """Commit one case result of a running run (its own transaction) and return its id.

        Raises:
            ValueError: the status, score or repeat index is out of range.
            DuplicateResult: this case and repeat is already recorded for the run.
            RunStateError: the run is not running (or does not exist).
        """
        check_result(result)
        values = result_values(result)
        placeholders = ", ".join("?" * len(values))
        sql = (
            f"INSERT INTO eval_results (run_id, {RESULT_COLUMNS}) SELECT ?, {placeholders}"
            " WHERE EXISTS (SELECT 1 FROM eval_runs WHERE id = ? AND status = 'running')"
        )
        try:
            with self._store.write() as db:
                cursor = db.conn.execute(sql, [run_id, *values, run_id])
        except sqlite3.IntegrityError as error:
            if "UNIQUE" not in str(error):
                raise
            raise DuplicateResult(
                f"run {run_id} already has a result for case {result.case_id!r}"
                f" (repeat {result.repeat_index})"
            ) from None
        if cursor.rowcount == 0:
            raise RunStateError(f"run {run_id} is not running: cannot record a result")
        return int(cursor.lastrowid or 0)

    def record_results(self, run_id: int, results: Sequence[CaseResult]) -> None:
        """Commit case results of a running run together, in one transaction (all or none).

        Raises:
            ValueError, DuplicateResult, RunStateError: as `record_result`; nothing is
                written then.
        """
        for result in results:
            check_result(result)
        with self._store.write() as db:
            _insert_results(db.conn, run_id, [result_values(result) for result in results])

    def record_cache_hits(
        self, run_id: int, hits: HitBatch, results: Sequence[CaseResult]
    ) -> list[int]:
        """Log calls answered from the cache and commit the case results they answered, all
        in one transaction: the calls' rows and their cache entries' hits as lone cache hits
        log them (`storage.calls.insert_hit_batch`), then each result (`results[i]` answered
        by `hits.calls[i]`) with its `call_id` set to its call's row. Returns the call ids,
        in order.

        Raises:
            ValueError: not one result per call; or as `record_result`.
            DuplicateResult, RunStateError: as `record_result`; nothing is written then.
        """
        if len(results) != len(hits.calls):
            raise ValueError(f"{len(results)} results for {len(hits.calls)} cache hits")
        for result in results:
            check_result(result)
        values = [result_values(result) for result in results]
        with self._store.write() as db:
            ids = insert_hit_batch(db.conn, hits)
            for row, call_id in zip(values, ids, strict=True):
                row[_CALL_ID_INDEX] = call_id
            _insert_results(db.conn, run_id, values)
        return ids

    def finished_cases(self, run_id: int) -> set[tuple[str, int]]:
        """The (case id, repeat index) pairs already recorded for a run: what a resumed run
        must not send again."""
        sql = "SELECT case_id, repeat_index FROM eval_results WHERE run_id = ?"
        with self._store.read() as db:
            return {(row[0], row[1]) for row in db.execute(sql, [run_id]).fetchall()}

    def finish_run(self, run_id: int, status: str, finished_at: str) -> RunSummary:
        """End a running run with `status` (`completed`, `interrupted` or `failed`) and store
        the summary of its results, computed in the same transaction.

        Raises:
            ValueError: `status` is not a final status.
            UnknownRun: no run has this id.
            RunStateError: the run is not running.
        """
        if status not in FINAL_RUN_STATUSES:
            raise ValueError(f"a run cannot finish as {status!r}: one of {FINAL_RUN_STATUSES}")
        with self._store.write() as db:
            current, _ = _status_and_pid(db.conn, run_id)
            if current != "running":
                raise RunStateError(f"run {run_id} is {current}, not running")
            return _close(db.conn, run_id, status, finished_at)

    def reopen_run(self, run_id: int, pid: int) -> EvalRun:
        """Claim an interrupted or failed run (or a running one whose process died) for
        process `pid`, to resume it: back to `running`, its summary cleared.

        Raises:
            UnknownRun: no run has this id.
            RunStateError: the run completed, or a live process is running it.
        """
        with self._store.write() as db:
            status, owner = _status_and_pid(db.conn, run_id)
            if status == "completed":
                raise RunStateError(f"run {run_id} is completed: nothing to resume")
            if status == "running" and owner is not None and self._pid_alive(owner):
                raise RunStateError(f"run {run_id} is being run by process {owner}")
            db.conn.execute(
                f"UPDATE eval_runs SET status = 'running', pid = ?, finished_at = NULL,"
                f" {_CLEARED_SUMMARY} WHERE id = ?",
                [pid, run_id],
            )
        return self._required_run(run_id)

    def mark_interrupted_dead_runs(self) -> list[int]:
        """Mark `interrupted` (with the summary of what they recorded) the running runs whose
        process is gone, and return their ids. A run's end is taken as its last result's.

        A run without a pid counts as dead. The check reads this machine's processes: a run
        started on another machine sharing the file would look dead.
        """
        with self._store.read() as db:
            running = db.execute(
                "SELECT id, pid FROM eval_runs WHERE status = 'running'"
            ).fetchall()
        dead = [(run_id, pid) for run_id, pid in running if pid is None or not self._pid_alive(pid)]
        marked: list[int] = []
        for run_id, pid in dead:
            with self._store.write() as db:
                # A resume may have claimed it meanwhile, under another pid.
                if _status_and_pid(db.conn, run_id) != ("running", pid):
                    continue
                ended = db.conn.execute(
                    "SELECT coalesce((SELECT max(finished_at) FROM eval_results"
                    " WHERE run_id = ?), started_at) FROM eval_runs WHERE id = ?",
                    [run_id, run_id],
                ).fetchone()[0]
                _close(db.conn, run_id, "interrupted", ended)
            marked.append(run_id)
        return marked

    def set_baseline(self, run_id: int) -> None:
        """Pin a completed run as the baseline of its suite name and model (replacing the
        pinned one). Pinned per suite name, not per version, so it stays the reference when the
        suite changes: a comparison across versions keeps the cases present in both.

        Raises:
            UnknownRun: no run has this id.
            RunStateError: the run has not completed.
        """
        with self._store.write() as db:
            status, _ = _status_and_pid(db.conn, run_id)
            if status != "completed":
                raise RunStateError(f"run {run_id} is {status}: only a completed run is pinned")
            db.conn.execute(
                "UPDATE eval_runs SET is_baseline = 0 WHERE is_baseline = 1 AND"
                " (suite_name, model) = (SELECT suite_name, model FROM eval_runs WHERE id = ?)",
                [run_id],
            )
            db.conn.execute("UPDATE eval_runs SET is_baseline = 1 WHERE id = ?", [run_id])

    def clear_baseline(self, run_id: int) -> None:
        """Unpin a run (nothing happens if it was not pinned)."""
        with self._store.write() as db:
            db.conn.execute("UPDATE eval_runs SET is_baseline = 0 WHERE id = ?", [run_id])

    def delete_run(self, run_id: int) -> bool:
        """Delete a run and its results; runs that used it as baseline forget it."""
        with self._store.write() as db:
            return db.conn.execute("DELETE FROM eval_runs WHERE id = ?", [run_id]).rowcount > 0

    # -- reading runs ---------------------------------------------------------------------

    def run(self, run_id: int) -> EvalRun | None:
        """One run by id, or None."""
        return self._first_run(f"SELECT {RUN_COLUMNS} FROM eval_runs WHERE id = ?", [run_id])

    def runs(
        self,
        suite_name: str | None = None,
        model: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
        after_id: int | None = None,
    ) -> list[EvalRun]:
        """Runs newest first, of a suite name (every version) and/or a model, keyset-paged:
        pass the last id of a page as `before_id` for the next (older) page, or the first id
        of a page as `after_id` for the `limit` runs right above it (newer, still newest
        first)."""
        clauses, args = _equals(suite_name=suite_name, model=model)
        if before_id is not None:
            clauses.append("id < ?")
            args.append(before_id)
        if after_id is not None:
            clauses.append("id > ?")
            args.append(after_id)
        where = "WHERE " + " AND ".join(clauses) if clauses else ""
        order = "ASC" if after_id is not None else "DESC"
        sql = f"SELECT {RUN_COLUMNS} FROM eval_runs {where} ORDER BY id {order} LIMIT ?"
        found = self._runs(sql, [*args, limit])
        return found[::-1] if after_id is not None else found

    def pinned_baselines(self, suite_name: str) -> list[EvalRun]:
        """The runs pinned as baselines of a suite name (one per model at most), newest
        first."""
        # No ORDER BY: sorting the few pinned runs here lets SQLite read them from the
        # partial index of pinned runs instead of walking the suite's runs by id.
        sql = f"SELECT {RUN_COLUMNS} FROM eval_runs WHERE suite_name = ? AND is_baseline = 1"
        return sorted(self._runs(sql, [suite_name]), key=lambda run: run.id, reverse=True)

    def latest_completed_run(
        self, suite_name: str, model: str, version: str | None = None
    ) -> EvalRun | None:
        """The newest completed run of a model on a suite (on one version of it if given)."""
        if version is None:
            where, args = "suite_name = ? AND model = ?", [suite_name, model]
        else:
            suite_id = "(SELECT id FROM eval_suites WHERE name = ? AND version = ?)"
            where, args = f"suite_id = {suite_id} AND model = ?", [suite_name, version, model]
        sql = (
            f"SELECT {RUN_COLUMNS} FROM eval_runs WHERE {where} AND status = 'completed'"
            " ORDER BY id DESC LIMIT 1"
        )
        return self._first_run(sql, args)

    def pinned_baseline(self, suite_name: str, model: str) -> EvalRun | None:
        """The run pinned as baseline of a suite name and model, if any."""
        sql = (
            f"SELECT {RUN_COLUMNS} FROM eval_runs"
            " WHERE suite_name = ? AND model = ? AND is_baseline = 1"
        )
        return self._first_run(sql, [suite_name, model])

    def pass_rate_history(self, suite_name: str, limit: int = 200) -> dict[str, list[HistoryPoint]]:
        """The last `limit` completed runs of a suite (every version), per model, oldest first
        in each list: the pane's chart."""
        sql = (
            "SELECT id, model, started_at, passed, failed, errored, mean_score,"
            " (SELECT version FROM eval_suites WHERE id = suite_id) AS version"
            " FROM eval_runs WHERE suite_name = ? AND status = 'completed'"
            " ORDER BY id DESC LIMIT ?"
        )
        with self._store.read() as db:
            rows = db.execute(sql, [suite_name, limit]).fetchall()
        history: dict[str, list[HistoryPoint]] = {}
        for run_id, model, started, passed, failed, errored, mean, version in reversed(rows):
            summary = RunSummary(passed=passed or 0, failed=failed or 0, errored=errored or 0)
            point = HistoryPoint(run_id, started, version, summary.pass_rate, mean)
            history.setdefault(model, []).append(point)
        return history

    def progress(self, run_id: int) -> RunSummary:
        """The summary of what a run has recorded so far (a running run has no stored one)."""
        with self._store.read() as db:
            return summarise(db.conn, run_id)

    # -- reading results ------------------------------------------------------------------

    def results(
        self,
        run_id: int,
        status: str | None = None,
        limit: int = 100,
        after: tuple[str, int] | None = None,
        before: tuple[str, int] | None = None,
    ) -> list[RecordedResult]:
        """A run's results by case id and repeat, keyset-paged: pass the (case id, repeat
        index) of a page's last result as `after` for the next, or of its first result as
        `before` for the `limit` results right above it (still in case order); `status`
        keeps one status."""
        clauses, args = _equals(run_id=run_id, status=status)
        if after is not None:
            clauses.append("(case_id, repeat_index) > (?, ?)")
            args += list(after)
        if before is not None:
            clauses.append("(case_id, repeat_index) < (?, ?)")
            args += list(before)
        order = "DESC" if before is not None else "ASC"
        sql = (
            f"SELECT id, run_id, {RESULT_COLUMNS} FROM eval_results"
            f" WHERE {' AND '.join(clauses)}"
            f" ORDER BY case_id {order}, repeat_index {order} LIMIT ?"
        )
        with self._store.read() as db:
            found = [result_from_row(row) for row in db.query(sql, [*args, limit])]
        return found[::-1] if before is not None else found

    def paired_results(self, run_a: int, run_b: int) -> PairedResults:
        """Both runs' results matched by case id, and the cases only one of them recorded."""
        sql = (
            f"SELECT id, run_id, {RESULT_COLUMNS} FROM eval_results WHERE run_id = ?"
            " ORDER BY case_id, repeat_index"
        )
        with self._store.read() as db:
            a = _by_case(result_from_row(row) for row in db.query(sql, [run_a]))
            b = _by_case(result_from_row(row) for row in db.query(sql, [run_b]))
        pairs = [CasePair(case, a.get(case, ()), b.get(case, ())) for case in sorted(a | b)]
        return PairedResults(
            paired=[pair for pair in pairs if pair.a and pair.b],
            only_a=[pair for pair in pairs if not pair.b],
            only_b=[pair for pair in pairs if not pair.a],
        )

    # -- helpers --------------------------------------------------------------------------

    def _runs(self, sql: str, args: list[Any]) -> list[EvalRun]:
        with self._store.read() as db:
            return [run_from_row(row) for row in db.query(sql, args)]

    def _first_run(self, sql: str, args: list[Any]) -> EvalRun | None:
        runs = self._runs(sql, args)
        return runs[0] if runs else None

    def _required_run(self, run_id: int) -> EvalRun:
        found = self.run(run_id)
        if found is None:
            raise UnknownRun(f"no evaluation run has id {run_id}")
        return found


def _insert_results(conn: sqlite3.Connection, run_id: int, values: list[list[Any]]) -> None:
    """Insert results (`result_values` each) of a running run, inside a write transaction
    (which keeps the run running until it ends: its status is read once)."""
    status = conn.execute("SELECT status FROM eval_runs WHERE id = ?", [run_id]).fetchone()
    if status is None or status[0] != "running":
        raise RunStateError(f"run {run_id} is not running: cannot record a result")
    try:
        conn.executemany(_INSERT_RESULT, [[run_id, *row] for row in values])
    except sqlite3.IntegrityError as error:
        if "UNIQUE" not in str(error):
            raise
        raise DuplicateResult(
            f"run {run_id} already has a result for one of cases {_case_ids(values)}"
        ) from None


def _case_ids(values: list[list[Any]]) -> str:
    shown = ", ".join(repr(row[0]) for row in values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def _close(conn: sqlite3.Connection, run_id: int, status: str, finished_at: str) -> RunSummary:
    """Store the summary and the final status of a run (inside a write transaction)."""
    summary = summarise(conn, run_id)
    values = [getattr(summary, column) for column in SUMMARY_COLUMNS]
    assignments = ", ".join(f"{column} = ?" for column in SUMMARY_COLUMNS)
    conn.execute(
        f"UPDATE eval_runs SET status = ?, finished_at = ?, {assignments} WHERE id = ?",
        [status, finished_at, *values, run_id],
    )
    return summary


def _status_and_pid(conn: sqlite3.Connection, run_id: int) -> tuple[str, int | None]:
    row = conn.execute("SELECT status, pid FROM eval_runs WHERE id = ?", [run_id]).fetchone()
    if row is None:
        raise UnknownRun(f"no evaluation run has id {run_id}")
    return row[0], row[1]


def _equals(**values: Any) -> tuple[list[str], list[Any]]:
    """`column = ?` clauses for the values that are not None."""
    given = {column: value for column, value in values.items() if value is not None}
    return [f"{column} = ?" for column in given], list(given.values())


def _by_case(results: Iterable[RecordedResult]) -> dict[str, tuple[RecordedResult, ...]]:
    grouped: dict[str, list[RecordedResult]] = {}
    for result in results:
        grouped.setdefault(result.case_id, []).append(result)
    return {case: tuple(found) for case, found in grouped.items()}
