"""From a raw line to an example: decoding, JSON, format detection and validation.

Shared by the streaming check and by the random access that verifies near-duplicate
candidates, re-reads examples for a split, or shows one example in full.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from core.data.fingerprint import fingerprints
from core.data.formats import CHAT, Example, detect, validate
from core.data.neardup import UInt32s, shingles
from core.data.problems import Problem
from core.data.reader import DEFAULT_MAX_LINE_BYTES, read_line_at

_SHINGLE_CACHE_SIZE = 4096
_HASH_BATCH = 1024  # examples fingerprinted together by `load_shingles`
_NO_SHINGLES = np.empty(0, dtype=np.uint32)


def parse_object(data: bytes, line: int) -> tuple[dict[str, Any] | None, Problem | None]:
    """Decode and parse one line: the JSON object, or the format problem that stops it."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"invalid UTF-8 at byte {error.start + 1} of the line"
        return None, Problem(line, "invalid_utf8", message)
    if not text.strip():
        return None, Problem(line, "blank_line", "blank line")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as error:
        message = f"invalid JSON at column {error.colno}: {error.msg}"
        return None, Problem(line, "invalid_json", message)
    except RecursionError:
        return None, Problem(line, "invalid_json", "invalid JSON: nested too deeply")
    except ValueError as error:  # e.g. an integer over Python's 4,300-digit limit
        return None, Problem(line, "invalid_json", f"invalid JSON: {str(error)[:80]}")
    if not isinstance(obj, dict):
        message = f"expected a JSON object, found {_json_type(obj)}"
        return None, Problem(line, "not_object", message)
    return obj, None


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def to_example(
    obj: dict[str, Any], fmt: str | None, line: int, offset: int
) -> tuple[Example | None, list[Problem]]:
    """Validate `obj` against the file's format (chat when none is known yet)."""
    return validate(obj, fmt or detect(obj) or CHAT, line, offset)


class ExampleReader:
    """Random access to the examples of a file by byte offset; use as a context manager."""

    def __init__(
        self, path: Path, fmt: str | None, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    ) -> None:
        self._file = path.open("rb")
        self._format = fmt
        self._cap = max_line_bytes
        self._shingles: dict[int, UInt32s] = {}

    def __enter__(self) -> ExampleReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._file.close()

    def line(self, offset: int) -> bytes:
        """The raw line at `offset` (without BOM or line ending)."""
        return read_line_at(self._file, offset, self._cap)

    def example(self, offset: int, line: int = 0) -> Example | None:
        """The example at `offset`, or None if that line no longer holds a valid one."""
        obj, _ = parse_object(self.line(offset), line)
        if obj is None:
            return None
        example, _ = to_example(obj, self._format, line, offset)
        return example

    def shingles(self, offset: int) -> UInt32s:
        """The shingle set of the example at `offset` (cached; empty if it is gone)."""
        found = self._shingles.get(offset)
        if found is None:
            example = self.example(offset)
            found = _NO_SHINGLES if example is None else shingles(fingerprints([example]).words)
            if len(self._shingles) >= _SHINGLE_CACHE_SIZE:
                self._shingles.clear()
            self._shingles[offset] = found
        return found

    def load_shingles(self, offsets: Iterable[int]) -> None:
        """Read the examples at `offsets` in file order and keep their shingle sets, hashed
        in batches (a quarter of the time of one by one); what was kept before is dropped."""
        self._shingles.clear()
        found: list[Example] = []
        for offset in sorted(offsets):
            example = self.example(offset)
            if example is None:
                self._shingles[offset] = _NO_SHINGLES
            else:
                found.append(example)
        for start in range(0, len(found), _HASH_BATCH):
            batch = found[start : start + _HASH_BATCH]
            prints = fingerprints(batch)
            counts = prints.word_counts.tolist()
            ends = np.cumsum(prints.word_counts).tolist()
            for example, end, count in zip(batch, ends, counts, strict=True):
                self._shingles[example.offset] = shingles(prints.words[end - count : end])
