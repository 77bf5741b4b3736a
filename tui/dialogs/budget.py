"""The budget form: name, limit, period, scope and thresholds, checked as the user types."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from core.budgets import PERIODS, new_budget
from core.clock import iso, utc_now
from core.errors import BadInput
from storage.budgets import BudgetRow


class BudgetDialog(ModalScreen[BudgetRow | str | None]):
    """Adds a budget, or edits `budget`; dismisses with the checked budget, with the name
    of the budget to remove (`ctrl+d`, when editing), or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+d", "remove", "Remove", priority=True),  # over the Input's delete-right
    ]
    DEFAULT_CSS = """
    BudgetDialog { align: center middle; }
    BudgetDialog > Vertical {
        width: 64; height: auto; border: thick $accent; background: $surface; padding: 0 1;
    }
    BudgetDialog Label.field { margin-top: 1; color: $text-muted; }
    BudgetDialog #budget-error { color: $error; height: auto; margin-top: 1; }
    BudgetDialog Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    BudgetDialog Button { margin-left: 2; }
    """

    def __init__(self, budget: BudgetRow | None = None, profiles: list[str] | None = None):
        super().__init__()
        self.budget = budget
        self.profiles = profiles

    def compose(self) -> ComposeResult:
        budget = self.budget
        with Vertical():
            yield Label("Edit budget" if budget else "New budget", classes="title")
            yield Label("Name", classes="field")
            yield Input(
                budget.name if budget else "",
                id="budget-name",
                compact=True,
                disabled=budget is not None,
            )
            yield Label("Limit (USD)", classes="field")
            yield Input(
                f"{budget.limit_usd:g}" if budget else "",
                id="budget-limit",
                compact=True,
                placeholder="5.00",
            )
            yield Label("Period", classes="field")
            yield Select[str](
                [(period, period) for period in PERIODS],
                value=budget.period if budget else "day",
                allow_blank=False,
                id="budget-period",
                compact=True,
            )
            yield Label("Scope: all, profile:NAME or model:PATTERN", classes="field")
            yield Input(budget.scope if budget else "all", id="budget-scope", compact=True)
            yield Label("Alert thresholds (%)", classes="field")
            thresholds = ",".join(f"{t:g}" for t in budget.thresholds) if budget else "50,80,100"
            yield Input(thresholds, id="budget-thresholds", compact=True)
            yield Label("", id="budget-error", markup=False)
            with Horizontal():
                yield Button("Cancel (esc)", id="cancel")
                if budget is not None:
                    yield Button("Remove (ctrl+d)", id="remove", variant="error")
                yield Button("Save (ctrl+s)", id="save", variant="primary")

    def on_mount(self) -> None:
        first = "#budget-limit" if self.budget else "#budget-name"
        self.query_one(first, Input).focus()

    def checked(self) -> BudgetRow:
        """The budget as typed, every field checked.

        Raises:
            BadInput: one line naming the field and the rule.
        """
        limit_text = self.query_one("#budget-limit", Input).value.strip()
        try:
            limit = float(limit_text.lstrip("$"))
        except ValueError:
            raise BadInput(f"limit: '{limit_text}' is not an amount in USD") from None
        period = self.query_one("#budget-period", Select).value
        return new_budget(
            name=self.query_one("#budget-name", Input).value.strip(),
            limit_usd=limit,
            period=period if isinstance(period, str) else "",
            scope=self.query_one("#budget-scope", Input).value.strip() or "all",
            thresholds=self.query_one("#budget-thresholds", Input).value.strip() or None,
            webhook_env=self.budget.webhook_env if self.budget else None,
            known_profiles=self.profiles,
            now=iso(utc_now()),
        )

    def problem(self) -> str | None:
        """What is wrong with the form, or None."""
        try:
            self.checked()
        except BadInput as error:
            return str(error)
        return None

    @on(Input.Changed)
    @on(Select.Changed)
    def _validate(self) -> None:
        self.query_one("#budget-error", Label).update(self.problem() or "")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Dismiss with the budget, or show what is wrong and stay."""
        try:
            budget = self.checked()
        except BadInput as error:
            self.query_one("#budget-error", Label).update(str(error))
            return
        self.dismiss(budget)

    @on(Button.Pressed, "#remove")
    def action_remove(self) -> None:
        """Dismiss with the name of the budget being edited: the pane removes it."""
        if self.budget is not None:
            self.dismiss(self.budget.name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)
