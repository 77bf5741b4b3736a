"""`clean_file`: a copy of a training file without its invalid lines and duplicates.

The input is checked, then read a second time and the lines to keep are copied as they are
(byte for byte, without a BOM or CR) into a temporary file renamed onto the output. The input
is never written; if it changed between the two reads, nothing is written at all. A JSON
report lists every dropped line with the kinds of problem that dropped it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.data.check import CheckOptions, ProgressCallback, check_file, open_input
from core.data.problems import FORMAT_KINDS, KINDS
from core.data.reader import LineReader
from core.data.report import CheckReport, Summary, summarize
from core.data.writing import AtomicWriter, WrittenFile, refuse_overwrite, write_text_atomically
from core.errors import BadInput

# Always dropped: a training file must parse, and duplicates and over-long examples only
# skew or waste training. Near-duplicates and any other kind are dropped on request.
ALWAYS_DROPPED = frozenset({*FORMAT_KINDS, "exact_duplicate", "too_many_tokens"})


@dataclass(frozen=True)
class CleanResult:
    """What `clean_file` did.

    Attributes:
        report: the check of the input.
        output: the cleaned file.
        report_file: the JSON list of dropped lines.
        kept: examples written.
        dropped: lines left out.
        dropped_by_kind: for each kind, how many dropped lines had it.
        summary: figures of the kept examples.
    """

    report: CheckReport
    output: WrittenFile
    report_file: WrittenFile
    kept: int
    dropped: int
    dropped_by_kind: dict[str, int]
    summary: Summary


def drop_kinds(near_duplicates: bool, extra: Iterable[str] = ()) -> frozenset[str]:
    """The kinds of problem that drop a line; `BadInput` names an unknown kind."""
    extra = list(extra)
    unknown = [kind for kind in extra if kind not in KINDS]
    if unknown:
        raise BadInput(f"unknown problem kind {unknown[0]!r}; kinds: {', '.join(KINDS)}")
    return ALWAYS_DROPPED | set(extra) | ({"near_duplicate"} if near_duplicates else set())


def clean_file(
    path: Path,
    output: Path,
    *,
    drop: frozenset[str] = ALWAYS_DROPPED,
    report_path: Path | None = None,
    options: CheckOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> CleanResult:
    """Check `path` and write its examples without the lines having a problem of `drop`.

    Raises:
        BadInput: `output` (or the report) would overwrite the input, a file cannot be read
            or written, or the input changed while it was being cleaned.
    """
    report_path = report_path or output.with_name(output.name + ".report.json")
    refuse_overwrite(path, output)
    refuse_overwrite(path, report_path)
    if report_path.resolve() == output.resolve():
        raise BadInput(f"{report_path}: the report and the output must be different files")
    report = check_file(path, options, progress=progress, cancel=cancel)
    dropped_lines = report.problems.lines_with(drop)
    lines = report.index.column("lines")
    keep = np.flatnonzero(~np.isin(lines, np.fromiter(dropped_lines, np.int64)))
    checked = options or CheckOptions()
    written = _copy_lines(path, output, report, lines[keep].tolist(), checked.max_line_bytes)
    by_line = report.problems.kinds_by_line(drop)
    counts = {kind: sum(kind in kinds for kinds in by_line.values()) for kind in KINDS}
    counts = {kind: count for kind, count in counts.items() if count}
    summary = summarize(
        report.index,
        keep,
        model=report.model,
        context=report.summary.context,
        tokens_exact=report.summary.tokens_exact,
        epochs=checked.epochs,
    )
    report_file = write_text_atomically(
        report_path, json.dumps(_report_json(report, written, by_line, counts), indent=2)
    )
    return CleanResult(report, written, report_file, len(keep), len(by_line), counts, summary)


def _copy_lines(
    path: Path, output: Path, report: CheckReport, keep: list[int], max_line_bytes: int
) -> WrittenFile:
    wanted = iter(keep)
    following = next(wanted, None)
    with open_input(path) as source, AtomicWriter(output) as writer:
        reader = LineReader(source, max_line_bytes)
        for raw in reader:
            if raw.number == following:
                writer.write_line(raw.data)
                following = next(wanted, None)
        if reader.sha256.hexdigest() != report.sha256:
            raise BadInput(f"{path}: changed while it was being cleaned; nothing written")
    assert writer.result is not None
    return writer.result


def _report_json(
    report: CheckReport,
    written: WrittenFile,
    by_line: dict[int, list[str]],
    counts: dict[str, int],
) -> dict[str, Any]:
    messages = report.problems.messages_by_line(set(by_line))
    return {
        "input": report.path,
        "input_sha256": report.sha256,
        "output": str(written.path),
        "output_sha256": written.sha256,
        "kept": written.lines,
        "dropped": len(by_line),
        "dropped_by_kind": counts,
        "dropped_lines": [
            {"line": line, "kinds": kinds, "messages": messages.get(line, [])}
            for line, kinds in sorted(by_line.items())
        ],
    }
