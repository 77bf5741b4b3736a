"""Generated training files for the data tests: valid examples, and lines with known problems.

`Corpus` collects lines and, for each, the problem kinds it must get, so that a test compares
a check's findings with exact line numbers.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "zen", "qua", "str", "ph", "ion"]


def vocabulary(seed: int = 7, size: int = 4000) -> list[str]:
    """Distinct pseudo-words, so that random texts share almost no 3-word runs."""
    rng = random.Random(seed)
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))))
    return sorted(words)


@dataclass
class Corpus:
    """Lines of a JSONL file and the problems expected on each (1-based line numbers)."""

    seed: int = 1
    lines: list[bytes] = field(default_factory=list)
    expected: Counter[tuple[int, str]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.words = vocabulary(self.seed)

    def text(self, count: int) -> str:
        """`count` random words."""
        return " ".join(self.rng.choice(self.words) for _ in range(count))

    def chat(
        self, user: str | None = None, answer: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A valid chat example of typical, varied length."""
        user = user if user is not None else self.text(self.rng.randint(12, 60))
        answer = answer if answer is not None else self.text(self.rng.randint(12, 60))
        messages = [
            {"role": "system", "content": "You answer questions."},
            {"role": "user", "content": user},
            {"role": "assistant", "content": answer},
        ]
        return {"messages": messages, **extra}

    def add(self, line: dict[str, Any] | list[Any] | str | bytes, *kinds: str) -> int:
        """Append a line (an object is written as JSON) expecting `kinds`; return its number."""
        if isinstance(line, bytes):
            data = line
        elif isinstance(line, str):
            data = line.encode()
        else:
            data = json.dumps(line, ensure_ascii=False).encode()
        self.lines.append(data)
        number = len(self.lines)
        for kind in kinds:
            self.expected[(number, kind)] += 1
        return number

    def write(self, path: Path, ending: bytes = b"\n", bom: bool = False) -> Path:
        """Write the lines to `path`, each followed by `ending`."""
        body = b"".join(line + ending for line in self.lines)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body)
        return path


def found(report: Any) -> Counter[tuple[int, str]]:
    """The (line, kind) pairs a check reported, with their multiplicity."""
    return Counter((problem.line, problem.kind) for problem in report.problems.details())
