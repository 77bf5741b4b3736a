"""The Usage pane's Budgets section: a bar per budget and the latest alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from core.budgets import usd, windows, zone_setting
from core.budgets.periods import period_words
from core.clock import iso
from storage.alerts import AlertBook, AlertRow
from storage.budgets import BudgetBook, Standing
from tui.cli.output import local_time
from tui.engine import Engine
from tui.text import inert
from tui.widgets.budget_bar import budget_bar, budget_use

ALERTS_SHOWN = 5


@dataclass(frozen=True)
class BudgetFigures:
    """Every budget with its use now, and the latest alerts."""

    standings: list[Standing]
    alerts: list[AlertRow]


def read_budgets(engine: Engine, now: datetime) -> BudgetFigures:
    """The section's figures (SQL: run it in a thread worker)."""
    zone = zone_setting(engine.settings.timezone)
    standings = BudgetBook(engine.store).standings(windows(now, zone), iso(now))
    return BudgetFigures(standings, AlertBook(engine.store).recent(ALERTS_SHOWN))


class UsageBudgets(Static):
    """Budget bars (spent / limit, period) and the latest alerts; hidden while there is no
    budget and no alert."""

    DEFAULT_CSS = """
    UsageBudgets { height: auto; padding: 0 1; display: none; }
    UsageBudgets.-shown { display: block; }
    """

    def show(self, figures: BudgetFigures) -> None:
        """Show the figures (hide the section when there is nothing to show)."""
        self.set_class(bool(figures.standings or figures.alerts), "-shown")
        self.update(budgets_table(figures))


def budgets_table(figures: BudgetFigures) -> Group:
    """One row a budget, then one row an alert (two grids: their columns differ)."""
    table = Table.grid(padding=(0, 2))
    for _ in range(4):
        table.add_column(no_wrap=True)
    for standing in figures.standings:
        budget = standing.budget
        held = f" +{usd(standing.reserved_usd)} held" if standing.reserved_usd else ""
        table.add_row(
            budget_bar(budget_use(standing), cells=16),
            Text(f"{usd(standing.spent_usd)}{held} of {usd(budget.limit_usd)}"),
            Text(period_words(budget.period)),
            Text(inert(budget.scope), style="dim"),
        )
    alerts = Table.grid(padding=(0, 2))
    alerts.add_column(no_wrap=True)
    alerts.add_column(overflow="ellipsis", no_wrap=True, ratio=1)
    alerts.add_column(no_wrap=True)
    alerts.add_column(no_wrap=True)
    for alert in figures.alerts:
        alerts.add_row(*alert_cells(alert))
    if not figures.alerts:
        return Group(table)
    return Group(table, Text("Alerts", style="bold"), alerts)


def alert_cells(alert: AlertRow) -> tuple[Text, Text, Text, Text]:
    """Time and kind, scope, figure against threshold, delivery status."""
    if alert.kind == "budget" and alert.reference is not None:
        figure = f"{alert.threshold:g}%: {usd(alert.figure)} of {usd(alert.reference)}"
    else:
        figure = inert(alert.message)
    return (
        Text(f"{local_time(alert.created_at)[5:16]} {alert.kind} '{inert(alert.rule)}'"),
        Text(figure),
        Text(inert(alert.scope), style="dim"),
        Text(f"webhook: {alert.delivery}", style="dim") if alert.webhook_env else Text(""),
    )
