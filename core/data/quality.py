"""Quality checks across a dataset: exact duplicates, repeated boilerplate answers, refusals.

Duplicates are found from compact arrays of 64-bit hashes (one per example), sorted once at
the end of a check: memory stays a few bytes per example whatever the file size.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

MIN_BOILERPLATE_REPEATS = 3
_REFUSAL = re.compile(
    r"(?i)\b(?:I(?:'|’)?m\s+sorry,?\s+but\s+I\s+(?:can(?:'|’)?t|cannot|am\s+unable|won(?:'|’)?t)"
    r"|I\s+(?:can(?:'|’)?t|cannot|am\s+unable\s+to|won(?:'|’)?t)\s+"
    r"(?:help|assist|comply|provide|do\s+that|fulfil+)"
    r"|as\s+an\s+AI(?:\s+language\s+model)?,?\s+I)"
)
_REFUSAL_HINTS = ("sorry", "can't", "can’t", "cannot", "unable", "won't", "won’t", "as an ai")

Hashes = npt.NDArray[np.uint64]
Indexes = npt.NDArray[np.int64]


def refusal(answer: str) -> re.Match[str] | None:
    """The refusal phrasing in an assistant answer, if it has one."""
    lowered = answer[:2000].lower()
    if not any(hint in lowered for hint in _REFUSAL_HINTS):
        return None
    return _REFUSAL.search(answer[:2000])


def repeats(hashes: Hashes, members: Indexes | None = None) -> tuple[Indexes, Indexes, Indexes]:
    """Examples whose hash an earlier example has.

    Returns three aligned arrays: the repeating example, the first example with that hash,
    and how many examples share it (ordered by hash, then example). Only `members` take part
    when given; hash 0 never does. Memory: an argsort and one sorted copy of the hashes.
    """
    if members is None:
        order = np.argsort(hashes, kind="stable")
    else:
        order = members[np.argsort(hashes[members], kind="stable")]
    values = hashes[order]
    unhashed = int(np.searchsorted(values, 0, side="right"))  # 0 sorts first
    values, order = values[unhashed:], order[unhashed:]
    later = np.flatnonzero(values[1:] == values[:-1]) + 1
    repeated = values[later]
    first = np.searchsorted(values, repeated, side="left")
    sizes = np.searchsorted(values, repeated, side="right") - first
    return order[later], order[first], sizes.astype(np.int64)


def boilerplate(answers: Hashes, members: Indexes) -> tuple[Indexes, Indexes, Indexes]:
    """Like `repeats` over answer hashes, keeping answers shared by enough examples."""
    example, first, sizes = repeats(answers, members)
    common = sizes >= MIN_BOILERPLATE_REPEATS
    return example[common], first[common], sizes[common]
