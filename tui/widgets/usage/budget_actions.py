"""The Usage pane's budget actions: read the Budgets section, add, edit and remove budgets."""

from __future__ import annotations

from textual import work
from textual.worker import get_current_worker

from storage.budgets import BudgetBook, BudgetRow
from tui.dialogs.budget import BudgetDialog
from tui.screens.base import PaneScreen
from tui.widgets.usage.budgets import BudgetFigures, UsageBudgets, read_budgets


class BudgetActions(PaneScreen):
    """The budget half of the Usage pane (which subclasses it)."""

    budget_figures: BudgetFigures | None = None

    @work(thread=True, exclusive=True, group="usage-budgets", exit_on_error=False)
    def load_budgets(self) -> None:
        """Read the budgets' use and the latest alerts (thread worker)."""
        figures = read_budgets(self.deck.engine, self.deck.clock())
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_budgets, figures)

    def _show_budgets(self, figures: BudgetFigures) -> None:
        self.budget_figures = figures
        self.query_one(UsageBudgets).show(figures)

    def action_new_budget(self) -> None:
        """Open the budget form for a new budget."""
        self._open_form(None)

    def action_edit_budget(self) -> None:
        """Open the budget form on the budget with the highest share of its limit used."""
        standings = self.budget_figures.standings if self.budget_figures else []
        if not standings:
            self.notify("no budget to edit: n adds one", severity="warning")
            return
        tightest = max(standings, key=lambda s: s.committed_usd / (s.budget.limit_usd or 1))
        self._open_form(tightest.budget)

    def _open_form(self, budget: BudgetRow | None) -> None:
        profiles = list(self.deck.engine.settings.all_profiles())
        dialog = BudgetDialog(budget, profiles)
        self.app.push_screen(dialog, self._form_closed)

    def _form_closed(self, result: BudgetRow | str | None) -> None:
        if result is not None:
            self.save_budget(result)

    @work(thread=True, exclusive=True, group="usage-budget-save", exit_on_error=False)
    def save_budget(self, change: BudgetRow | str) -> None:
        """Write a budget, or remove the one named (thread worker), then show the section."""
        book = BudgetBook(self.deck.engine.store)
        if isinstance(change, str):
            book.delete(change)
            said = f"budget '{change}' removed"
        else:
            kept = book.get(change.name)
            if kept is not None:  # an edit keeps the budget's creation time
                change = BudgetRow(**{**change.__dict__, "created_at": kept.created_at})
            book.put(change)
            said = f"budget '{change.name}' saved"
        self.app.call_from_thread(self.notify, said)
        self.app.call_from_thread(self.load_budgets)
        self.app.call_from_thread(self.deck.refresh_status)
