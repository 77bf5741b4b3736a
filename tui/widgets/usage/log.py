"""The request log: a DataTable paged from SQL, never more than two pages of rows at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import Worker, get_current_worker

from storage.records import CallFilter
from storage.usage import LogRow, UsageQueries
from tui.failures import notify_failure
from tui.text import money
from tui.widgets.usage.figures import local_time, milliseconds, one_line, tokens

PAGE_SIZE = 100
MAX_PAGES = 2
MARGIN = 10  # rows from either end of the window at which the next page is loaded
COLUMNS = (  # label, key, width: fixed, so loading a page never shifts the columns
    ("#", "id", 7),
    ("time", "time", 11),
    ("model", "model", 14),
    ("status", "status", 7),
    ("in/out", "tokens", 11),
    ("cost", "cost", 8),
    ("prompt", "prompt", 33),
    ("latency", "latency", 7),
)
Place = Literal["reset", "after", "before"]
STATUS_NAMES = {"incomplete": "partial"}  # a stream cut before its end
STATUS_STYLES = {"ok": "", "error": "bold red", "incomplete": "yellow", "pending": "dim"}


class CallLogTable(DataTable[Text]):
    """Calls newest first. `show_calls(filter)` starts over; scrolling near either end of the
    rows loads the next or the previous page and drops the farthest one."""

    @dataclass
    class PageShown(Message):
        """The rows on show changed."""

        rows: int
        first_page: int

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.read_queries: Callable[[], UsageQueries] | None = None
        """Set by the pane before the first `show_calls`; called in the worker's thread."""
        self.query_filter = CallFilter(limit=PAGE_SIZE)
        self._pages: list[list[LogRow]] = []
        self._anchors: list[int | None] = []  # before_id of each page, by page number
        self._first = 0  # page number of the first page on show
        self._more = False  # the last page on show was full: older calls may follow
        self._generation = 0  # bumped by show_calls: older answers are dropped
        self._loading = False

    def on_mount(self) -> None:
        for label, key, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    @property
    def first_page(self) -> int:
        """Page number (from 0, newest) of the first page on show."""
        return self._first

    @property
    def at_start(self) -> bool:
        """Whether the cursor is on the newest call (nothing scrolled or chosen yet)."""
        return self._first == 0 and self.cursor_row <= 0

    def show_calls(self, query_filter: CallFilter) -> None:
        """Start over from the newest call matching `query_filter`."""
        self.query_filter = replace(query_filter, limit=PAGE_SIZE, before_id=None)
        self._generation += 1
        self._load(self.query_filter, "reset")

    def _load(self, query: CallFilter, place: Place) -> None:
        self._loading = True
        self._fetch(query, place, self._generation)

    @work(thread=True, exclusive=True, group="usage-log", exit_on_error=False)
    def _fetch(self, query: CallFilter, place: Place, generation: int) -> None:
        """Read one page (thread worker)."""
        assert self.read_queries is not None, "set CallLogTable.read_queries first"
        try:
            rows = self.read_queries().log_page(query)
        except Exception:
            self.app.call_from_thread(self._failed, generation)
            raise  # on_worker_state_changed shows it
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._loaded, rows, place, query.before_id, generation)

    def _failed(self, generation: int) -> None:
        if generation == self._generation:
            self._loading = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        notify_failure(self, event)

    def _loaded(self, rows: list[LogRow], place: Place, anchor: int | None, gen: int) -> None:
        if gen != self._generation:
            return
        self._loading = False
        cursor = self.cursor_row
        if place == "reset":
            self._pages, self._anchors, self._first, cursor = [rows], [None], 0, 0
            self._more = len(rows) == PAGE_SIZE
        elif place == "after":
            cursor = self._append(rows, anchor, cursor)
        else:
            cursor = self._prepend(rows, cursor)
        self._show_rows(cursor)

    def _append(self, rows: list[LogRow], anchor: int | None, cursor: int) -> int:
        self._more = len(rows) == PAGE_SIZE
        if not rows:
            return cursor
        self._anchors[self._first + len(self._pages) :] = [anchor]
        self._pages.append(rows)
        if len(self._pages) > MAX_PAGES:
            cursor -= len(self._pages.pop(0))
            self._first += 1
        return cursor

    def _prepend(self, rows: list[LogRow], cursor: int) -> int:
        self._pages.insert(0, rows)
        self._first -= 1
        if len(self._pages) > MAX_PAGES:
            self._pages.pop()
            self._more = True
        return cursor + len(rows)

    def _show_rows(self, cursor: int) -> None:
        self.clear()
        for page in self._pages:
            for row in page:
                self.add_row(*cells(row), key=str(row.id))
        if self.row_count:
            self.move_cursor(row=max(0, min(cursor, self.row_count - 1)), animate=False)
        self.post_message(self.PageShown(self.row_count, self._first))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self:
            self.load_nearby()

    def load_nearby(self) -> None:
        """Load the next or previous page when the cursor is near an end of the rows."""
        if self._loading or not self._pages:
            return
        row = self.cursor_row
        if row >= self.row_count - MARGIN and self._more:
            last = self._pages[-1][-1].id
            self._load(replace(self.query_filter, before_id=last), "after")
        elif row < MARGIN and self._first > 0:
            anchor = self._anchors[self._first - 1]
            self._load(replace(self.query_filter, before_id=anchor), "before")

    def call_id_at_cursor(self) -> int | None:
        """The id of the call under the cursor, if any."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return int(key) if key else None


def cells(row: LogRow) -> list[Text]:
    """The cells of one call's row; model, profile and prompt are untrusted, shown inert."""
    status = "hit" if row.cache_hit else STATUS_NAMES.get(row.status, row.status)
    style = "green" if row.cache_hit else STATUS_STYLES.get(row.status, "")
    tokens_in_out = f"{tokens(row.prompt_tokens)}/{tokens(row.completion_tokens)}"
    return [
        Text(str(row.id), justify="right", style="dim"),
        Text(local_time(row.started_at)),
        one_line(row.model, 14),
        Text(status, style=style),
        Text(tokens_in_out if row.status != "error" else "-", justify="right"),
        Text(_cost(row), justify="right"),
        one_line(row.excerpt, 33),
        Text(milliseconds(row.latency_ms), justify="right"),
    ]


def _cost(row: LogRow) -> str:
    if row.cost_usd is not None:
        return money(row.cost_usd)
    return "no price" if row.status == "ok" else "-"
