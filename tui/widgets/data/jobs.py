"""Check, clean and split as the pane runs them (in thread workers): the core functions, then
the dataset versions recorded, as the command line does; and their outcome, for people."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text

from core.data import (
    CheckOptions,
    CheckReport,
    CleanResult,
    SplitResult,
    check_file,
    clean_file,
    drop_kinds,
    split_file,
)
from core.data.check import ProgressCallback
from core.data.lineage import record_check, record_written
from storage.datasets import DatasetVersion
from storage.store import Store
from tui.text import inert
from tui.widgets.data.dialogs import CleanRequest, SplitRequest
from tui.widgets.data.paths import display_path

LEAKS_LISTED = 10


@dataclass(frozen=True)
class Checked:
    """A check's report and the version it was recorded as."""

    report: CheckReport
    version: DatasetVersion


def run_check(
    store: Store,
    path: Path,
    options: CheckOptions,
    progress: ProgressCallback,
    cancel: threading.Event,
) -> Checked:
    """Check `path` and record it as a dataset version."""
    report = check_file(path, options, progress=progress, cancel=cancel)
    report.problems.details()  # sorted here, off the event loop
    return Checked(report, record_check(store, report))


def run_clean(
    store: Store,
    path: Path,
    request: CleanRequest,
    options: CheckOptions,
    progress: ProgressCallback,
    cancel: threading.Event,
) -> CleanResult:
    """Clean `path` into `request.output`, recording both files and their lineage."""
    result = clean_file(
        path,
        request.output,
        drop=drop_kinds(request.near_duplicates, []),
        options=options,
        progress=progress,
        cancel=cancel,
    )
    source = record_check(store, result.report)
    record_written(store, result.output, role="clean", parent=source, summary=result.summary)
    return result


def run_split(
    store: Store,
    path: Path,
    request: SplitRequest,
    options: CheckOptions,
    progress: ProgressCallback,
    cancel: threading.Event,
) -> SplitResult:
    """Split `path` as `request` asks, recording the input, both parts and the suite."""
    result = split_file(
        path,
        request.out_dir,
        holdout=request.holdout,
        seed=request.seed,
        stratify_by=request.stratify_by,
        move_leaks=request.move_leaks,
        suite_name=request.suite_name,
        options=options,
        progress=progress,
        cancel=cancel,
    )
    source = record_check(store, result.report)
    record_written(store, result.train, role="train", parent=source, summary=result.train_summary)
    heldout = record_written(
        store, result.heldout, role="heldout", parent=source, summary=result.heldout_summary
    )
    if result.suite is not None:
        cases = result.suite_cases
        record_written(store, result.suite, role="suite", parent=heldout, examples=cases)
    return result


def clean_outcome(result: CleanResult) -> Text:
    """What a clean wrote and dropped."""
    text = Text()
    text.append(f"wrote {inert(display_path(result.output.path))}", style="bold")
    text.append(f": kept {result.kept:,}, dropped {result.dropped:,}\n")
    for kind, count in result.dropped_by_kind.items():
        text.append(f"  {kind}: {count:,}\n")
    text.append(f"report of dropped lines: {inert(display_path(result.report_file.path))}")
    return text


def split_outcome(result: SplitResult) -> Text:
    """What a split wrote, and the leakage report."""
    text = Text()
    text.append(f"train {inert(display_path(result.train.path))}", style="bold")
    text.append(f": {result.train_summary.examples:,} examples\n")
    text.append(f"held out {inert(display_path(result.heldout.path))}", style="bold")
    text.append(f": {result.heldout_summary.examples:,} examples\n")
    if result.suite is not None:
        suite = inert(display_path(result.suite.path))
        text.append(f"suite {suite}: {result.suite_cases:,} cases\n")
    if result.skipped_lines:
        text.append(f"{result.skipped_lines:,} invalid lines left out\n")
    text.append_text(_leaks(result))
    return text


def _leaks(result: SplitResult) -> Text:
    if not result.leaks:
        return Text("no leakage: no held-out example duplicates a training one", style="green")
    verb = "moved to train" if result.moved else "left in held-out"
    text = Text(f"{len(result.leaks):,} leaked examples ({verb}):\n", style="bold yellow")
    for leak in result.leaks[:LEAKS_LISTED]:
        text.append(
            f"  held-out line {leak.heldout_line} ~ train line {leak.train_line}"
            f" · {leak.kind} · similarity {leak.similarity:.2f}\n"
        )
    if len(result.leaks) > LEAKS_LISTED:
        text.append(f"  … and {len(result.leaks) - LEAKS_LISTED:,} more\n")
    return text
