"""The table of cache entries: one row per entry of the window, keyed by cache key."""

from __future__ import annotations

from datetime import datetime

from rich.console import JustifyMethod
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widgets import DataTable

from storage.records import CacheEntry
from tui.text import inert
from tui.widgets.cache.figures import age, is_expired, size, tokens_saved

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


class CacheTable(DataTable[Text]):
    """Shows the entries it is given; the screen decides which (it pages them from SQL)."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Details"),
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.entries: list[CacheEntry] = []
        self._now: datetime | None = None
        self._widths: dict[str, int] = {}

    def show(self, entries: list[CacheEntry], now: datetime, cursor: int, shift: int = 0) -> None:
        """Show `entries` with the cursor on row `cursor`, the view moved by `shift` rows."""
        scroll_y = self.scroll_y + shift
        self.entries, self._now = list(entries), now
        self._rebuild(now, cursor, scroll_y)

    def entry_at_cursor(self) -> CacheEntry | None:
        """The entry under the cursor, if any."""
        if not self.entries or not 0 <= self.cursor_row < len(self.entries):
            return None
        return self.entries[self.cursor_row]

    def drop(self, key: str) -> None:
        """Remove the row of a deleted entry; the cursor stays where it was."""
        self.entries = [entry for entry in self.entries if entry.key != key]
        if key in self.rows:
            self.remove_row(key)

    def on_resize(self, event: events.Resize) -> None:
        if self._column_widths() != self._widths and self._now is not None:
            self._rebuild(self._now, self.cursor_row, self.scroll_y)

    def _rebuild(self, now: datetime, cursor: int, scroll_y: float) -> None:
        self._widths = widths = self._column_widths()
        self.clear(columns=True)
        self._add_columns(widths)
        for entry in self.entries:
            self.add_row(*cells(entry, now, widths["model"], widths["prompt"]), key=entry.key)
        if self.entries:
            self.move_cursor(row=min(max(cursor, 0), len(self.entries) - 1), scroll=False)
        self.call_after_refresh(self.scroll_to, y=scroll_y, animate=False)

    def _add_columns(self, widths: dict[str, int]) -> None:
        narrow = widths["model"] < COLUMNS[0][2][0]
        for key, label, _ in COLUMNS:
            label = NARROW_LABELS.get(key, label) if narrow else label
            justify: JustifyMethod = "left" if key in ("model", "prompt") else "right"
            self.add_column(Text(label, justify=justify), key=key, width=widths[key])

    def _column_widths(self) -> dict[str, int]:
        width = self.scrollable_content_region.width
        layout = 0 if width >= _WIDE else 1
        widths = {key: sizes[layout] for key, _, sizes in COLUMNS}
        padding = 2 * self.cell_padding * len(COLUMNS)
        widths["prompt"] = max(_MIN_PROMPT, width - sum(widths.values()) - padding)
        return widths


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
