"""The request log: a table paged from SQL, never more than two pages of rows at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rich.text import Text

from storage.records import CallFilter
from storage.usage import LogRow, UsageQueries
from tui.text import money
from tui.widgets.paging import Direction, PagedTable
from tui.widgets.usage.figures import local_time, milliseconds, one_line, tokens

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
STATUS_NAMES = {"incomplete": "partial"}  # a stream cut before its end
STATUS_STYLES = {
    "ok": "",
    "error": "bold red",
    "incomplete": "yellow",
    "cancelled": "dim yellow",
    "pending": "dim",
}


class CallLogTable(PagedTable[LogRow]):
    """Calls newest first, read a page at a time (see `PagedTable`); `show_calls(filter)`
    starts over."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.read_queries: Callable[[], UsageQueries] | None = None
        """Set by the pane before the first `show_calls`; called in the worker's thread."""
        self.query_filter = CallFilter()

    def on_mount(self) -> None:
        for label, key, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def show_calls(self, query_filter: CallFilter) -> None:
        """Start over from the newest call matching `query_filter`."""
        self.query_filter = replace(query_filter, before_id=None)
        self.restart()

    def row_key(self, row: LogRow) -> str:
        return str(row.id)

    def row_cells(self, row: LogRow) -> list[Text]:
        return cells(row)

    def read_page(self, direction: Direction | None, anchor: LogRow | None) -> list[LogRow]:
        assert self.read_queries is not None, "set CallLogTable.read_queries first"
        queries = self.read_queries()
        query = replace(self.query_filter, limit=self.window.page_size)
        if anchor is None:
            return queries.log_page(query)
        if direction == "after":
            return queries.log_page(replace(query, before_id=anchor.id))
        return queries.log_page(query, newer_than=anchor.id)

    def call_id_at_cursor(self) -> int | None:
        """The id of the call under the cursor, if any."""
        row = self.row_at_cursor()
        return row.id if row is not None else None


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
