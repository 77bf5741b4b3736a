"""Budgets: spending limits per scope and period, enforced before paid calls are sent.

`BudgetGuard` is what the client calls (`reserve` before sending, `settle` or `release`
after); `new_budget` checks a budget given by the user; `periods` knows the time zone.
"""

from core.budgets.guard import BudgetGuard, Reservation
from core.budgets.periods import PERIODS, windows, zone_named, zone_setting
from core.budgets.rules import DEFAULT_THRESHOLDS, new_budget, usd

__all__ = [
    "DEFAULT_THRESHOLDS",
    "PERIODS",
    "BudgetGuard",
    "Reservation",
    "new_budget",
    "usd",
    "windows",
    "zone_named",
    "zone_setting",
]
