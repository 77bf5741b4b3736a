"""`split_file`: a deterministic train / held-out split, optionally stratified, checked for
leakage, and optionally written as an evaluation suite too.

The same file, seed and options give byte-identical outputs: examples are drawn with
`random.Random(seed)` (whose sequence Python keeps stable), per stratum in sorted order, and
written in the input's order as the input's own bytes. A held-out example leaks when it is an
exact or near duplicate of a training example; leaks are listed, or moved to train.
"""

from __future__ import annotations

import json
import random
import threading
from array import array
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from core.data.across import verified
from core.data.check import CheckOptions, ProgressCallback, check_file, open_input
from core.data.examples import ExampleReader, parse_object
from core.data.neardup import cross_pairs
from core.data.reader import LineReader
from core.data.report import CheckReport, Summary, summarize
from core.data.suite import CaseIds, suite_case, suite_header
from core.data.writing import AtomicWriter, WrittenFile, refuse_overwrite
from core.errors import BadInput

TRAIN_FILE, HELDOUT_FILE = "train.jsonl", "heldout.jsonl"
_MAX_LEAK_ROUNDS = 10

Indexes = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Leak:
    """A held-out example too close to a training example."""

    heldout_line: int
    train_line: int
    kind: str
    """`exact_duplicate` or `near_duplicate`."""
    similarity: float


@dataclass(frozen=True)
class SplitResult:
    """What `split_file` wrote and found.

    Attributes:
        report: the check of the input.
        train, heldout: the written files.
        suite: the evaluation suite, when asked for.
        suite_cases: cases in the suite; `suite_skipped` examples had no usable answer.
        train_summary, heldout_summary: figures of each part.
        leaks: held-out examples duplicating training ones (those left in held-out, or
            moved when `moved` is true).
        moved: the leaks were moved to train.
        skipped_lines: lines of the input that are not valid examples (left out).
        strata: for a stratified split, (train, held-out) examples per stratum value.
        heldout_lines: the input lines held out (after any move), in order.
    """

    report: CheckReport
    train: WrittenFile
    heldout: WrittenFile
    suite: WrittenFile | None
    suite_cases: int
    suite_skipped: int
    train_summary: Summary
    heldout_summary: Summary
    leaks: list[Leak]
    moved: bool
    skipped_lines: int
    strata: dict[str, tuple[int, int]]
    heldout_lines: array[int]


def split_file(
    path: Path,
    out_dir: Path,
    *,
    holdout: float,
    seed: int,
    stratify_by: str | None = None,
    move_leaks: bool = False,
    suite_name: str | None = None,
    options: CheckOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> SplitResult:
    """Split the valid examples of `path` into `out_dir`/train.jsonl and heldout.jsonl.

    Args:
        holdout: fraction of each stratum held out, above 0 and below 1.
        seed: the seed of the draw.
        stratify_by: dotted key whose values are held out in equal proportion.
        move_leaks: move leaked held-out examples to train.
        suite_name: also write the held-out part as `out_dir`/NAME.suite.jsonl, a suite
            named NAME (`core.data.suite`: case ids follow the examples' content).
    """
    if not 0 < holdout < 1:
        raise BadInput(f"holdout {holdout}: must be above 0 and below 1")
    targets = [out_dir / TRAIN_FILE, out_dir / HELDOUT_FILE]
    if suite_name is not None:
        targets.append(out_dir / suite_file_name(suite_name))
    for target in targets:
        refuse_overwrite(path, target)
    options = options or CheckOptions()
    if stratify_by != options.stratify_by:
        options = replace(options, stratify_by=stratify_by)
    report = check_file(path, options, progress=progress, cancel=cancel)
    heldout = _draw(report, holdout, seed)
    leaks = _find_leaks(report, heldout, options, move_leaks)
    written = _write(report, heldout, targets, suite_name, options.max_line_bytes)
    members = np.arange(len(report.index), dtype=np.int64)
    summaries = [
        summarize(
            report.index,
            members[mask],
            model=report.model,
            context=report.summary.context,
            tokens_exact=report.summary.tokens_exact,
            epochs=options.epochs,
        )
        for mask in (~heldout, heldout)
    ]
    return SplitResult(
        report=report,
        train=written.train,
        heldout=written.heldout,
        suite=written.suite,
        suite_cases=written.suite_cases,
        suite_skipped=written.suite_skipped,
        train_summary=summaries[0],
        heldout_summary=summaries[1],
        leaks=leaks,
        moved=move_leaks,
        skipped_lines=report.lines - len(report.index),
        strata=_strata(report, heldout) if stratify_by else {},
        heldout_lines=array("I", report.index.column("lines")[heldout].tolist()),
    )


def suite_file_name(name: str) -> str:
    """The file a suite named `name` is written to; `BadInput` for a name that is a path."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise BadInput(f"suite name {name!r}: use a plain name (letters, digits, - and _)")
    return f"{name}.suite.jsonl"


def _draw(report: CheckReport, holdout: float, seed: int) -> npt.NDArray[np.bool_]:
    """Which examples are held out: round(holdout x size) of each stratum, drawn by `seed`."""
    index = report.index
    count = len(index)
    heldout = np.zeros(count, dtype=bool)
    rng = random.Random(seed)
    if len(index.keys):
        keys = index.column("keys")
        order = sorted(
            range(len(index.key_names)), key=lambda i: _stratum_order(index.key_names[i])
        )
        groups = [np.flatnonzero(keys == key_id) for key_id in order]
    else:
        groups = [np.arange(count)]
    for group in groups:
        chosen = rng.sample(range(len(group)), round(len(group) * holdout))
        heldout[group[sorted(chosen)]] = True
    return heldout


def _stratum_order(value: str | None) -> tuple[bool, str]:
    return value is None, value or ""


def _find_leaks(
    report: CheckReport, heldout: npt.NDArray[np.bool_], options: CheckOptions, move: bool
) -> list[Leak]:
    """Leaks of held-out examples into train; with `move`, moved until none is left."""
    found: list[Leak] = []
    for _ in range(_MAX_LEAK_ROUNDS):
        leaks = _exact_leaks(report, heldout) + _near_leaks(report, heldout, options)
        found += leaks
        if not move or not leaks:
            break
        lines = report.index.column("lines")
        heldout[np.searchsorted(lines, [leak.heldout_line for leak in leaks])] = False
    return sorted(found, key=lambda leak: leak.heldout_line)


def _exact_leaks(report: CheckReport, heldout: npt.NDArray[np.bool_]) -> list[Leak]:
    exact = report.index.column("exact")
    train, held = np.flatnonzero(~heldout), np.flatnonzero(heldout)
    if not len(train) or not len(held):
        return []
    ordered = train[np.argsort(exact[train], kind="stable")]  # earliest first among equals
    hashes = exact[ordered]
    at = np.minimum(np.searchsorted(hashes, exact[held]), len(hashes) - 1)
    leaked = hashes[at] == exact[held]
    lines = report.index.lines
    return [
        Leak(lines[example], lines[partner], "exact_duplicate", 1.0)
        for example, partner in zip(
            held[leaked].tolist(), ordered[at[leaked]].tolist(), strict=True
        )
    ]


def _near_leaks(
    report: CheckReport, heldout: npt.NDArray[np.bool_], options: CheckOptions
) -> list[Leak]:
    if not options.near_duplicates:
        return []
    exact = report.index.column("exact")
    train = np.flatnonzero(~heldout)
    held = np.flatnonzero(heldout)
    held = held[~np.isin(exact[held], exact[train])]  # exact leaks are reported as such
    pairs = cross_pairs(report.index.band_columns(), train, held)
    lines = report.index.lines
    with ExampleReader(Path(report.path), report.format, options.max_line_bytes) as examples:
        matches = verified(pairs, report.index, examples, options.near_threshold)
    return [
        Leak(lines[example], lines[partner], "near_duplicate", similarity)
        for partner, example, similarity in matches
    ]


@dataclass(frozen=True)
class _Written:
    train: WrittenFile
    heldout: WrittenFile
    suite: WrittenFile | None
    suite_cases: int
    suite_skipped: int


def _write(
    report: CheckReport,
    heldout: npt.NDArray[np.bool_],
    targets: list[Path],
    suite_name: str | None,
    max_line_bytes: int,
) -> _Written:
    """Copy each valid example to train or held-out (and the suite), in file order."""
    path = Path(report.path)
    sides = iter(zip(report.index.lines, heldout.tolist(), strict=True))
    following, side = next(sides, (0, False))
    cases = skipped = 0
    with open_input(path) as source, ExitStack() as stack:
        train, held = (stack.enter_context(AtomicWriter(target)) for target in targets[:2])
        suite = stack.enter_context(AtomicWriter(targets[2])) if suite_name else None
        if suite is not None and suite_name is not None:
            suite.write_line(_json_line(suite_header(suite_name)))
        ids = CaseIds(suite_name or "")
        reader = LineReader(source, max_line_bytes)
        for raw in reader:
            if raw.number != following:
                continue
            (held if side else train).write_line(raw.data)
            if side and suite is not None:
                written = _write_case(suite, raw.data, raw.number, report.format, ids)
                cases, skipped = cases + written, skipped + (not written)
            following, side = next(sides, (0, False))
        if reader.sha256.hexdigest() != report.sha256:
            raise BadInput(f"{path}: changed while it was being split; nothing written")
    assert train.result is not None and held.result is not None
    return _Written(train.result, held.result, suite.result if suite else None, cases, skipped)


def _write_case(suite: AtomicWriter, data: bytes, line: int, fmt: str | None, ids: CaseIds) -> bool:
    obj, _ = parse_object(data, line)
    case = suite_case(obj, fmt or "", "") if obj is not None else None
    if case is None:
        return False
    case["id"] = ids.next(case["messages"])
    suite.write_line(_json_line(case))
    return True


def _json_line(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _strata(report: CheckReport, heldout: npt.NDArray[np.bool_]) -> dict[str, tuple[int, int]]:
    keys = report.index.column("keys")
    result = {}
    for key_id, value in enumerate(report.index.key_names):
        members = keys == key_id
        held = int((members & heldout).sum())
        name = "(missing)" if value is None else value
        result[name] = (int(members.sum()) - held, held)
    return result
