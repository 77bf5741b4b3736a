"""The cases of a diff: one line per case, flips highlighted, a page or two in the widget.

The lines are computed once for the whole comparison (its flips and verdict need every case);
the table still holds at most two pages of them, read from that list as `PagedTable` reads
from SQL, but at once, without a thread: a worker's round trip would only make the first
rows wait for the event loop, busy opening the view.
"""

from __future__ import annotations

from rich.text import Text
from textual import events

from tui.widgets.paging import Direction, PageRead
from tui.widgets.regressions.columns import FlexTable
from tui.widgets.regressions.compare import CaseLine
from tui.widgets.regressions.figures import RESULT_STYLES, score
from tui.widgets.usage.figures import one_line

FLIP_WIDTH = 9
COLUMNS = (  # key, label, width (0: the case column takes what is left)
    ("flip", "flip", FLIP_WIDTH),
    ("case", "case", 0),
    ("a", "A", 5),
    ("b", "B", 5),
    ("a_score", "A score", 7),
    ("b_score", "B score", 7),
    ("critical", "crit", 4),
)
FLIPS = {
    "broke": ("▼ broke", "bold red"),
    "fixed": ("▲ fixed", "bold green"),
    "errored": ("✕ error", "bold yellow"),  # no answer in B: not the model's flip
}
CHANGE_MARKS = {"checks": "≠", "input": "~"}
"""The mark after a case's flip when its checks, or else its input, changed between the runs'
suite versions (the summary's legend: `CHANGE_LEGEND`)."""
CHANGE_LEGEND = {"checks": "≠ checks changed", "input": "~ input changed"}


class DiffCaseTable(FlexTable[CaseLine]):
    """Lines of a `RunDiff` (all of them, or only the regressions), by case id."""

    COLUMNS = COLUMNS
    RIGHT = frozenset({"a_score", "b_score"})
    WARM_OFF_SCREEN = False  # filled before its view is pushed
    FLEX_MAX = 40  # wider, the statuses would sit far from their case

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.lines: list[CaseLine] = []
        self._places: dict[str, int] = {}
        self._first_read: PageRead[CaseLine] | None = None
        """The first page asked before the table was laid out (see `_read`)."""

    def show_lines(self, lines: list[CaseLine]) -> None:
        """List `lines` from the first."""
        self.lines = lines
        self._places = {line.case_id: index for index, line in enumerate(lines)}
        self.restart()

    def row_key(self, row: CaseLine) -> str:
        return row.case_id

    def row_cells(self, row: CaseLine) -> list[Text]:
        return cells(row, self.flex_width)

    def read_page(self, direction: Direction | None, anchor: CaseLine | None) -> list[CaseLine]:
        lines, size = self.lines, self.window.page_size
        if anchor is None:
            return lines[:size]
        place = self._places[anchor.case_id]
        if direction == "after":
            return lines[place + 1 : place + 1 + size]
        return lines[max(0, place - size) : place]

    def _read(self, request: PageRead[CaseLine], anchor: CaseLine | None) -> None:
        # The first page waits for the table's size, which sets the page size and the case
        # column's width (rows shown before would be laid out again at once).
        if request.direction is None and not self.size.area:
            self._first_read = request
            return
        rows = self.read_page(request.direction, anchor)
        self._page_read(PageRead(request.generation, request.direction, request.anchor, rows))

    def on_resize(self, event: events.Resize) -> None:
        request, self._first_read = self._first_read, None
        if request is not None and request.generation == self._generation and self.size.area:
            self.window.page_size = self._page_size()
            self._read(request, None)

    def line_at_cursor(self) -> CaseLine | None:
        """The case under the cursor, if any."""
        return self.row_at_cursor()


def cells(line: CaseLine, case_width: int) -> list[Text]:
    """The row of one case: a flip in colour, each run's status and score."""
    flip, style = FLIPS.get(line.flip, ("", ""))
    case = one_line(line.case_id, case_width)
    case.stylize(style)
    return [
        flip_cell(flip, style, line.changed),
        case,
        Text(line.a, style=RESULT_STYLES.get(line.a, "dim")),
        Text(line.b, style=RESULT_STYLES.get(line.b, "dim")),
        Text(score(line.a_score), justify="right"),
        Text(score(line.b_score), justify="right"),
        Text("yes" if line.critical else "", style="bold yellow"),
    ]


def flip_cell(flip: str, style: str, changed: str) -> Text:
    """`▼ broke`, then the mark of a changed case (`CHANGE_MARKS`) in the column's last cell."""
    mark = CHANGE_MARKS.get(changed)
    if mark is None:
        return Text(flip, style=style)
    text = Text(flip.ljust(FLIP_WIDTH - 2), style=style)
    text.append(f" {mark}", style="bold yellow")
    return text
