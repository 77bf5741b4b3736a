"""Writing the evaluation history: suite versions, runs and their case results (m005).

Each result is committed on its own as it finishes, so a run killed mid-way loses at most the
cases in flight, and `finished_cases` tells a resumed run what not to send again. The reads
are `storage.eval_history.EvalHistory`'s, which `EvalStore` extends.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from storage.calls import HitBatch, insert_hit_batch
from storage.eval_history import EvalHistory, no_answer_refusal_of
from storage.eval_records import (
    FINAL_RUN_STATUSES,
    CaseResult,
    DuplicateResult,
    EvalRun,
    RunStart,
    RunStateError,
    RunSummary,
    SuiteVersion,
    UnknownRun,
    UnknownSuite,
    elapsed_ms,
)
from storage.eval_rows import (
    RESULT_COLUMNS,
    SUMMARY_COLUMNS,
    check_result,
    process_alive,
    result_values,
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
_SUITE_WITHOUT_CASES = "SELECT json_remove(content_json, '$.cases') FROM eval_suites WHERE id = ?"
_SUITE_CASE_TEXTS = (
    "SELECT json_extract(c.value, '$.id'), c.value"
    " FROM eval_suites AS s, json_each(s.content_json, '$.cases') AS c WHERE s.id = ?"
)


@dataclass(frozen=True)
class SuiteCaseTexts:
    """A suite version's content split to read one case at a time (see
    `EvalStore.suite_case_texts`)."""

    suite: Any
    """The content without its cases (name, system prompt, prompt templates, ...)."""
    cases: dict[str, str]
    """Each case's JSON text by case id, to parse when the case is asked for."""


class EvalStore(EvalHistory):
    """Writes (and, as `EvalHistory`, reads) `eval_suites`, `eval_runs` and `eval_results`."""

    def __init__(self, store: Store, pid_alive: Callable[[int], bool] | None = None) -> None:
        """Args:
        store: the open database.
        pid_alive: tells whether a process id is running (this machine's processes by
            default); runs whose process is gone are interrupted.
        """
        super().__init__(store)
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

    def suite_case_texts(self, suite_id: int) -> SuiteCaseTexts | None:
        """A suite version's content split by SQLite into the suite without its cases and each
        case's JSON text by id (None: no such version). Showing one case of a 2,000-case suite
        then parses that case only, and the split runs in SQLite, without holding Python's
        GIL as `json.loads` of the whole content would (a thread reading it would freeze the
        event loop meanwhile)."""
        with self._store.read() as db:
            found = db.execute(_SUITE_WITHOUT_CASES, [suite_id]).fetchone()
            if found is None:
                return None
            rows = db.execute(_SUITE_CASE_TEXTS, [suite_id]).fetchall()
        cases = {str(case_id): text for case_id, text in rows if case_id is not None}
        return SuiteCaseTexts(json.loads(found[0]), cases)

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

    def errored_cases(self, run_id: int) -> set[tuple[str, int]]:
        """The (case id, repeat index) pairs of a run recorded as errored (no answer)."""
        sql = "SELECT case_id, repeat_index FROM eval_results WHERE run_id = ? AND status = 'error'"
        with self._store.read() as db:
            return {(row[0], row[1]) for row in db.execute(sql, [run_id]).fetchall()}

    def reopen_run(
        self, run_id: int, pid: int, resumed_at: str, *, retry_errors: bool = False
    ) -> EvalRun:
        """Claim an interrupted or failed run (or a running one whose process died) for
        process `pid`, to resume it at `resumed_at`: back to `running`, its
        summary cleared, the time its last session ran added to `earlier_ms` (that session
        ended at the run's end, or at its last result if its process died).

        With `retry_errors`, a completed run is claimed too, and the run's errored results
        (no answer: a 500, a timeout) are deleted in the same transaction, so that the resume
        sends those cases again (their failed calls stay in the log).

        Raises:
            UnknownRun: no run has this id.
            RunStateError: the run completed (with `retry_errors`: with no errored case, or
                it is a pinned baseline), or a live process is running it.
        """
        with self._store.write() as db:
            status, owner = _status_and_pid(db.conn, run_id)
            errored = _errored_count(db.conn, run_id)
            if retry_errors and errored and _is_pinned(db.conn, run_id):
                raise RunStateError(  # what other runs were judged against must not change
                    f"run {run_id} is a pinned baseline: unpin it first"
                    f" (`tunedeck eval baseline {run_id} --clear`)"
                )
            if retry_errors and not errored and status == "completed":
                raise RunStateError(
                    f"run {run_id} is completed with no errored case: nothing to retry"
                )
            if status == "completed" and not retry_errors:
                hint = (
                    f"; `--retry-errors` sends its {errored} errored case(s) again"
                    if errored
                    else ""
                )
                raise RunStateError(f"run {run_id} is completed: nothing to resume{hint}")
            if status == "running" and owner is not None and self._pid_alive(owner):
                raise RunStateError(f"run {run_id} is being run by process {owner}")
            ran = _last_session_ms(db.conn, run_id)
            if retry_errors:
                db.conn.execute(
                    "DELETE FROM eval_results WHERE run_id = ? AND status = 'error'", [run_id]
                )
            db.conn.execute(
                f"UPDATE eval_runs SET status = 'running', pid = ?, finished_at = NULL,"
                f" earlier_ms = earlier_ms + ?, resumed_at = ?, {_CLEARED_SUMMARY} WHERE id = ?",
                [pid, ran, resumed_at, run_id],
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
            RunStateError: the run has not completed, or got no answer.
        """
        with self._store.write() as db:
            status, _ = _status_and_pid(db.conn, run_id)
            if status != "completed":
                raise RunStateError(f"run {run_id} is {status}: only a completed run is pinned")
            refusal = no_answer_refusal_of(db.conn, run_id)
            if refusal is not None:  # every case errored: any candidate would look unchanged
                raise RunStateError(refusal)
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


def _is_pinned(conn: sqlite3.Connection, run_id: int) -> bool:
    sql = "SELECT is_baseline FROM eval_runs WHERE id = ?"
    return bool(conn.execute(sql, [run_id]).fetchone()[0])


def _errored_count(conn: sqlite3.Connection, run_id: int) -> int:
    sql = "SELECT count(*) FROM eval_results WHERE run_id = ? AND status = 'error'"
    return int(conn.execute(sql, [run_id]).fetchone()[0])


def _last_session_ms(conn: sqlite3.Connection, run_id: int) -> float:
    """How long a run's last session ran: from its start (or last resume) to its end, or to
    its last result when its process died before it could end it."""
    began, ended = conn.execute(
        "SELECT coalesce(resumed_at, started_at), coalesce(finished_at, (SELECT"
        " max(finished_at) FROM eval_results WHERE run_id = eval_runs.id)) FROM eval_runs"
        " WHERE id = ?",
        [run_id],
    ).fetchone()
    return 0.0 if ended is None else elapsed_ms(began, ended)


def _status_and_pid(conn: sqlite3.Connection, run_id: int) -> tuple[str, int | None]:
    row = conn.execute("SELECT status, pid FROM eval_runs WHERE id = ?", [run_id]).fetchone()
    if row is None:
        raise UnknownRun(f"no evaluation run has id {run_id}")
    return row[0], row[1]
