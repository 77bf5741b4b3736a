"""The table of cache entries: one row per entry of the window, keyed by cache key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import JustifyMethod
from rich.text import Text
from textual import events
from textual.binding import Binding

from core.clock import utc_now
from storage.records import CacheEntry
from tui.text import inert
from tui.widgets.cache.figures import age, is_expired, size, tokens_saved
from tui.widgets.paging import Direction, PagedTable

if TYPE_CHECKING:
    from storage.cache import ResponseCache

# Column keys, labels and widths (wide, narrow); the prompt column takes what is left.
COLUMNS = [
    ("model", "model", (22, 12)),
    ("prompt", "prompt", (0, 0)),
    ("hits", "hits", (5, 5)),
    ("age", "age", (8, 7)),
    ("size", "size", (9, 9)),
    ("saved", "tokens saved", (12, 9)),
]
NARROW_LABELS = {"saved": "tok saved"}
_WIDE = 110  # the table's width from which the wide layout is used
_MIN_PROMPT = 16


class CacheTable(PagedTable[CacheEntry]):
    """The entries of the cache, newest first, read a page at a time (see `PagedTable`)."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Details"),
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.search = ""
        """Only entries whose model or prompt excerpt contains this (set, then `restart`)."""
        self.read_cache: Callable[[], ResponseCache] | None = None
        """Set by the pane before the first `restart`; called in the worker's thread."""
        self.clock: Callable[[], datetime] = utc_now
        """Now, for ages and expiry (the app's clock, injected by tests)."""
        self._widths: dict[str, int] = {}

    def row_key(self, row: CacheEntry) -> str:
        return row.key

    def row_cells(self, row: CacheEntry) -> list[Text]:
        return cells(row, self.clock(), self._widths["model"], self._widths["prompt"])

    def read_page(self, direction: Direction | None, anchor: CacheEntry | None) -> list[CacheEntry]:
        assert self.read_cache is not None, "set CacheTable.read_cache first"
        where = position(anchor) if anchor is not None else None
        return self.read_cache().browse(
            self.window.page_size,
            after=where if direction == "after" else None,
            before=where if direction == "before" else None,
            search=self.search,
        )

    def entry_at_cursor(self) -> CacheEntry | None:
        """The entry under the cursor, if any."""
        return self.row_at_cursor()

    def on_resize(self, event: events.Resize) -> None:
        if self.loaded and self._column_widths() != self._widths:
            self._show_window(self.cursor_row, self.scroll_y)

    def _show_window(self, cursor: int = 0, scroll_y: float = 0) -> None:
        self._widths = widths = self._column_widths()  # the prompt column takes what is left
        self.clear(columns=True)
        narrow = widths["model"] < COLUMNS[0][2][0]
        for key, label, _ in COLUMNS:
            label = NARROW_LABELS.get(key, label) if narrow else label
            justify: JustifyMethod = "left" if key in ("model", "prompt") else "right"
            self.add_column(Text(label, justify=justify), key=key, width=widths[key])
        super()._show_window(cursor, scroll_y)

    def _column_widths(self) -> dict[str, int]:
        width = self.scrollable_content_region.width
        layout = 0 if width >= _WIDE else 1
        widths = {key: sizes[layout] for key, _, sizes in COLUMNS}
        padding = 2 * self.cell_padding * len(COLUMNS)
        widths["prompt"] = max(_MIN_PROMPT, width - sum(widths.values()) - padding)
        return widths


def position(entry: CacheEntry) -> tuple[str, str]:
    """Where `entry` sits in the listing (newest first, then by key): `ResponseCache.browse`'s
    `after`/`before`."""
    return (entry.created_at, entry.key)


def cells(entry: CacheEntry, now: datetime, model_width: int, prompt_width: int) -> list[Text]:
    """The row of an entry; text from users and models is shown inert, on one line."""
    expired = is_expired(entry, now)
    when = age(entry.created_at, now) + (" exp" if expired else "")
    return [
        _clipped(entry.model, model_width),
        _clipped(entry.prompt_excerpt, prompt_width),
        Text(f"{entry.hits:,}", justify="right"),
        Text(when, justify="right", style="red" if expired else ""),
        Text(size(entry.size_bytes), justify="right"),
        Text(f"{tokens_saved(entry):,}", justify="right"),
    ]


def _clipped(text: str, width: int) -> Text:
    line = Text(inert(" ".join(text.split())), no_wrap=True)
    line.truncate(width, overflow="ellipsis")
    return line
