"""A budget's use as a short bar: the status line shows the tightest budget's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from core.clock import iso

if TYPE_CHECKING:
    from storage.budgets import Standing
    from tui.engine import Engine

BAR_CELLS = 8


@dataclass(frozen=True)
class BudgetUse:
    """How much of one budget is used in its current period."""

    name: str
    percent: float
    """Spent (plus held by calls in flight) as a percentage of the limit."""


def budget_use(standing: Standing) -> BudgetUse:
    """A standing as a share of its limit."""
    limit = standing.budget.limit_usd
    percent = 100.0 * standing.committed_usd / limit if limit > 0 else 100.0
    return BudgetUse(standing.budget.name, percent)


def tightest_budget(engine: Engine, now: datetime) -> BudgetUse | None:
    """The budget with the highest share of its limit used now, or None (SQL: a thread)."""
    from core.budgets import windows, zone_setting
    from storage.budgets import BudgetBook

    zone = zone_setting(engine.settings.timezone)
    standings = BudgetBook(engine.store).standings(windows(now, zone), iso(now))
    uses = [budget_use(standing) for standing in standings]
    return max(uses, key=lambda use: use.percent, default=None)


def bar_style(percent: float) -> str:
    """Green, then yellow from 80%, red from 100%."""
    return "bold red" if percent >= 100 else "yellow" if percent >= 80 else "green"


def budget_bar(use: BudgetUse, cells: int = BAR_CELLS) -> Text:
    """`daily ████░░░░ 52%`: the bar is capped at full, the figure is not."""
    filled = min(cells, round(cells * use.percent / 100))
    text = Text(f"{use.name} ")
    text.append("█" * filled, style=bar_style(use.percent))
    text.append("░" * (cells - filled), style="dim")
    text.append(f" {use.percent:.0f}%", style=bar_style(use.percent))
    return text
