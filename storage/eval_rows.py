"""Rows of the evaluation tables to records and back, and the summary of a run's results."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from storage.eval_records import (
    RESULT_STATUSES,
    CaseResult,
    EvalRun,
    RecordedResult,
    RunSummary,
    StoredSuite,
    SuiteListing,
)

RUN_COLUMNS = "eval_runs.*, (SELECT version FROM eval_suites WHERE id = suite_id) AS version"
"""The columns of a run as `run_from_row` reads them (its suite's version included)."""

RESULT_COLUMNS = (
    "case_id, repeat_index, status, score, critical, tags_json, output_text, scores_json,"
    " error, latency_ms, cost_usd, prompt_tokens, completion_tokens, cache_hit, call_id,"
    " finished_at, judge_cost_usd"
)
"""The columns `result_values` gives values for, in order."""

SUMMARY_COLUMNS = (
    "passed",
    "failed",
    "errored",
    "mean_score",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_p50_ms",
    "latency_p95_ms",
    "judge_cost_usd",
)
"""The columns of `eval_runs` holding a `RunSummary` (its field names)."""

_SUMMARY_SQL = """
    SELECT coalesce(sum(status = 'pass'), 0), coalesce(sum(status = 'fail'), 0),
        coalesce(sum(status = 'error'), 0), avg(coalesce(score, 0)),
        coalesce(sum(CASE WHEN cache_hit = 0 THEN prompt_tokens END), 0),
        coalesce(sum(CASE WHEN cache_hit = 0 THEN completion_tokens END), 0),
        CASE WHEN sum(cost_usd IS NULL AND status != 'error') THEN NULL
            ELSE total(cost_usd) END,
        sum(judge_cost_usd)
    FROM eval_results WHERE run_id = ?"""
_LATENCIES_SQL = (
    "SELECT latency_ms FROM eval_results WHERE run_id = ? AND status IN ('pass', 'fail')"
    " AND latency_ms IS NOT NULL"
)

_to_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps's, made once, not per call


def summarise(conn: sqlite3.Connection, run_id: int) -> RunSummary:
    """The summary of a run's recorded results (see `RunSummary` for what each figure counts).

    Sums in SQL over the run's range of `eval_results`; the latency percentiles from that one
    column, sorted here (a few thousand values at most per run).
    """
    passed, failed, errored, mean, prompt, completion, cost, judge_cost = conn.execute(
        _SUMMARY_SQL, [run_id]
    ).fetchone()
    latencies = sorted(row[0] for row in conn.execute(_LATENCIES_SQL, [run_id]).fetchall())
    return RunSummary(
        passed=passed,
        failed=failed,
        errored=errored,
        mean_score=mean,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=cost,
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p95_ms=percentile(latencies, 0.95),
        judge_cost_usd=None if cost is None else judge_cost,
    )


def percentile(ordered: list[float], fraction: float) -> float | None:
    """The `fraction` quantile (0..1) of sorted values, interpolating linearly between the
    closest ranks (numpy's default method); None for no values."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (signal 0 probes without harm).

    On Windows signal 0 would terminate the process: there every process counts as alive.
    """
    if sys.platform == "win32":
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def check_result(result: CaseResult) -> None:
    """Refuse a result the table's constraints would refuse, with a message naming the case.

    Raises:
        ValueError: the status, score or repeat index is out of range.
    """
    where = f"case {result.case_id!r}"
    if result.status not in RESULT_STATUSES:
        raise ValueError(f"{where}: status {result.status!r} is not one of {RESULT_STATUSES}")
    if result.score is not None and not 0 <= result.score <= 1:
        raise ValueError(f"{where}: score {result.score} is outside 0..1")
    if result.repeat_index < 0:
        raise ValueError(f"{where}: repeat index {result.repeat_index} is negative")


def result_values(result: CaseResult) -> list[Any]:
    """The values of `RESULT_COLUMNS` for a result, in order."""
    return [
        result.case_id,
        result.repeat_index,
        result.status,
        result.score,
        int(result.critical),
        _tags_json(tuple(result.tags)),
        result.output_text,
        _to_json(result.scores),
        result.error,
        result.latency_ms,
        result.cost_usd,
        result.prompt_tokens,
        result.completion_tokens,
        int(result.cache_hit),
        result.call_id,
        result.finished_at,
        result.judge_cost_usd,
    ]


def suite_from_row(row: dict[str, Any]) -> StoredSuite:
    """A row of `eval_suites` as a record."""
    return StoredSuite(
        id=row["id"],
        name=row["name"],
        version=row["version"],
        format=row["format"],
        content=json.loads(row["content_json"]),
        case_count=row["case_count"],
        created_at=row["created_at"],
        path=row["path"],
        dataset_id=row["dataset_id"],
    )


def listing_from_row(row: dict[str, Any]) -> SuiteListing:
    """A row of `EvalStore.suites`' query as a record."""
    return SuiteListing(
        name=row["name"],
        latest_suite_id=row["id"],
        latest_version=row["version"],
        format=row["format"],
        case_count=row["case_count"],
        path=row["path"],
        versions=row["versions"],
        run_count=row["run_count"],
        last_run_at=row["last_run_at"],
    )


def run_from_row(row: dict[str, Any]) -> EvalRun:
    """A row of `RUN_COLUMNS` as a record (no summary while the run is running)."""
    summary = None
    if row["passed"] is not None:
        summary = RunSummary(**{column: row[column] for column in SUMMARY_COLUMNS})
    return EvalRun(
        id=row["id"],
        suite_id=row["suite_id"],
        suite_name=row["suite_name"],
        suite_version=row["version"],
        model=row["model"],
        profile=row["profile"],
        endpoint=row["endpoint"],
        params=json.loads(row["params_json"]),
        concurrency=row["concurrency"],
        repeats=row["repeats"],
        cases_total=row["cases_total"],
        status=row["status"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        pid=row["pid"],
        baseline_run_id=row["baseline_run_id"],
        is_baseline=bool(row["is_baseline"]),
        adapter_id=row["adapter_id"],
        summary=summary,
        resumed_at=row["resumed_at"],
        earlier_ms=row["earlier_ms"],
    )


RESULT_ROW_COLUMNS = ("id", "run_id", *(name.strip() for name in RESULT_COLUMNS.split(",")))
"""The columns `result_from_values` reads, in order: `id, run_id, RESULT_COLUMNS`."""


def result_from_row(row: dict[str, Any]) -> RecordedResult:
    """A row of `id, run_id, RESULT_COLUMNS` as a record."""
    return result_from_values([row[column] for column in RESULT_ROW_COLUMNS])


def result_from_values(values: Sequence[Any]) -> RecordedResult:
    """A row of `RESULT_ROW_COLUMNS` as a record, from its values in that order (a cursor's
    tuple: no dict made per row)."""
    result_id, run_id, case_id, repeat_index, status, score, critical, tags_json = values[:8]
    output_text, scores_json, error, latency_ms, cost_usd, prompt_tokens = values[8:14]
    completion_tokens, cache_hit, call_id, finished_at, judge_cost_usd = values[14:]
    return RecordedResult(
        id=result_id,
        run_id=run_id,
        case_id=case_id,
        repeat_index=repeat_index,
        status=status,
        score=score,
        critical=bool(critical),
        tags=_tags(tags_json),
        output_text=output_text,
        scores=json.loads(scores_json),
        error=error,
        latency_ms=latency_ms,
        cost_usd=cost_usd,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cache_hit=bool(cache_hit),
        call_id=call_id,
        finished_at=finished_at,
        judge_cost_usd=judge_cost_usd,
    )


@lru_cache(maxsize=1024)
def _tags_json(tags: tuple[str, ...]) -> str:
    """`tags` as `tags_json`: encoded once for each set of tags a suite's cases share."""
    return _to_json(list(tags))


@lru_cache(maxsize=1024)
def _tags(tags_json: str) -> tuple[str, ...]:
    """The tags of a `tags_json`: a suite's cases share a few sets of tags (a tuple is
    immutable: one is shared by every result with those tags)."""
    return tuple(json.loads(tags_json))
