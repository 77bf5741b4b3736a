"""Reading the evaluation history: suites, runs and their results (migration m005).

Every read the Regressions pane makes is a range of an index (see m005), never a scan of
`eval_results`. `storage.evals.EvalStore` adds the writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from storage.eval_records import (
    CasePair,
    EvalRun,
    HistoryPoint,
    PairedResults,
    RecordedResult,
    RunSummary,
    StoredSuite,
    SuiteListing,
)
from storage.eval_rows import (
    RESULT_COLUMNS,
    RUN_COLUMNS,
    listing_from_row,
    result_from_values,
    run_from_row,
    suite_from_row,
    summarise,
)

if TYPE_CHECKING:
    from storage.store import Store


class EvalHistory:
    """Reads `eval_suites`, `eval_runs` and `eval_results`."""

    def __init__(self, store: Store) -> None:
        """`store`: the open database."""
        self._store = store

    # -- suites ---------------------------------------------------------------------------

    def suite(self, suite_id: int) -> StoredSuite | None:
        """One suite version by id, or None."""
        with self._store.read() as db:
            rows = list(db.query("SELECT * FROM eval_suites WHERE id = ?", [suite_id]))
        return suite_from_row(rows[0]) if rows else None

    def suites(self) -> list[SuiteListing]:
        """Every suite name with its newest version, its number of runs (all versions) and the
        start of its last run, by name as a person sorts them: case aside (`Capitals pf`
        after `capitals`), then as written."""
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
            listings = [listing_from_row(row) for row in db.query(sql)]
        return sorted(listings, key=lambda listing: (listing.name.casefold(), listing.name))

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
        """The newest completed run of a model on a suite (on one version of it if given)
        that got an answer (a pass or a fail): a run whose every case errored is no
        baseline (`no_answer_refusal`)."""
        if version is None:
            where, args = "suite_name = ? AND model = ?", [suite_name, model]
        else:
            suite_id = "(SELECT id FROM eval_suites WHERE name = ? AND version = ?)"
            where, args = f"suite_id = {suite_id} AND model = ?", [suite_name, version, model]
        sql = (
            f"SELECT {RUN_COLUMNS} FROM eval_runs WHERE {where} AND status = 'completed'"
            " AND (passed + failed > 0 OR errored = 0) ORDER BY id DESC LIMIT 1"
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
            found = [result_from_values(row) for row in db.execute(sql, [*args, limit])]
        return found[::-1] if before is not None else found

    def paired_results(self, run_a: int, run_b: int) -> PairedResults:
        """Both runs' results matched by case id, and the cases only one of them recorded."""
        sql = (
            f"SELECT id, run_id, {RESULT_COLUMNS} FROM eval_results WHERE run_id = ?"
            " ORDER BY case_id, repeat_index"
        )
        with self._store.read() as db:
            a = _by_case(result_from_values(row) for row in db.execute(sql, [run_a]))
            b = _by_case(result_from_values(row) for row in db.execute(sql, [run_b]))
        pairs = [CasePair(case, a.get(case, ()), b.get(case, ())) for case in sorted(a | b)]
        return PairedResults(
            paired=[pair for pair in pairs if pair.a and pair.b],
            only_a=[pair for pair in pairs if not pair.b],
            only_b=[pair for pair in pairs if not pair.a],
        )

    def finished_cases(self, run_id: int) -> set[tuple[str, int]]:
        """The (case id, repeat index) pairs already recorded for a run: what a resumed run
        must not send again."""
        sql = "SELECT case_id, repeat_index FROM eval_results WHERE run_id = ?"
        with self._store.read() as db:
            return {(row[0], row[1]) for row in db.execute(sql, [run_id]).fetchall()}

    # -- helpers --------------------------------------------------------------------------

    def _runs(self, sql: str, args: list[Any]) -> list[EvalRun]:
        with self._store.read() as db:
            return [run_from_row(row) for row in db.query(sql, args)]

    def _first_run(self, sql: str, args: list[Any]) -> EvalRun | None:
        runs = self._runs(sql, args)
        return runs[0] if runs else None


def no_answer_refusal(run: EvalRun) -> str | None:
    """Why `run` cannot be a baseline, if it cannot: none of its cases got an answer (every
    one errored), so any candidate would compare with it as unchanged. None when it can."""
    summary = run.summary
    if summary is None or summary.passed + summary.failed or not summary.errored:
        return None
    return _refusal(run.id, summary.errored)


def no_answer_refusal_of(conn: sqlite3.Connection, run_id: int) -> str | None:
    """`no_answer_refusal` read in `conn`'s transaction (for the write that pins a run)."""
    row = conn.execute(
        "SELECT passed + failed, errored FROM eval_runs WHERE id = ?", [run_id]
    ).fetchone()
    if row is None or row[0] is None or row[0] or not row[1]:
        return None
    return _refusal(run_id, row[1] or 0)


def _refusal(run_id: int, errored: int) -> str:
    return f"run {run_id} got no answer ({errored:,} errored): it cannot be a baseline"


def _equals(**values: Any) -> tuple[list[str], list[Any]]:
    """`column = ?` clauses for the values that are not None."""
    given = {column: value for column, value in values.items() if value is not None}
    return [f"{column} = ?" for column in given], list(given.values())


def _by_case(results: Iterable[RecordedResult]) -> dict[str, tuple[RecordedResult, ...]]:
    grouped: dict[str, list[RecordedResult]] = {}
    for result in results:
        grouped.setdefault(result.case_id, []).append(result)
    return {case: tuple(found) for case, found in grouped.items()}
