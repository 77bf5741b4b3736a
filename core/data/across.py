"""Problems found between examples, once a file is read: exact and near duplicates,
repeated boilerplate answers, and examples far shorter or longer than the others.

Each function works from the compact arrays of an `ExampleIndex` and adds to a `ProblemList`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from core.data.examples import ExampleReader
from core.data.index import ExampleIndex
from core.data.neardup import verify, within_pairs
from core.data.problems import Problem, ProblemList
from core.data.quality import boilerplate, repeats
from core.data.stats import outliers

Indexes = npt.NDArray[np.int64]
_VERIFY_PAIRS = 1024  # candidate pairs whose examples are read and hashed together


def exact_duplicates(index: ExampleIndex, problems: ProblemList) -> Indexes:
    """Flag every repeat of an earlier example; return the examples that are no repeat."""
    line_of = index.lines
    later, first, _ = repeats(index.column("exact").astype(np.uint64, copy=False))
    for example, original in zip(later.tolist(), first.tolist(), strict=True):
        message = f"exact duplicate of line {line_of[original]} (ignoring case and spacing)"
        problems.add(
            Problem(line_of[example], "exact_duplicate", message, related_line=line_of[original])
        )
    unique = np.ones(len(index), dtype=bool)
    unique[later] = False
    return np.flatnonzero(unique)


def near_duplicates(
    index: ExampleIndex,
    members: Indexes,
    examples: ExampleReader,
    threshold: float,
    problems: ProblemList,
) -> None:
    """Flag each of `members` at least `threshold` similar to an earlier one (LSH, verified)."""
    pairs = within_pairs(index.band_columns(), members)
    line_of = index.lines
    for original, example, similarity in verified(pairs, index, examples, threshold):
        message = f"near-duplicate of line {line_of[original]} (similarity {similarity:.2f})"
        problems.add(
            Problem(line_of[example], "near_duplicate", message, related_line=line_of[original])
        )


def verified(
    pairs: Indexes, index: ExampleIndex, examples: ExampleReader, threshold: float
) -> list[tuple[int, int, float]]:
    """`verify` candidate `pairs` (sorted by later example), their examples read and hashed a
    chunk of pairs at a time: memory stays bounded whatever the number of candidates."""
    offsets, matches = index.offsets, []
    for chunk in _chunks_by_example(pairs, _VERIFY_PAIRS):
        examples.load_shingles(offsets[i] for i in np.unique(chunk).tolist())
        matches += verify(chunk, lambda i: examples.shingles(offsets[i]), threshold)
    return matches


def _chunks_by_example(pairs: Indexes, size: int) -> Iterator[Indexes]:
    """About `size` pairs at a time, never splitting the pairs of one later example."""
    start = 0
    while start < len(pairs):
        end = min(start + size, len(pairs))
        while end < len(pairs) and pairs[end, 1] == pairs[end - 1, 1]:
            end += 1
        yield pairs[start:end]
        start = end


def boilerplate_answers(index: ExampleIndex, members: Indexes, problems: ProblemList) -> None:
    """Flag the repeats of an answer (5 words or more) that several of `members` share."""
    answers = index.column("answers").astype(np.uint64, copy=False)
    line_of = index.lines
    found = boilerplate(answers, members)
    for example, first, size in zip(*(column.tolist() for column in found), strict=True):
        message = f"same answer as line {line_of[first]} ({size} examples share it)"
        problems.add(
            Problem(line_of[example], "boilerplate_answer", message, related_line=line_of[first])
        )


def length_outliers(index: ExampleIndex, problems: ProblemList) -> None:
    """Flag examples whose token count is far from the median (see `stats.outliers`)."""
    tokens = index.column("tokens").astype(np.uint32, copy=False)
    short, long, median = outliers(tokens)
    line_of = index.lines
    for kind, found, how in (("too_short", short, "below"), ("too_long", long, "above")):
        for example in found:
            message = f"{int(tokens[example]):,} tokens, far {how} the median {median:,.0f}"
            problems.add(Problem(line_of[example], kind, message))
