"""Paged tables whose columns have fixed widths but one, which takes the room left."""

from __future__ import annotations

from typing import ClassVar

from rich.console import JustifyMethod
from rich.text import Text
from textual import events
from textual.widgets.data_table import DuplicateKey, RowKey
from textual.widgets.data_table import Row as TableRow

from tui.widgets.paging import PagedTable, Row


class FlexTable(PagedTable[Row]):
    """A `PagedTable` whose `COLUMNS` (key, label, width) have fixed widths, but the one of
    width 0, which takes what is left (between `FLEX_MIN` and `FLEX_MAX`); the columns are laid
    out again when the table's width changes. The screens of rows above and below are
    rendered ahead as in any `PagedTable` (`warm_ahead`).
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
