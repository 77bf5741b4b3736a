"""The Cache pane: browse, filter, inspect and evict cached answers, paged from SQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label
from textual.worker import Worker, WorkerState

from core.clock import iso
from storage.records import CacheEntry, CacheStats
from tui.dialogs.confirm import ConfirmDialog
from tui.screens.base import PaneScreen
from tui.text import inert
from tui.widgets.cache.detail import CacheEntryDetail
from tui.widgets.cache.figures import stats_line
from tui.widgets.cache.table import CacheTable
from tui.widgets.cache.window import Direction, PageRequest, PageWindow

PAGE_SIZE = 100  # rows a query returns; the table holds at most two pages
NEAR_EDGE = 20  # rows from either end of the window at which the next page is fetched
FILTER_DELAY = 0.25  # seconds of quiet typing before the filter is applied


class CacheScreen(PaneScreen):
    """The response cache: a paged table, a filter, the stats line and the entry detail."""

    SUB_TITLE = "Cache"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", key_display="/"),
        Binding("f", "focus_filter", "Filter", show=False),
        Binding("enter", "open_entry", "Details", show=False),
        Binding("d", "delete_entry", "Delete"),
        Binding("e", "clear_expired", "Clear expired"),
        Binding("C", "clear_all", "Clear all"),
        Binding("r", "reload", "Reload", show=False),
        Binding("escape", "focus_table", "Back to the table", show=False),
    ]
    """Read by the help screen and the command palette."""

    def __init__(self) -> None:
        super().__init__()
        self.window = PageWindow(PAGE_SIZE)
        self.stats: CacheStats | None = None
        self._search = ""
        self._generation = 0
        self._loading = False
        self._filter_timer: Timer | None = None

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="cache-pane"):
            with Horizontal(id="cache-bar"):
                yield Input(
                    placeholder="filter by model or prompt text  (/ to type, escape to leave)",
                    id="cache-filter",
                    compact=True,
                )
            yield Label("loading…", id="cache-stats", markup=False)
            yield CacheTable(id="cache-table")
            yield Label("", id="cache-empty", markup=False)

    def on_mount(self) -> None:
        self.query_one("#cache-empty").display = False
        self.reload()

    @property
    def table(self) -> CacheTable:
        """The table of entries."""
        return self.query_one(CacheTable)

    def focus_default(self) -> None:
        self.table.focus()

    # -- keys ---------------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        """Type a filter: the entries whose model or prompt contains it."""
        self.query_one("#cache-filter", Input).focus()

    def action_focus_table(self) -> None:
        """Leave the filter for the table (the filter stays applied)."""
        self.focus_default()

    def action_reload(self) -> None:
        """Read the entries and the figures again, from the top."""
        self.reload()

    def action_open_entry(self) -> None:
        """Show the entry under the cursor in full."""
        entry = self.table.entry_at_cursor()
        if entry is not None:
            detail = CacheEntryDetail(entry, self.deck.clock())
            self.app.push_screen(detail, partial(self._detail_closed, entry))

    def action_delete_entry(self) -> None:
        """Delete the entry under the cursor, once confirmed."""
        entry = self.table.entry_at_cursor()
        if entry is None:
            self.notify("no entry selected", severity="warning")
            return
        excerpt = " ".join(entry.prompt_excerpt.split())[:60]
        question = f"Delete the cached answer of {entry.model} to “{excerpt}”?"
        self._confirm(inert(question), partial(self.delete_entry, entry.key))

    def action_clear_expired(self) -> None:
        """Delete every expired entry, once confirmed."""
        count = f"the {self.stats.expired:,} " if self.stats else ""
        question = f"Delete {count}expired cache entries?"
        self._confirm(question, lambda: self.clear_entries(iso(self.deck.clock())))

    def action_clear_all(self) -> None:
        """Delete every entry, once confirmed."""
        count = f"all {self.stats.entries:,}" if self.stats else "every"
        question = f"Delete {count} cached answers? Calls will go to the model again."
        self._confirm(question, lambda: self.clear_entries(None))

    def _confirm(self, question: str, then: Callable[[], object]) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmDialog(question), answered)

    def _detail_closed(self, entry: CacheEntry, result: str | None) -> None:
        if result == "delete" and self.window.find(entry.key) is not None:
            self.table.move_cursor(row=self.table.get_row_index(entry.key))
            self.action_delete_entry()

    # -- the filter and the window of rows ----------------------------------------------------

    @on(Input.Changed, "#cache-filter")
    def _filter_typed(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY, self._apply_filter)

    @on(Input.Submitted, "#cache-filter")
    def _filter_submitted(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._apply_filter()
        self.focus_default()

    def _apply_filter(self) -> None:
        search = self.query_one("#cache-filter", Input).value.strip()
        if search != self._search:
            self._search = search
            self.reload(stats=False)

    def reload(self, stats: bool = True) -> None:
        """Start the listing again from its first page (and re-read the figures)."""
        self._generation += 1
        self._request("reset")
        if stats:
            self.load_stats(iso(self.deck.clock()))

    def _request(self, direction: Direction) -> None:
        self._loading = True
        anchor = self.window.anchor(direction)
        self.load_page(PageRequest(self._generation, direction, anchor, self._search))

    @on(DataTable.RowHighlighted, "#cache-table")
    def _row_highlighted(self) -> None:
        self._fetch_near_edge()

    @on(DataTable.RowSelected, "#cache-table")
    def _row_selected(self) -> None:
        self.action_open_entry()

    def _fetch_near_edge(self) -> None:
        """Fetch the page past whichever end of the window the cursor is close to."""
        if self._loading:
            return
        row, rows = self.table.cursor_row, len(self.window.entries)
        if self.window.has_after and row >= rows - NEAR_EDGE:
            self._request("after")
        elif self.window.has_before and row < NEAR_EDGE:
            self._request("before")

    @work(thread=True, exclusive=True, group="cache-page", exit_on_error=False)
    def load_page(self, request: PageRequest) -> None:
        """Read one page of entries (thread worker) and hand it to `_page_loaded`."""
        after = request.anchor if request.direction == "after" else None
        before = request.anchor if request.direction == "before" else None
        cache = self.deck.engine.store.cache
        page = cache.browse(PAGE_SIZE, after=after, before=before, search=request.search)
        self.app.call_from_thread(self._page_loaded, request, page)

    def _page_loaded(self, request: PageRequest, page: list[CacheEntry]) -> None:
        if request.generation != self._generation:
            return  # a newer listing is on its way
        self._loading = False
        if request.anchor != self.window.anchor(request.direction):
            self._fetch_near_edge()  # the window changed meanwhile (a deletion): ask again
            return
        window, table, now = self.window, self.table, self.deck.clock()
        if request.direction == "reset":
            window.reset(page)
            table.show(window.entries, now, cursor=0, shift=-int(table.scroll_y))
        elif request.direction == "after":
            dropped = window.extend_after(page)
            table.show(window.entries, now, table.cursor_row - dropped, shift=-dropped)
        else:
            added = window.extend_before(page)
            table.show(window.entries, now, table.cursor_row + added, shift=added)
        self._show_empty()
        self._fetch_near_edge()

    def _show_empty(self) -> None:
        empty = self.query_one("#cache-empty", Label)
        empty.display = not self.window.entries
        if self._search:
            empty.update(inert(f"No cached answer matches “{self._search}”."))
        else:
            empty.update("The cache is empty: answers to deterministic calls land here.")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed page load frees the pager (PaneScreen turns the error into a notification)."""
        if event.state is WorkerState.ERROR and event.worker.group == "cache-page":
            self._loading = False

    # -- figures and deletions ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="cache-stats", exit_on_error=False)
    def load_stats(self, now: str) -> None:
        """Read the cache's figures (thread worker)."""
        stats = self.deck.engine.store.cache.stats(now)
        self.app.call_from_thread(self._show_stats, stats)

    def _show_stats(self, stats: CacheStats) -> None:
        self.stats = stats
        self.query_one("#cache-stats", Label).update(stats_line(stats))

    @work(thread=True, exclusive=True, group="cache-write", exit_on_error=False)
    def delete_entry(self, key: str) -> None:
        """Delete one entry (thread worker)."""
        deleted = self.deck.engine.store.cache.delete(key)
        self.app.call_from_thread(self._entry_deleted, key, deleted)

    def _entry_deleted(self, key: str, deleted: int) -> None:
        if self.window.remove(key):
            self.table.drop(key)
        self._show_empty()
        self._written(f"deleted {deleted} cache entr{'y' if deleted == 1 else 'ies'}")

    @work(thread=True, exclusive=True, group="cache-write", exit_on_error=False)
    def clear_entries(self, expired_before: str | None) -> None:
        """Delete every entry, or only those expired at `expired_before` (thread worker)."""
        deleted = self.deck.engine.store.cache.clear(expired_before=expired_before)
        self.app.call_from_thread(self._cleared, deleted)

    def _cleared(self, deleted: int) -> None:
        self.reload(stats=False)
        self._written(f"deleted {deleted} cache entr{'y' if deleted == 1 else 'ies'}")

    def _written(self, message: str) -> None:
        self.notify(message)
        self.load_stats(iso(self.deck.clock()))
        self.deck.refresh_status()
