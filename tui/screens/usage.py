"""The Usage pane: totals, a breakdown, a daily chart and the searchable request log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Select
from textual.worker import get_current_worker

from storage.records import CallFilter, UsageRow
from storage.usage import BREAKDOWNS, UsageQueries, totals_of
from tui.text import inert
from tui.widgets.paging import PagedTable
from tui.widgets.usage.breakdown import UsageBreakdown
from tui.widgets.usage.budget_actions import BudgetActions
from tui.widgets.usage.budgets import UsageBudgets
from tui.widgets.usage.chart import UsageChart
from tui.widgets.usage.detail import CallDetailScreen
from tui.widgets.usage.log import CallLogTable
from tui.widgets.usage.totals import UsageTotals

DAYS = 30  # days of the breakdown and of the chart, ending today


@dataclass(frozen=True)
class Figures:
    """What one refresh read: totals per period, the daily series, a breakdown, the models."""

    totals: list[UsageRow]
    days: list[UsageRow]
    by: str
    breakdown: list[UsageRow]
    models: list[str]


class UsageScreen(BudgetActions):
    """Where the money and tokens went, and every call in the log."""

    SUB_TITLE = "Usage"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (30, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search", key_display="/"),
        Binding("x", "toggle_errors", "Errors only"),
        Binding("b", "cycle_breakdown", "Breakdown"),
        Binding("r", "refresh", "Refresh"),
        Binding("n", "new_budget", "New budget"),
        Binding("e", "edit_budget", "Edit budget"),
        Binding("enter", "open_call", "Details", show=False),
        Binding("escape", "leave_search", "Leave search", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.breakdown_by = BREAKDOWNS[0]
        self.errors_only = False
        self._queries: UsageQueries | None = None
        self._models: list[str] = []
        self.figures: Figures | None = None
        """The figures on show (None until the first read)."""
        self._seen: tuple[object, ...] | None = None  # what the figures were read at

    @property
    def queries(self) -> UsageQueries:
        """The pane's reads (made on first use, in a worker: it may open the database)."""
        if self._queries is None:
            self._queries = UsageQueries(self.deck.engine.store)
        return self._queries

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="usage-pane"):
            yield UsageTotals(id="usage-totals")
            yield UsageBudgets(id="usage-budgets")
            with Horizontal(id="usage-figures"):
                yield UsageBreakdown(id="usage-breakdown")
                yield UsageChart(id="usage-chart")
            with Horizontal(id="log-filters"):
                yield Input(
                    placeholder="/ search prompts and answers", id="log-search", compact=True
                )
                yield Select[str]([], prompt="all models", id="log-model", compact=True)
                yield Label("", id="log-hint")
            yield CallLogTable(id="usage-log")

    def on_mount(self) -> None:
        if not self.query(CallLogTable):  # the console quit while this pane was built ahead
            return
        self.query_one(CallLogTable).read_queries = lambda: self.queries

    def on_screen_resume(self) -> None:
        self.read_if_changed()  # the first time, and when calls were made meanwhile

    def focus_default(self) -> None:
        self.query_one(CallLogTable).focus()

    # -- figures --------------------------------------------------------------------------

    @work(thread=True, group="usage-check", exit_on_error=False)
    def read_if_changed(self) -> None:
        """Read the figures and the newest calls again if the database changed since they
        were read (thread worker): a check of microseconds, when nothing changed."""
        seen = (self.deck.engine.store.version(), self.deck.clock().astimezone().date())
        if seen != self._seen and not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._changed, seen)

    def _changed(self, seen: tuple[object, ...]) -> None:
        self.load_figures(seen)
        self.load_budgets()
        log = self.query_one(CallLogTable)
        if not log.loaded or log.at_start:
            self.refresh_log()  # new calls show up; a row the user scrolled to stays

    @work(thread=True, exclusive=True, group="usage-figures", exit_on_error=False)
    def load_figures(self, seen: tuple[object, ...] | None = None) -> None:
        """Read the totals, the daily series, the breakdown and the models (thread worker);
        `seen` is the database's version and the day they are read at."""
        now, by = self.deck.clock(), self.breakdown_by
        days = self.queries.daily(now, DAYS)
        figures = Figures(
            totals=totals_of(days),
            days=days,
            by=by,
            breakdown=self.queries.breakdown(by, now, DAYS),
            models=self.queries.models(),
        )
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_figures, figures, seen)

    def _show_figures(self, figures: Figures, seen: tuple[object, ...] | None = None) -> None:
        self.figures = figures
        if seen is not None:
            self._seen = seen
        self.query_one(UsageTotals).show(figures.totals)
        self.query_one(UsageChart).show(figures.days)
        self._show_breakdown(figures.by, figures.breakdown)
        self._offer_models(figures.models)
        self.render_ahead()

    def _offer_models(self, models: list[str]) -> None:
        select = self.query_one("#log-model", Select)
        if models == self._models:
            return
        self._models = models
        chosen = select.value
        select.set_options((Text(inert(name)), name) for name in models)
        if isinstance(chosen, str) and chosen in models:
            select.value = chosen

    @work(thread=True, exclusive=True, group="usage-breakdown", exit_on_error=False)
    def load_breakdown(self, by: str) -> None:
        """Read one breakdown (thread worker)."""
        rows = self.queries.breakdown(by, self.deck.clock(), DAYS)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_breakdown, by, rows)

    def _show_breakdown(self, by: str, rows: list[UsageRow]) -> None:
        if by == self.breakdown_by:
            self.query_one(UsageBreakdown).show(by, rows, DAYS)

    # -- the log --------------------------------------------------------------------------

    def log_filter(self) -> CallFilter:
        """The log's filter as the search box, the model picker and `x` set it."""
        search = self.query_one("#log-search", Input).value.strip()
        model = self.query_one("#log-model", Select).value
        return CallFilter(
            search=search or None,
            model=model if isinstance(model, str) else None,
            errors_only=self.errors_only,
        )

    def refresh_log(self, *, only_if_changed: bool = False) -> None:
        """Show the log from its newest call under the current filter."""
        log = self.query_one(CallLogTable)
        wanted = self.log_filter()
        if only_if_changed and _chosen(wanted) == _chosen(log.query_filter):
            return
        log.show_calls(wanted)
        self._show_hint(None)

    @on(Input.Changed, "#log-search")
    @on(Select.Changed, "#log-model")
    def _filter_changed(self) -> None:
        self.refresh_log(only_if_changed=True)

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self) -> None:
        self.focus_default()

    @on(PagedTable.RowsChanged, "#usage-log")
    def _rows_changed(self, event: PagedTable.RowsChanged) -> None:
        self._show_hint(event.rows)
        self.render_ahead()

    def _show_hint(self, rows: int | None) -> None:
        parts = ["errors only (x)"] if self.errors_only else []
        if rows == 0:
            parts.append("no calls match")
        label = self.query_one("#log-hint", Label)
        label.update(" · ".join(parts))
        label.set_class(self.errors_only, "-errors")

    @on(DataTable.RowSelected, "#usage-log")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_call()

    @work(thread=True, exclusive=True, group="usage-detail", exit_on_error=False)
    def open_call(self, call_id: int) -> None:
        """Read one call and show its detail (thread worker)."""
        record = self.deck.engine.store.calls.get(call_id)
        if record is None:
            self.app.call_from_thread(self.notify, f"call #{call_id} is gone", severity="warning")
        elif not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.app.push_screen, CallDetailScreen(record))

    # -- actions --------------------------------------------------------------------------

    def action_open_call(self) -> None:
        """Show the detail of the call under the log's cursor."""
        call_id = self.query_one(CallLogTable).call_id_at_cursor()
        if call_id is not None:
            self.open_call(call_id)

    def action_focus_search(self) -> None:
        """Put the cursor in the search box."""
        self.query_one("#log-search", Input).focus()

    def action_leave_search(self) -> None:
        """Back from the search box (or the model picker) to the log."""
        self.focus_default()

    def action_toggle_errors(self) -> None:
        """Show only failed calls, or every call again."""
        self.errors_only = not self.errors_only
        self.refresh_log()

    def action_cycle_breakdown(self) -> None:
        """Break the totals down by the next of model, profile and day."""
        index = BREAKDOWNS.index(self.breakdown_by)
        self.breakdown_by = BREAKDOWNS[(index + 1) % len(BREAKDOWNS)]
        self.load_breakdown(self.breakdown_by)

    def action_refresh(self) -> None:
        """Read every figure and the log again."""
        self.load_figures()
        self.load_budgets()
        self.refresh_log()
        self.deck.refresh_status()


def _chosen(query: CallFilter) -> tuple[object, ...]:
    """The parts of a filter the user chooses (not the paging)."""
    return (query.search, query.model, query.errors_only)
