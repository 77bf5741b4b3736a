"""What can be wrong with a training file: problem kinds, their categories, and the problem list.

Every problem names its line (1-based, as an editor shows it), a kind, and a one-line message.
Safety problems also carry where in the example the text is (`messages[2].content`) and the
character span in that text; the text itself is never altered, and a secret is never repeated
whole in a message or an excerpt.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FORMAT = "format"
LIMITS = "limits"
QUALITY = "quality"
SAFETY = "safety"
CATEGORIES = (FORMAT, LIMITS, QUALITY, SAFETY)

# Every kind with its category, in the order a report lists them for one line.
KINDS: dict[str, str] = {
    "empty_file": FORMAT,
    "line_too_long": FORMAT,
    "invalid_utf8": FORMAT,
    "blank_line": FORMAT,
    "invalid_json": FORMAT,
    "not_object": FORMAT,
    "wrong_format": FORMAT,
    "missing_messages": FORMAT,
    "bad_message": FORMAT,
    "unknown_role": FORMAT,
    "missing_content": FORMAT,
    "unknown_key": FORMAT,
    "bad_weight": FORMAT,
    "bad_tool_calls": FORMAT,
    "no_assistant": FORMAT,
    "assistant_not_last": FORMAT,
    "too_many_tokens": LIMITS,
    "exact_duplicate": QUALITY,
    "near_duplicate": QUALITY,
    "too_short": QUALITY,
    "too_long": QUALITY,
    "boilerplate_answer": QUALITY,
    "refusal": QUALITY,
    "secret": SAFETY,
    "email": SAFETY,
    "phone": SAFETY,
    "prompt_injection": SAFETY,
}
KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}
FORMAT_KINDS = frozenset(kind for kind, category in KINDS.items() if category == FORMAT)


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a training file.

    Attributes:
        line: 1-based line number in the file.
        kind: one of `KINDS` (for example `invalid_json`, `near_duplicate`, `secret`).
        message: one line for a person, e.g. "unknown role 'bot'".
        where: the field the problem is in (`messages[1].content`), or "" for the whole line.
        span: start and end (characters) of the flagged text inside `where`, for safety kinds.
        excerpt: a short, single-line view of the offending text (secrets and personal data
            masked).
        related_line: the other line of a duplicate or leak, when there is one.
    """

    line: int
    kind: str
    message: str
    where: str = ""
    span: tuple[int, int] | None = None
    excerpt: str = ""
    related_line: int | None = None

    @property
    def category(self) -> str:
        """`format`, `limits`, `quality` or `safety`."""
        return KINDS[self.kind]


class ProblemList:
    """Every problem found: exact counts, and the details of up to `max_details` of them.

    The line and kind of every problem are kept in compact arrays (5 bytes each) whatever their
    number, so `lines_with` is exact for `clean` even when a broken file has millions; details
    (messages, spans) stop being kept after `max_details`, which bounds memory.
    """

    def __init__(self, max_details: int = 100_000) -> None:
        self.max_details = max_details
        self._lines = array("I")
        self._kinds = array("B")
        self._details: list[Problem] = []
        self._sorted = True

    def add(self, problem: Problem) -> None:
        """Record `problem` (its details only while fewer than `max_details` are kept)."""
        self._lines.append(problem.line)
        self._kinds.append(KIND_CODES[problem.kind])
        if len(self._details) < self.max_details:
            self._details.append(problem)
            self._sorted = False

    def extend(self, problems: Iterable[Problem]) -> None:
        """Record several problems."""
        for problem in problems:
            self.add(problem)

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def truncated(self) -> bool:
        """Whether some problems are counted but not detailed."""
        return len(self._lines) > len(self._details)

    def counts(self) -> dict[str, int]:
        """Number of problems of each kind found, in `KINDS` order."""
        names = list(KINDS)
        found = Counter(self._kinds)
        return {names[code]: found[code] for code in sorted(found)}

    def category_counts(self) -> dict[str, int]:
        """Number of problems in each category (every category present, zeros included)."""
        totals = dict.fromkeys(CATEGORIES, 0)
        for kind, count in self.counts().items():
            totals[KINDS[kind]] += count
        return totals

    def lines_with(self, kinds: Iterable[str]) -> set[int]:
        """Line numbers having at least one problem of `kinds` (exact, details or not)."""
        codes = {KIND_CODES[kind] for kind in kinds}
        return {line for line, code in zip(self._lines, self._kinds, strict=True) if code in codes}

    def kinds_by_line(self, kinds: Iterable[str]) -> dict[int, list[str]]:
        """For each line with a problem of `kinds`, those kinds (each once, `KINDS` order)."""
        codes = {KIND_CODES[kind] for kind in kinds}
        found: dict[int, set[int]] = {}
        for line, code in zip(self._lines, self._kinds, strict=True):
            if code in codes:
                found.setdefault(line, set()).add(code)
        names = list(KINDS)
        return {line: [names[code] for code in sorted(held)] for line, held in found.items()}

    def messages_by_line(self, lines: set[int]) -> dict[int, list[str]]:
        """The detailed messages of the problems on `lines`."""
        found: dict[int, list[str]] = {}
        for problem in self.details():
            if problem.line in lines:
                found.setdefault(problem.line, []).append(problem.message)
        return found

    def details(self) -> list[Problem]:
        """The detailed problems, by line then kind order."""
        if not self._sorted:
            self._details.sort(key=lambda p: (p.line, KIND_CODES[p.kind]))
            self._sorted = True
        return self._details

    def page(self, offset: int = 0, limit: int = 200, kinds: Sequence[str] = ()) -> list[Problem]:
        """One page of detailed problems in line order, optionally only of `kinds`."""
        details = self.details()
        if kinds:
            wanted = set(kinds)
            details = [problem for problem in details if problem.kind in wanted]
        return details[offset : offset + limit]
