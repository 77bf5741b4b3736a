"""Paged tables whose columns have fixed widths but one, which takes the room left; their
cells are made when first drawn, and one-line cells are rendered straight into the lines
DataTable would make of them."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from rich.console import JustifyMethod
from rich.text import Text
from textual import events
from textual.widgets.data_table import DuplicateKey, RowKey
from textual.widgets.data_table import Row as TableRow

from tui.widgets.paging import PagedTable, Row
from tui.widgets.regressions.lazy_cells import LazyCells
from tui.widgets.regressions.quick_cells import QuickCells


# PagedTable first: Textual's CSS type names (and so `query(PagedTable)`) follow the first
# base of each class only.
class FlexTable(PagedTable[Row], QuickCells):
    """A `PagedTable`
    whose `COLUMNS` (key, label, width) have fixed widths, but the one of
       width 0, which takes what is left (between `FLEX_MIN` and `FLEX_MAX`); the columns are laid
       out again when the table's width changes. The screens of rows above and below are
       rendered ahead as in any `PagedTable` (`warm_ahead`).
    """

    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = ()
    WARM_OFF_SCREEN: ClassVar[bool] = True
    """Whether rows are rendered and pages read ahead while the table's screen is not on
    show (False: once it is, see `due_when_shown`)."""
    RIGHT: ClassVar[frozenset[str]] = frozenset()
    """Keys of the columns aligned right (numbers)."""
    FLEX_MIN = 10
    FLEX_MAX = 1_000

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.flex_width = self.FLEX_MIN
        """The width of the flexible column now."""
        self.due_when_shown = False
        """Rows are to be rendered and pages read ahead once the screen is on show (see
        `warm_ahead`, `keep_up`, `screen_shown`), or the table released (`release`)."""
        self.held = False
        """Whether reading and rendering ahead are put off (`hold`)."""

    def warm_ahead(self) -> None:
        """As `PagedTable.warm_ahead`; with `WARM_OFF_SCREEN` off, put off while the screen
        is not on show. A view filled before it is pushed would otherwise render rows ahead
        before its first frame: Textual runs a hidden screen's after-refresh callbacks at
        once (~20-60 ms of a view's opening)."""
        if self._off_screen():
            self.due_when_shown, self.warmed = True, False
        else:
            super().warm_ahead()

    def keep_up(self) -> None:
        """As `PagedTable.keep_up`; with `WARM_OFF_SCREEN` off, put off while the screen is
        not on show: the pages past the ends, read in a thread as the view's first frame is
        made, would hold the interpreter's lock for part of that frame (~5-20 ms)."""
        if self._off_screen():
            self.due_when_shown = True
        else:
            super().keep_up()

    def screen_shown(self) -> None:
        """The screen is on show, its first frame made: read and render ahead what was put
        off meanwhile."""
        if self.due_when_shown:
            self.due_when_shown = False
            self.keep_up()
            self.warm_ahead()

    def hold(self) -> None:
        """Put off reading and rendering ahead (as off screen) until `release`: a screen
        filling in steps draws what it shows first."""
        self.held = True

    def release(self) -> None:
        """Read and render ahead what was put off since `hold`."""
        self.held = False
        self.screen_shown()

    def _off_screen(self) -> bool:
        if self.held:
            return True
        return not self.WARM_OFF_SCREEN and not (self.is_attached and self.screen.is_current)

    def on_resize(self, event: events.Resize) -> None:
        if self.loaded and self._fitting_width() != self.flex_width:
            self._show_window(self.cursor_row, self.scroll_y)

    def _show_window(self, cursor: int = 0, scroll_y: float = 0) -> None:
        self.flex_width = self._fitting_width()
        self.clear(columns=True)
        for key, label, width in self.columns_shown():
            justify: JustifyMethod = "right" if key in self.RIGHT else "left"
            header = Text(label, justify=justify)
            self.add_column(header, key=key, width=width or self.flex_width)
        super()._show_window(cursor, scroll_y)

    def _add(self, rows: list[Row]) -> None:
        """Add rows at the bottom, as `DataTable.add_row` adds one, but all in one go
        (Textual 8 internals): `add_row` lists the columns twice and checks the cursor for
        each row (~0.1 ms a row here, most of the cost of putting a page in the table).
        A row's cells are made when first read (`LazyCells`): a frame shows ~15 of the
        100-200 rows put in at once (~0.1 ms a row)."""
        if not rows:
            return
        columns = tuple(column.key for column in self.ordered_columns)
        was_empty = not self.row_count
        for row in rows:
            key = RowKey(self.row_key(row))
            if key in self._row_locations:
                raise DuplicateKey(f"The row key {key!r} already exists.")
            self._row_locations[key] = len(self.rows)
            self._data[key] = LazyCells(columns, partial(self.row_cells, row))
            self.rows[key] = TableRow(key, 1)
        # What `add_row` does after each row: its cells' widths are not measured (fixed).
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()

    def columns_shown(self) -> tuple[tuple[str, str, int], ...]:
        """The `COLUMNS` shown now (all of them; a table may leave some out)."""
        return self.COLUMNS

    def _fitting_width(self) -> int:
        columns = self.columns_shown()
        fixed = sum(width for _, _, width in columns)
        padding = 2 * self.cell_padding * len(columns)
        room = self.scrollable_content_region.width - fixed - padding
        return max(self.FLEX_MIN, min(self.FLEX_MAX, room))
