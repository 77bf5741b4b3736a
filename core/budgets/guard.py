"""The budget guard: reserve a paid call's estimated cost before sending, settle it after.

The client asks `reserve` before sending a paid, non-cached call and `settle` (or `release`
on failure) once the call is logged with its real cost. A reservation is checked and
written in one `BEGIN IMMEDIATE` transaction, so 32 workers, or several processes, cannot all
slip under the limit together: each sees the reservations of every call already admitted.
The limit can then be overshot only by the calls in flight whose real cost came out above
their estimate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from functools import partial

from core.budgets.periods import period_words, windows
from core.budgets.rules import usd
from core.clock import Clock, iso, utc_now
from core.errors import BudgetExceeded
from storage.alerts import AlertBook, AlertRow, NewAlert
from storage.budgets import BudgetBook, Hold, Standing
from storage.store import Store

log = logging.getLogger("tunedeck.budgets")

HOLD_SECONDS = 900.0
"""How long a reservation holds budget when its process never settles it (crashed)."""

_EPSILON = 1e-9  # sums of float costs: $4.9999999999 of $5.00 is $5.00


@dataclass(frozen=True)
class Reservation:
    """Budget held for one call; pass it back to `settle` or `release`."""

    id: int | None
    """None when nothing was held (a free call, or no budget covers it)."""
    profile: str
    model: str
    amount_usd: float


class BudgetGuard:
    """Stops paid calls at 100% of a budget and raises threshold alerts.

    Args:
        store: the database.
        zone: the time zone of budget periods (system local time when None).
        clock: the current time (UTC), injectable for tests.
        hold_seconds: how long an unsettled reservation lasts (a crashed process).
        notify: receives the alerts each `settle` raises (e.g. `WebhookSender.deliver`, or a
            function posting toasts); called after the database work, outside any lock.
    """

    def __init__(
        self,
        store: Store,
        *,
        zone: tzinfo | None = None,
        clock: Clock = utc_now,
        hold_seconds: float = HOLD_SECONDS,
        notify: Callable[[list[AlertRow]], object] | None = None,
    ) -> None:
        self.budgets = BudgetBook(store)
        self.alerts = AlertBook(store)
        self.zone = zone
        self.clock = clock
        self.hold_seconds = hold_seconds
        self.notify = notify

    def reserve(
        self,
        profile: str,
        model: str,
        estimated_cost_usd: Decimal | float | None,
        over_budget: bool = False,
    ) -> Reservation:
        """Hold `estimated_cost_usd` against every budget covering this call, or refuse it.

        A call is refused when a covering budget is already used up (spent + reserved at or
        over its limit) or when this estimate would take it over. An estimate of 0 (a local
        endpoint) holds nothing and is never refused; an unknown estimate (None: the model
        has no price) holds nothing but is refused by a used-up budget.

        Args:
            over_budget: send anyway (the user's `--over-budget`); the cost is still held.

        Raises:
            BudgetExceeded: the call must not be sent (nothing is held).
        """
        if estimated_cost_usd is not None and estimated_cost_usd < 0:
            raise ValueError("an estimated cost cannot be negative")
        amount = 0.0 if estimated_cost_usd is None else float(estimated_cost_usd)
        if estimated_cost_usd is not None and amount == 0:
            return Reservation(None, profile, model, 0.0)
        now = self.clock()
        until = now + timedelta(seconds=self.hold_seconds)
        hold = Hold(profile, model, amount, iso(now), iso(until))
        decide = partial(_decide, amount, over_budget)
        held = self.budgets.reserve(hold, windows(now, self.zone), decide)
        return Reservation(held, profile, model, amount)

    def settle(
        self, reservation: Reservation, actual_cost_usd: Decimal | float | None
    ) -> list[AlertRow]:
        """Release a reservation once its call is logged with its real cost, and raise the
        alerts of the thresholds now crossed; returns the new alerts (already notified).

        A call that cost nothing, or whose cost is unknown (None), adds no spending: its
        thresholds are not checked again.
        """
        if reservation.id is not None:
            self.budgets.release(reservation.id)
        if actual_cost_usd is None or actual_cost_usd <= 0:
            return []
        return self.check(reservation.profile, reservation.model)

    def release(self, reservation: Reservation) -> None:
        """Give back a reservation whose call was not made or failed without cost."""
        if reservation.id is not None:
            self.budgets.release(reservation.id)

    def standings(self) -> list[Standing]:
        """Every budget with what it has spent and holds in its current period."""
        now = self.clock()
        return self.budgets.standings(windows(now, self.zone), iso(now))

    def check(self, profile: str | None = None, model: str | None = None) -> list[AlertRow]:
        """Raise the alerts of every threshold crossed by logged spending, once per period,
        for the budgets covering `profile` and `model` (every budget when they are None)."""
        now = self.clock()
        standings = self.budgets.standings(windows(now, self.zone), iso(now), profile, model)
        raised = self.alerts.raise_new(threshold_alerts(standings, now))
        if raised and self.notify is not None:
            self.notify(raised)
        return raised


def threshold_alerts(standings: list[Standing], now: datetime) -> list[NewAlert]:
    """An alert for every threshold that the logged spending of a budget has reached."""
    alerts = []
    for standing in standings:
        budget, spent = standing.budget, standing.spent_usd
        for threshold in budget.thresholds:
            if spent + _EPSILON < budget.limit_usd * threshold / 100:
                break
            words = period_words(budget.period)
            alerts.append(
                NewAlert(
                    created_at=iso(now),
                    kind="budget",
                    rule=budget.name,
                    scope=budget.scope,
                    period=standing.window.key,
                    threshold=threshold,
                    figure=spent,
                    reference=budget.limit_usd,
                    message=f"budget '{budget.name}' at {threshold:g}%: "
                    f"{usd(spent)} of {usd(budget.limit_usd)} {words}",
                    webhook_env=budget.webhook_env,
                )
            )
    return alerts


def _decide(amount: float, over_budget: bool, standings: list[Standing]) -> None:
    """Refuse (raise) when a budget is used up or this call would take it over."""
    for standing in standings:
        limit, committed = standing.budget.limit_usd, standing.committed_usd
        reached = committed + _EPSILON >= limit
        if not reached and committed + amount <= limit + _EPSILON:
            continue
        if over_budget:
            log.info("budget '%s' overridden for one call", standing.budget.name)
            continue
        raise BudgetExceeded(
            refusal(standing, amount, reached),
            budget=standing.budget.name,
            committed_usd=committed,
            limit_usd=limit,
            period=standing.budget.period,
        )


OVER_BUDGET_HINT = "use --over-budget to send this call anyway"
"""How a refusal ends: the way to send one call anyway (the console names its key instead)."""


def reason_of(message: str) -> str:
    """A refusal without `OVER_BUDGET_HINT`: for a run, which has no such option."""
    return message.split(f"; {OVER_BUDGET_HINT}")[0]


def refusal(standing: Standing, amount: float, reached: bool) -> str:
    """The one line telling the user why a call was not sent, and how to send it anyway."""
    budget = standing.budget
    figures = f"{usd(standing.committed_usd)} of {usd(budget.limit_usd)} "
    figures += period_words(budget.period)
    if standing.reserved_usd > _EPSILON:
        figures += f" ({usd(standing.reserved_usd)} of it held by calls in flight)"
    if reached:
        what = f"budget '{budget.name}' reached: {figures}"
    else:
        what = f"budget '{budget.name}' would be exceeded: {figures}, and this call may cost "
        what += usd(amount)
    return f"{what}; {OVER_BUDGET_HINT}"
