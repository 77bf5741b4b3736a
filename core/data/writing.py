"""Writing output files atomically: a temporary file beside the target, then `os.replace`.

A reader never sees a half-written file, a failure leaves the old file (if any) as it was,
and an output that is the input itself is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from core.errors import BadInput


@dataclass(frozen=True)
class WrittenFile:
    """A file written by tunedeck: where, its sha256, size, lines and examples."""

    path: Path
    sha256: str
    size_bytes: int
    lines: int


def refuse_overwrite(source: Path, target: Path) -> None:
    """Raise `BadInput` when writing `target` would overwrite `source` (same file or link)."""
    same = target.resolve() == source.resolve()
    if not same and target.exists():
        with contextlib.suppress(OSError):
            same = os.path.samefile(source, target)
    if same:
        raise BadInput(f"{target}: is the input file; write the output somewhere else")


class AtomicWriter:
    """Lines written to a temporary file, renamed onto `path` only when all went well."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sha256 = hashlib.sha256()
        self._size = 0
        self._lines = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
            )
        except OSError as error:
            raise BadInput(f"{path}: cannot be written: {error.strerror or error}") from None
        self._temporary = Path(temporary)
        self._file = os.fdopen(descriptor, "wb")
        self.result: WrittenFile | None = None

    def write_line(self, data: bytes) -> None:
        """Write one line; `data` has no line ending (a newline is added)."""
        line = data + b"\n"
        self._file.write(line)
        self._sha256.update(line)
        self._size += len(line)
        self._lines += 1

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is not None:
            self.discard()
            return
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.chmod(self._temporary, 0o644)
            os.replace(self._temporary, self.path)
        except OSError as failure:
            self.discard()
            raise BadInput(
                f"{self.path}: cannot be written: {failure.strerror or failure}"
            ) from None
        self.result = WrittenFile(self.path, self._sha256.hexdigest(), self._size, self._lines)

    def discard(self) -> None:
        """Close and delete the temporary file; the target is left untouched."""
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._temporary.unlink()


def write_text_atomically(path: Path, text: str) -> WrittenFile:
    """Write a whole text file atomically (a report, for instance), its lines ended by `\n`.

    Lines are split at `\n` only: U+2028, U+0085 and the like are text, kept as they are."""
    with AtomicWriter(path) as writer:
        for line in text.removesuffix("\n").split("\n") if text else []:
            writer.write_line(line.encode("utf-8"))
    assert writer.result is not None
    return writer.result
