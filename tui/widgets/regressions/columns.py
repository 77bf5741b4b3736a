"""Paged tables whose columns have fixed widths but one, which takes the room left, and whose
next screens of rows are rendered ahead while the user reads."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from rich.console import JustifyMethod
from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import DuplicateKey, RowKey
from textual.widgets.data_table import Row as TableRow

from tui.widgets.paging import Direction, PagedTable, Row

AHEAD_DELAY = 0.05
"""Seconds of quiet after a move before the rows past the screen are rendered."""
AHEAD_STEP = 4
"""Rows rendered in one go: a key that arrives meanwhile waits for at most that many."""


class FlexTable(PagedTable[Row]):
    """A `PagedTable` whose `COLUMNS` (key, label, width) have fixed widths, but the one of
    width 0, which takes what is left (between `FLEX_MIN` and `FLEX_MAX`); the columns are laid
    out again when the table's width changes.

    DataTable renders each cell through Rich (~0.3 ms a cell here), the first time it shows:
    a page key would pay for a whole screen of new cells. So, once the cursor rests, the screen
    of rows below it and the one above are rendered ahead, a few rows at a time; DataTable
    keeps each rendered cell until the rows change, and the page key finds them ready.
    """

    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = ()
    RIGHT: ClassVar[frozenset[str]] = frozenset()
    """Keys of the columns aligned right (numbers)."""
    FLEX_MIN = 10
    FLEX_MAX = 1_000

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.flex_width = self.FLEX_MIN
        """The width of the flexible column now."""
        self._ahead = 0  # the generation of the rendering ahead: a newer one stops older steps

    def on_resize(self, event: events.Resize) -> None:
        if self.loaded and self._fitting_width() != self.flex_width:
            self._show_window(self.cursor_row, self.scroll_y)

    def _show_window(self, cursor: int = 0, scroll_y: float = 0) -> None:
        self.flex_width = self._fitting_width()
        self.clear(columns=True)
        for key, label, width in self.COLUMNS:
            justify: JustifyMethod = "right" if key in self.RIGHT else "left"
            header = Text(label, justify=justify)
            self.add_column(header, key=key, width=width or self.flex_width)
        super()._show_window(cursor, scroll_y)
        self._plan_ahead()

    def _apply_slide(self, direction: Direction) -> None:
        super()._apply_slide(direction)
        self._plan_ahead()

    def _add(self, rows: list[Row]) -> None:
        """Add rows at the bottom, as `DataTable.add_row` adds one, but all in one go
        (Textual 8 internals): `add_row` lists the columns twice and checks the cursor for
        each row (~0.1 ms a row here, most of the cost of putting a page in the table)."""
        if not rows:
            return
        columns = [column.key for column in self.ordered_columns]
        was_empty = not self.row_count
        for row in rows:
            key = RowKey(self.row_key(row))
            if key in self._row_locations:
                raise DuplicateKey(f"The row key {key!r} already exists.")
            self._row_locations[key] = len(self.rows)
            self._data[key] = dict(zip(columns, self.row_cells(row), strict=True))
            self.rows[key] = TableRow(key, 1)
        # What `add_row` does after each row: its cells' widths are not measured (fixed).
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()

    def _fitting_width(self) -> int:
        fixed = sum(width for _, _, width in self.COLUMNS)
        padding = 2 * self.cell_padding * len(self.COLUMNS)
        room = self.scrollable_content_region.width - fixed - padding
        return max(self.FLEX_MIN, min(self.FLEX_MAX, room))

    # -- rows rendered ahead ------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self:
            self._plan_ahead()

    def _plan_ahead(self) -> None:
        self._ahead += 1
        self.set_timer(AHEAD_DELAY, partial(self._render_ahead, self._ahead, None))

    def _lines_ahead(self) -> list[int]:
        """The lines of the screen of rows below the screen, then of the one above."""
        top, visible = int(self.scroll_y), self._visible()
        header = self.header_height if self.show_header else 0
        below = range(top + visible, min(self.row_count, top + 2 * visible))
        above = range(top - 1, max(-1, top - visible - 1), -1)
        return [header + row for row in (*below, *above)]

    def _render_ahead(self, generation: int, lines: list[int] | None) -> None:
        if generation != self._ahead or not self.loaded or not self.size.area:
            return
        lines = self._lines_ahead() if lines is None else lines
        if not lines:
            return
        # As DataTable's own render_lines and render_line do (Textual 8 internals): the cells
        # land in its cell cache, keyed by what a later frame will look them up with.
        self._pseudo_class_state = self.get_pseudo_class_state()
        left = int(self.scroll_x)
        for y in lines[:AHEAD_STEP]:
            self._render_line(y, left, left + self.size.width, self.rich_style)
        self.call_later(self._render_ahead, generation, lines[AHEAD_STEP:])
