"""Recording checked and written files as dataset versions, with their lineage.

A checked file is a `source` version unless it is already known (same path and content): a
`train.jsonl` checked after a split keeps its role and parent. Outputs point at the version
they were made from.
"""

from __future__ import annotations

from pathlib import Path

from core.clock import iso, utc_now
from core.data.report import CheckReport, Summary, jsonable
from core.data.writing import WrittenFile
from storage.datasets import DatasetVersion, DatasetVersions, NewDatasetVersion
from storage.store import Store


def record_check(store: Store, report: CheckReport) -> DatasetVersion:
    """The version of a checked file: found by path and sha256 (its figures refreshed), or new."""
    version = NewDatasetVersion(
        path=str(Path(report.path).resolve()),
        sha256=report.sha256,
        role="source",
        size_bytes=report.size_bytes,
        lines=report.lines,
        examples=report.summary.examples,
        format=report.format,
        problems=len(report.problems),
        statistics=report.statistics(),
    )
    return DatasetVersions(store).record(version, iso(utc_now()))


def record_written(
    store: Store,
    written: WrittenFile,
    *,
    role: str,
    parent: DatasetVersion,
    summary: Summary | None = None,
    examples: int | None = None,
) -> DatasetVersion:
    """The version of a file tunedeck wrote from `parent` (`clean`, `train`, `heldout`, `suite`).

    Its figures are those of the examples written (`summary`); it has no problem count until
    it is checked itself.
    """
    statistics = {"format": parent.format, "summary": jsonable(summary)} if summary else {}
    version = NewDatasetVersion(
        path=str(written.path.resolve()),
        sha256=written.sha256,
        role=role,
        size_bytes=written.size_bytes,
        lines=written.lines,
        examples=examples if examples is not None else written.lines,
        format=parent.format if role != "suite" else None,
        statistics=statistics,
        parent_id=parent.id,
    )
    return DatasetVersions(store).record(version, iso(utc_now()))
