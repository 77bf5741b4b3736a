"""Tables paged from SQL: a window of at most two pages of rows slides over a long listing.

The page past each end of the window is read ahead in a thread worker, so moving the cursor
never waits for SQL; when less than two screens of rows lie past the screen, the page past that
end is added to the table and the farthest page dropped, whole (not row by row, and without
rebuilding the rest), when the user is idle. A dropped page is kept as the page past that end:
scrolling back reads nothing.

Drawing a screen of new rows costs a frame ~50-70 ms (each cell rendered by Rich): in idle time,
the table renders ahead the cells of the screens a page key would show next, so the frame after
the key only assembles lines. A slide renumbers the rows (their cells carry their index for the
mouse), which throws that work away: that is why slides happen in idle time, a screen early.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey
from textual.worker import Worker, get_current_worker

from tui.failures import notify_failure

Row = TypeVar("Row")
Direction = Literal["after", "before"]
"""`after`: further down the listing (older); `before`: up (newer)."""
DIRECTIONS: tuple[Direction, Direction] = ("after", "before")


@dataclass
class Side(Generic[Row]):
    """What lies past one end of the window."""

    rows: list[Row] | None = None
    """The rows right past that end, read ahead (None: not read yet; empty: none there)."""
    complete: bool = False
    """Nothing lies beyond `rows`."""


@dataclass(frozen=True)
class Slide(Generic[Row]):
    """A change of the window: rows added at one end, rows dropped at the other."""

    direction: Direction
    added: list[Row]
    dropped: int


@dataclass
class PageWindow(Generic[Row]):
    """At most `2 * page_size` consecutive rows of a listing, and what lies past each end."""

    page_size: int
    key: Callable[[Row], str]
    rows: list[Row] = field(default_factory=list)
    after: Side[Row] = field(default_factory=Side)
    before: Side[Row] = field(default_factory=Side)

    @property
    def limit(self) -> int:
        """The most rows the window holds."""
        return 2 * self.page_size

    def side(self, direction: Direction) -> Side[Row]:
        """What lies past the given end."""
        return self.after if direction == "after" else self.before

    def reset(self, page: list[Row]) -> None:
        """Start again at the top of the listing with its first page."""
        self.rows = list(page)
        self.before = Side([], complete=True)
        self.after = Side([], True) if len(page) < self.page_size else Side()

    def wants(self, direction: Direction) -> bool:
        """Whether the page past that end must be read."""
        return self.side(direction).rows is None

    def anchor(self, direction: Direction) -> Row | None:
        """The row the page past that end is read from (None when the window is empty)."""
        if not self.rows:
            return None
        return self.rows[-1] if direction == "after" else self.rows[0]

    def receive(self, direction: Direction, page: list[Row]) -> None:
        """The page read past that end (`page_size` rows, fewer at the end of the listing)."""
        complete = len(page) < self.page_size
        if direction == "after":
            self.after = Side(list(page), complete)
        else:
            self.before = Side(list(page), complete)

    def more(self, direction: Direction) -> bool:
        """Whether rows may lie past that end."""
        side = self.side(direction)
        return side.rows is None or bool(side.rows) or not side.complete

    def due(self, top: int, bottom: int, lookahead: int) -> Direction | None:
        """The slide that rows `top` to `bottom` (on screen) call for: the page past an end is
        added when fewer than `lookahead` rows lie between the screen and that end, or when
        it fits without a drop."""
        count = len(self.rows)
        ahead, behind = self.after.rows, self.before.rows
        if ahead and (count + len(ahead) <= self.limit or count - bottom < lookahead):
            return "after"
        if behind and (count + len(behind) <= self.limit or top < lookahead):
            return "before"
        return None

    def slide(self, direction: Direction) -> Slide[Row]:
        """Add the page past `direction`'s end; the rows beyond `limit` leave the other end
        and become what lies past it."""
        if direction == "after":
            return self._slide_after()
        return self._slide_before()

    def _slide_after(self) -> Slide[Row]:
        added, complete = self.after.rows or [], self.after.complete
        self.rows += added
        self.after = Side([], True) if complete else Side()
        dropped = max(0, len(self.rows) - self.limit)
        if dropped:
            top = self.before.complete and not self.before.rows
            self.before = Side(self.rows[:dropped], top)
            self.rows = self.rows[dropped:]
        return Slide("after", added, dropped)

    def _slide_before(self) -> Slide[Row]:
        added, complete = self.before.rows or [], self.before.complete
        self.rows = [*added, *self.rows]
        self.before = Side([], True) if complete else Side()
        dropped = max(0, len(self.rows) - self.limit)
        if dropped:
            end = self.after.complete and not self.after.rows
            self.after = Side(self.rows[-dropped:], end)
            self.rows = self.rows[:-dropped]
        return Slide("before", added, dropped)

    def remove(self, key: str) -> bool:
        """Forget a deleted row wherever it is; whether the window itself held it."""
        for side in (self.after, self.before):
            if side.rows:
                side.rows = [row for row in side.rows if self.key(row) != key]
        kept = [row for row in self.rows if self.key(row) != key]
        removed = len(kept) != len(self.rows)
        self.rows = kept
        return removed

    def find(self, key: str) -> Row | None:
        """The row with `key`, if the window holds it."""
        return next((row for row in self.rows if self.key(row) == key), None)


@dataclass(frozen=True)
class PageRead(Generic[Row]):
    """One page read for the table: the first (`direction` None) or past an end."""

    generation: int
    direction: Direction | None
    anchor: str | None
    """The key of the row it was read from (None for the first page)."""
    rows: list[Row]


class PagedTable(DataTable[Text], Generic[Row]):
    """A DataTable over a listing read page by page. Subclasses say how to read a page
    (`read_page`, in a thread), how to key a row and what its cells are. `restart()` starts
    the listing over; the table keeps the window full around the cursor by itself."""

    PAGE_SIZE = 100
    """Rows a read returns, at least: more on a tall screen (see `_page_size`)."""
    IDLE_SLIDE_DELAY = 0.05
    """Seconds after a key before the window slides (see `keep_up`)."""
    WARM_ROWS_PER_STEP = 3
    """Rows whose cells are rendered ahead in one go (~2 ms a row): a key waits no longer."""

    @dataclass
    class RowsChanged(Message):
        """The rows in the table changed (a new listing, or a slide)."""

        table: DataTable[Text]
        rows: int

        @property
        def control(self) -> DataTable[Text]:
            """The table (for `@on(..., selector)`)."""
            return self.table

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.window: PageWindow[Row] = PageWindow(self.PAGE_SIZE, self.row_key)
        self._generation = 0
        self._reading: set[Direction] = set()
        self._slide_planned = False
        self._warming = 0
        """The generation of the rendering ahead under way (a newer one supersedes it)."""
        self.warmed = True
        """Whether the rows a page key would show next are rendered ahead."""
        self.loaded = False
        """Whether the first page of the current listing is in (its rows are on show)."""

    # -- what subclasses give ------------------------------------------------------------

    def row_key(self, row: Row) -> str:
        """The row's key in the table (unique in the listing)."""
        raise NotImplementedError

    def row_cells(self, row: Row) -> Sequence[Text]:
        """The row's cells, one per column."""
        raise NotImplementedError

    def read_page(self, direction: Direction | None, anchor: Row | None) -> list[Row]:
        """Read `window.page_size` rows from the database (in a thread worker): the first
        page, or the rows right after or before `anchor` in listing order."""
        raise NotImplementedError

    # -- the listing ---------------------------------------------------------------------

    @property
    def at_start(self) -> bool:
        """Whether the cursor is on the first row of the listing."""
        return not self.window.more("before") and self.cursor_row <= 0

    def row_at_cursor(self) -> Row | None:
        """The row under the cursor, if any."""
        rows = self.window.rows
        return rows[self.cursor_row] if rows and 0 <= self.cursor_row < len(rows) else None

    def restart(self) -> None:
        """Show the listing from its first row (a new filter, new data)."""
        self._generation += 1
        self._reading.clear()
        self.loaded = False  # nothing is read past the ends of the old rows meanwhile
        self.window.page_size = self._page_size()
        self._read(PageRead(self._generation, None, None, []), None)

    def forget(self, key: str) -> None:
        """Remove a deleted row (the cursor stays on the same line)."""
        if self.window.remove(key) and key in self.rows:
            self.remove_row(key)
        self.keep_up()

    def keep_up(self) -> None:
        """Slide the window if what is on screen calls for it, and read what lies past its
        ends."""
        if not self._slide_planned and self.loaded:
            # Once the key's frame is on screen (a slide re-renders every row on show), and
            # after a refresh: a page key's own scroll is applied then, and a slide must
            # shift the rows and the scroll together.
            self._slide_planned = True
            self.set_timer(self.IDLE_SLIDE_DELAY, lambda: self.call_after_refresh(self._slide))
        for direction in DIRECTIONS:
            if self.loaded and self.window.wants(direction) and direction not in self._reading:
                anchor = self.window.anchor(direction)
                if anchor is None:
                    self.window.receive(direction, [])
                    continue
                key = self.row_key(anchor)
                self._reading.add(direction)
                self._read(PageRead(self._generation, direction, key, []), anchor)

    def _visible(self) -> int:
        """How many rows the table shows at once."""
        header = self.header_height if self.show_header else 0
        return max(1, self.scrollable_content_region.height - header)

    def _due(self) -> Direction | None:
        """The slide due now, in idle time: a page key must never meet an end of the rows (but
        the listing's), nor slide the window itself (see the module's docstring), so a page
        comes in while more than two screens of rows lie past the screen."""
        top = int(self.scroll_y)
        visible = self._visible()
        return self.window.due(top, top + visible, lookahead=2 * visible + 4)

    def _page_size(self) -> int:
        """PAGE_SIZE, or more on a tall screen: a full page slid in one way must leave more
        than `lookahead` (`_due`) rows the other way beyond the screen, or the next page key
        would slide it back."""
        return max(self.PAGE_SIZE, 5 * self._visible() + 12)

    def _read(self, request: PageRead[Row], anchor: Row | None) -> None:
        # Not exclusive: a read is never asked twice, and one of an older listing is dropped
        # when it arrives (a thread cannot be stopped anyway).
        self.run_worker(
            lambda: self._read_in_thread(request, anchor),
            thread=True,
            group="page",
            exit_on_error=False,
        )

    def _read_in_thread(self, request: PageRead[Row], anchor: Row | None) -> None:
        try:
            rows = self.read_page(request.direction, anchor)
        except Exception:
            self.app.call_from_thread(self._read_failed, request)
            raise  # on_worker_state_changed shows it
        if not get_current_worker().is_cancelled:  # the app is closing
            done = PageRead(request.generation, request.direction, request.anchor, rows)
            self.app.call_from_thread(self._page_read, done)

    def _read_failed(self, request: PageRead[Row]) -> None:
        if request.direction is not None and request.generation == self._generation:
            self._reading.discard(request.direction)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        notify_failure(self, event)

    def _page_read(self, read: PageRead[Row]) -> None:
        if read.generation != self._generation:
            return  # a newer listing is on its way
        if read.direction is None:
            self.window.reset(read.rows)
            self.loaded = True
            self._show_window()
        else:
            self._reading.discard(read.direction)
            anchor = self.window.anchor(read.direction)
            if anchor is not None and self.row_key(anchor) == read.anchor:
                self.window.receive(read.direction, read.rows)
        self.keep_up()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self:
            self.keep_up()
            self.warm_ahead()

    # -- rendering ahead -----------------------------------------------------------------

    def on_focus(self) -> None:
        self.warm_ahead()

    def notify_style_update(self) -> None:
        super().notify_style_update()  # DataTable drops its rendered cells here
        self.warm_ahead()

    def warm_ahead(self) -> None:
        """After the next frame, render the cells of the screens above and below the one on
        show (and of the rows a page key would put the cursor on), a few rows at a time."""
        self._warming += 1
        self.warmed = False
        self.call_after_refresh(self._warm_step, self._warming, None)

    def _rows_to_warm(self) -> list[tuple[int, int]]:
        """The rows a page key would show next, nearest first, each with the row the cursor
        would then be on."""
        top, visible, cursor = int(self.scroll_y), self._visible(), self.cursor_row
        below = [(row, cursor + visible) for row in range(top + visible, top + 2 * visible)]
        above = [(row, cursor - visible) for row in range(top - 1, top - visible - 1, -1)]
        rows = [pair for pairs in zip(below, above, strict=True) for pair in pairs]
        return [(row, then) for row, then in rows if 0 <= row < self.row_count]

    def _warm_step(self, generation: int, rows: list[tuple[int, int]] | None) -> None:
        if generation != self._warming or not self.is_mounted or not self.columns:
            return  # the cursor moved again (a newer warming started), or the rows went
        # Focus changes how cells look (and is part of their cache keys): as render_lines does.
        self._pseudo_class_state = self.get_pseudo_class_state()
        pending = self._rows_to_warm() if rows is None else rows
        step, rest = pending[: self.WARM_ROWS_PER_STEP], pending[self.WARM_ROWS_PER_STEP :]
        for row, cursor in step:
            self._warm_row(row, cursor)
        if rest:
            self.call_later(self._warm_step, generation, rest)
        else:
            self.warmed = True

    def _warm_row(self, row: int, cursor: int) -> None:
        """Render a row, with the cursor on row `cursor`, as a frame would (DataTable
        internals, Textual 8): its cells, then its line, which the frame finds in the caches."""
        style = self._get_row_style(row, self.rich_style)
        for index, column in enumerate(self.ordered_columns):
            width = column.get_render_width(self)
            self._render_cell(row, index, style, width, cursor=row == cursor, hover=False)
        key = self._row_locations.get_key(row)
        if key is not None:
            place = Coordinate(cursor, self.cursor_coordinate.column)
            self._render_line_in_row(key, 0, self.rich_style, place, self.hover_coordinate)

    # -- the rows in the widget ----------------------------------------------------------

    def _show_window(self, cursor: int = 0, scroll_y: float = 0) -> None:
        """Put the window's rows in the table (a new listing, new column widths)."""
        self.clear()
        self._add(self.window.rows)
        self._size_to_rows()
        if self.row_count:
            self.move_cursor(row=min(max(cursor, 0), self.row_count - 1), scroll=False)
        self.scroll_to(y=scroll_y, animate=False, immediate=True)
        self.post_message(self.RowsChanged(self, self.row_count))
        self.warm_ahead()

    def _slide(self) -> None:
        self._slide_planned = False
        direction = self._due()
        if direction is not None:
            self._apply_slide(direction)

    def _apply_slide(self, direction: Direction) -> None:
        """Slide the window: add the page past that end to the table, drop the farthest rows,
        and shift the cursor and the scroll with them (what is on screen does not move)."""
        slide = self.window.slide(direction)
        cursor, scroll_y = self.cursor_row, self.scroll_y
        self._add(slide.added)
        self._keep_only([RowKey(self.row_key(row)) for row in self.window.rows])
        shift = -slide.dropped if direction == "after" else len(slide.added)
        self.scroll_to(y=scroll_y + shift, animate=False, immediate=True)
        self.move_cursor(row=cursor + shift, scroll=False)
        self.post_message(self.RowsChanged(self, self.row_count))
        self.keep_up()
        self.warm_ahead()

    def _add(self, rows: list[Row]) -> None:
        keys = [self.add_row(*self.row_cells(row), key=self.row_key(row)) for row in rows]
        # The columns have fixed widths: measuring every new cell for an auto width (what
        # DataTable does next, ~60 us a cell) would be wasted.
        self._new_rows.difference_update(keys)

    def _keep_only(self, order: list[RowKey]) -> None:
        """Keep the rows `order` names, in that order: `remove_row` for many rows at once.

        `remove_row` rebuilds the row index and re-highlights the cursor for every row it
        removes (~2 ms a row at 200 rows); this does it once (DataTable internals, Textual 8).
        """
        kept = set(order)
        for key in [key for key in self.rows if key not in kept]:
            del self.rows[key]
            del self._data[key]
        self._new_rows &= kept
        self._updated_cells = {cell for cell in self._updated_cells if cell.row_key in kept}
        self._row_locations = TwoWayDict({key: index for index, key in enumerate(order)})
        self._update_count += 1
        self._size_to_rows()
        self.refresh(layout=True)

    def _size_to_rows(self) -> None:
        """Set the scrollable height now (DataTable does it when idle, which would clamp a
        scroll made before)."""
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(self.virtual_size.width, self.row_count + header)
