"""Reading a JSONL file as raw lines: in binary, streamed, with a cap on the length of a line.

A line longer than the cap is skipped in chunks up to its newline and reported as too long,
never held whole in memory. A UTF-8 byte order mark on the first line and CRLF endings are
removed; decoding is left to the caller, which reports invalid UTF-8 with its line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

BOM = b"\xef\xbb\xbf"
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
_SKIP_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawLine:
    """One line of the file.

    Attributes:
        number: 1-based line number.
        offset: byte offset of the line's first byte in the file.
        size: bytes the line takes in the file, its ending included.
        data: the line without BOM and ending; empty when `too_long`.
        too_long: the line exceeded the cap and was skipped.
        length: for a line too long, its bytes without the newline.
    """

    number: int
    offset: int
    size: int
    data: bytes
    too_long: bool = False
    length: int = 0


class LineReader:
    """Iterates over the lines of a binary file; also hashes it and counts what it removed.

    Attributes:
        sha256: hash object fed with every byte read (the whole file once iteration ends).
        bytes_read: bytes read so far.
        bom: whether the file starts with a UTF-8 byte order mark.
        crlf_lines: how many lines ended with CRLF.
    """

    def __init__(self, file: BinaryIO, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._file = file
        self._cap = max_line_bytes
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0
        self.bom = False
        self.crlf_lines = 0
        self._ended = 0

    def __iter__(self) -> Iterator[RawLine]:
        readline, update = self._file.readline, self.sha256.update
        number = 0
        while True:
            chunk = readline(self._cap + 1)
            if not chunk:
                return
            number += 1
            update(chunk)
            offset = self.bytes_read
            self.bytes_read += len(chunk)
            if number == 1 and chunk == BOM:  # a byte order mark alone: an empty file
                self.bom = True
                return
            if len(chunk) > self._cap and not chunk.endswith(b"\n"):
                size, chunk = len(chunk), b""  # let go of the cap's worth of bytes first
                size, ended = size + self._skip_rest(), self._ended
                yield RawLine(number, offset, size, b"", True, size - ended)
                continue
            yield RawLine(number, offset, len(chunk), self._strip(chunk, number))

    def _skip_rest(self) -> int:
        """Read and drop the rest of an overlong line, chunk by chunk; return its size."""
        skipped, self._ended = 0, 0
        while True:
            chunk = self._file.readline(_SKIP_CHUNK)
            if not chunk:
                return skipped
            self.sha256.update(chunk)
            skipped += len(chunk)
            self.bytes_read += len(chunk)
            if chunk.endswith(b"\n"):
                self._ended = 1
                return skipped

    def _strip(self, chunk: bytes, number: int) -> bytes:
        if chunk.endswith(b"\n"):
            chunk = chunk[:-1]
            if chunk.endswith(b"\r"):
                chunk = chunk[:-1]
                self.crlf_lines += 1
        if number == 1 and chunk.startswith(BOM):
            self.bom = True
            chunk = chunk[len(BOM) :]
        return chunk


def read_line_at(
    file: BinaryIO, offset: int, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> bytes:
    """The line starting at byte `offset`, stripped as `LineReader` strips it."""
    file.seek(offset)
    chunk = file.readline(max_line_bytes + 1)
    if chunk.endswith(b"\n"):
        chunk = chunk[:-1]
    if chunk.endswith(b"\r"):
        chunk = chunk[:-1]
    if offset == 0 and chunk.startswith(BOM):
        chunk = chunk[len(BOM) :]
    return chunk
