"""The files a suite is read from, and the problems found in them.

Every file a suite reads (its own, and the `file://` prompts, tests, schemas and scorers it
names) goes through `Sources`, which resolves names relative to the suite's folder and keeps
each file's bytes for the suite's version hash.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MAX_FILE_BYTES = 64 * 1024 * 1024
"""A suite file (or a file it reads) above this size is refused rather than read."""


class SuiteProblem(ValueError):
    """What is wrong with a suite, and where: the loader turns it into one BadInput line."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        case: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.file = file
        self.line = line
        self.case = case

    def located(
        self, *, file: str | None = None, line: int | None = None, case: str | None = None
    ) -> SuiteProblem:
        """This problem with the missing parts of its location filled in."""
        return SuiteProblem(
            self.reason,
            file=self.file or file,
            line=self.line if self.line is not None else line,
            case=self.case or case,
        )

    def message(self) -> str:
        """`file:line: case id: reason`, leaving out the parts that are unknown."""
        where = self.file or "suite"
        if self.line is not None:
            where += f":{self.line}"
        case = f"case {self.case}: " if self.case else ""
        return " ".join(f"{where}: {case}{self.reason}".splitlines())  # always one line


class Sources:
    """The suite's main file and the files it names, read once each, hashed in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base_dir = path.parent
        self.display = str(path)
        self._read: dict[Path, bytes] = {}
        self.data = self._read_file(path, self.display)
        self._read[path.resolve()] = self.data

    def text(self) -> str:
        """The main file as text."""
        return self.decode(self.data, self.display)

    def resolve(self, reference: str) -> Path:
        """The path a `file://` reference (or a plain relative path) names."""
        name = reference.removeprefix("file://")
        path = Path(os.path.expanduser(name))
        return path if path.is_absolute() else self.base_dir / path

    def relative_name(self, path: Path) -> str:
        """A file's name relative to the suite's folder (absolute if outside): stable, for the
        version hash and labels, whatever the folder the suite was loaded from."""
        try:
            return path.resolve().relative_to(self.base_dir.resolve()).as_posix()
        except ValueError:
            return str(path)

    def name_of(self, path: Path) -> str:
        """How messages name a file the suite reads: as the user could open it from where they
        named the suite (`evals/tests.csv` for a suite loaded as `evals/suite.yaml`)."""
        try:
            inside = path.resolve().relative_to(self.base_dir.resolve())
        except ValueError:
            return str(path)
        return str(Path(self.display).parent / inside)

    def read_bytes(self, path: Path) -> bytes:
        """The bytes of a file the suite names (read once, remembered for the version)."""
        key = path.resolve()
        if key not in self._read:
            self._read[key] = self._read_file(path, self.name_of(path))
        return self._read[key]

    def read_text(self, path: Path) -> str:
        """A file the suite names, as UTF-8 text."""
        return self.decode(self.read_bytes(path), self.name_of(path))

    def glob(self, reference: str) -> list[Path]:
        """The files a `file://` reference with `*`, `?` or `[` names, sorted; at least one."""
        pattern = reference.removeprefix("file://")
        base = Path(os.path.expanduser(pattern))
        anchor = Path(base.anchor) if base.is_absolute() else self.base_dir
        relative = str(base.relative_to(base.anchor)) if base.is_absolute() else pattern
        try:
            found = sorted(path for path in anchor.glob(relative) if path.is_file())
        except (ValueError, OSError) as error:
            raise SuiteProblem(f"{reference}: {error}") from None
        if not found:
            raise SuiteProblem(f"{reference}: no file matches")
        return found

    def version(self) -> str:
        """sha256 hex of the main file's bytes, then of each other file's name and bytes."""
        digest = hashlib.sha256(self.data)
        main = self.path.resolve()
        for path, data in self._read.items():
            if path == main:
                continue
            name = self.relative_name(path).encode()
            digest.update(len(name).to_bytes(8, "big") + name)
            digest.update(len(data).to_bytes(8, "big") + data)
        return digest.hexdigest()

    @staticmethod
    def decode(data: bytes, name: str) -> str:
        """`data` as UTF-8 text (a BOM is dropped)."""
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            byte = data[error.start]
            raise SuiteProblem(f"not UTF-8 text (byte {byte:#04x})", file=name, line=line) from None

    @staticmethod
    def _read_file(path: Path, name: str) -> bytes:
        try:
            size = path.stat().st_size
            if path.is_dir():
                raise SuiteProblem("is a folder, not a file", file=name)
            if size > MAX_FILE_BYTES:
                raise SuiteProblem(
                    f"is {size / 2**20:.0f} MiB; suites are limited to "
                    f"{MAX_FILE_BYTES // 2**20} MiB",
                    file=name,
                )
            return path.read_bytes()
        except FileNotFoundError:
            raise SuiteProblem("no such file", file=name) from None
        except OSError as error:
            raise SuiteProblem(f"cannot be read ({error.strerror})", file=name) from None


def jsonl_lines(text: str) -> list[str]:
    """The lines of a JSONL text: split at line feeds only. `str.splitlines` also splits at
    U+2028, U+2029, NEL and other separators that JSON allows unescaped inside a string."""
    return text.split("\n")
