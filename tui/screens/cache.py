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
from textual.worker import get_current_worker

from core.clock import iso
from storage.records import CacheEntry, CacheStats
from tui.dialogs.confirm import ConfirmDialog
from tui.screens.base import PaneScreen
from tui.text import inert
from tui.widgets.cache.detail import CacheEntryDetail
from tui.widgets.cache.figures import stats_line
from tui.widgets.cache.table import CacheTable
from tui.widgets.paging import PagedTable

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
        self.stats: CacheStats | None = None
        self._search = ""
        self._filter_timer: Timer | None = None
        self._seen: tuple[object, ...] | None = None  # what the figures and rows were read at

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
        if not self.query("#cache-empty"):  # the console quit while this pane was built ahead
            return
        self.query_one("#cache-empty").display = False
        self.table.read_cache = lambda: self.deck.engine.store.cache
        self.table.clock = self.deck.clock

    def on_screen_resume(self) -> None:
        self.read_if_changed()  # the first time, and when calls or deletions changed the cache

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
        if result == "delete" and self.table.window.find(entry.key) is not None:
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
        self.table.search = self._search
        self.table.restart()
        if stats:
            self.load_stats(iso(self.deck.clock()))

    @work(thread=True, group="cache-check", exit_on_error=False)
    def read_if_changed(self) -> None:
        """Read the figures and the first page again if the database changed since they
        were read (thread worker): a check of microseconds, when nothing changed."""
        seen = (self.deck.engine.store.version(), self.deck.clock().astimezone().date())
        if seen != self._seen and not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._changed, seen)

    def _changed(self, seen: tuple[object, ...]) -> None:
        self._seen = seen
        if self.table.loaded and not self.table.at_start:
            self.load_stats(iso(self.deck.clock()))  # the rows the user scrolled to stay
        else:
            self.reload()

    @on(DataTable.RowSelected, "#cache-table")
    def _row_selected(self) -> None:
        self.action_open_entry()

    @on(PagedTable.RowsChanged, "#cache-table")
    def _show_empty(self) -> None:
        empty = self.query_one("#cache-empty", Label)
        empty.display = self.table.loaded and not self.table.window.rows
        if self._search:
            empty.update(inert(f"No cached answer matches “{self._search}”."))
        else:
            empty.update("The cache is empty: answers to deterministic calls land here.")
        self.render_ahead()

    # -- figures and deletions ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="cache-stats", exit_on_error=False)
    def load_stats(self, now: str) -> None:
        """Read the cache's figures (thread worker)."""
        stats = self.deck.engine.store.cache.stats(now)
        self.app.call_from_thread(self._show_stats, stats)

    def _show_stats(self, stats: CacheStats) -> None:
        self.stats = stats
        self.query_one("#cache-stats", Label).update(stats_line(stats))
        self.render_ahead()

    @work(thread=True, exclusive=True, group="cache-write", exit_on_error=False)
    def delete_entry(self, key: str) -> None:
        """Delete one entry (thread worker)."""
        deleted = self.deck.engine.store.cache.delete(key)
        self.app.call_from_thread(self._entry_deleted, key, deleted)

    def _entry_deleted(self, key: str, deleted: int) -> None:
        self.table.forget(key)
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
