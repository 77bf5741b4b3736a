"""The problems of a checked file as a table: one page of rows at a time, filtered by kind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from tui.text import inert

if TYPE_CHECKING:  # the engine is imported off the event loop, by the pane's workers
    from core.data.problems import Problem, ProblemList

PAGE_SIZE = 200
EXCERPT_CHARS = 160

CATEGORY_STYLES = {"format": "red", "limits": "magenta", "quality": "yellow", "safety": "cyan"}


class ProblemTable(DataTable[Text | str]):
    """A page of problems (line, kind, excerpt); `show_page` moves through them."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.problems: ProblemList | None = None
        self.kinds: tuple[str, ...] = ()
        """The kinds shown (all when empty)."""
        self.first = 0
        self.total = 0
        """Detailed problems of the shown kinds."""
        self.rows_shown: list[Problem] = []

    def on_mount(self) -> None:
        self.add_column("line", key="line", width=8)
        self.add_column("kind", key="kind", width=18)
        self.add_column("excerpt", key="excerpt")

    def load(self, problems: ProblemList | None, kinds: Sequence[str] = ()) -> None:
        """Show the first page of `problems` of `kinds`."""
        self.problems, self.kinds = problems, tuple(kinds)
        self.total = len(self._matching())
        self.show_page(0)

    def show_page(self, offset: int) -> None:
        """Show the page of problems starting at `offset` (kept within the listing)."""
        self.first = max(0, min(offset, max(self.total - 1, 0) // PAGE_SIZE * PAGE_SIZE))
        self.rows_shown = self._matching()[self.first : self.first + PAGE_SIZE]
        self.clear()
        for number, problem in enumerate(self.rows_shown):
            self.add_row(*cells(problem), key=str(number))

    def next_page(self) -> None:
        """The page after this one, if any."""
        if self.first + PAGE_SIZE < self.total:
            self.show_page(self.first + PAGE_SIZE)

    def previous_page(self) -> None:
        """The page before this one, if any."""
        if self.first:
            self.show_page(self.first - PAGE_SIZE)

    def problem_at_cursor(self) -> Problem | None:
        """The problem under the cursor."""
        if not self.rows_shown or not 0 <= self.cursor_row < len(self.rows_shown):
            return None
        return self.rows_shown[self.cursor_row]

    def position(self) -> str:
        """`problems 201-400 of 1,234`, or `no problems`."""
        if not self.total:
            return "no problems" + (" of this kind" if self.kinds else "")
        last = min(self.first + PAGE_SIZE, self.total)
        return f"problems {self.first + 1:,}-{last:,} of {self.total:,}"

    def _matching(self) -> list[Problem]:
        if self.problems is None:
            return []
        if not self.kinds:
            return self.problems.details()
        wanted = set(self.kinds)
        return [problem for problem in self.problems.details() if problem.kind in wanted]


def cells(problem: Problem) -> tuple[Text | str, ...]:
    """The line, the kind (coloured by category) and a one-line excerpt of a problem."""
    excerpt = problem.excerpt or problem.message
    if problem.excerpt and problem.message:
        excerpt = f"{problem.message} · {problem.excerpt}"
    excerpt = inert(" ".join(excerpt.split()))[:EXCERPT_CHARS]
    kind = Text(problem.kind, style=CATEGORY_STYLES.get(problem.category, ""))
    return str(problem.line), kind, Text(excerpt)
