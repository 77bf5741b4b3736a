"""Budgets on the client's path: reserve a paid call's estimated cost before it is sent,
settle it with the real cost after, and hand the alerts it raises to whoever listens.

Free calls (a `local` or demo endpoint) and calls that no budget covers cost one indexed
read and nothing else: the pre-flight estimate (token counting) is only made for a call a
budget covers. Webhooks are delivered on a background thread, so neither a console's event
loop nor a CLI call waits for a slow webhook; `close` waits for the deliveries in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from core.alerts import WebhookSender
from core.budgets import BudgetGuard, Reservation, zone_setting
from core.budgets.estimate import Preflight, preflight
from core.budgets.guard import reason_of, refusal
from core.budgets.periods import windows
from core.clock import Clock, iso
from core.errors import BudgetExceeded
from core.settings import Profile, Settings
from storage.alerts import AlertRow
from storage.budgets import BudgetBook, Standing
from storage.store import Store

if TYPE_CHECKING:
    from core.params import ChatRequest

AlertListener = Callable[[list[AlertRow]], object]
"""Receives the alerts a call raised, on the thread that made the call."""

HOLD_MARGIN_SECONDS = 60.0
"""Added to a profile's longest possible call when holding budget for it."""

_log = logging.getLogger("tunedeck.budgets")
_EPSILON = 1e-9


@dataclass(frozen=True)
class CallEstimate:
    """What a call would cost, and what the budgets covering it would say."""

    preflight: Preflight
    standings: list[Standing]
    """The budgets covering the call, with their current use (empty for a free call)."""
    refusal: str | None
    """Why the call would be refused (the first budget it would take over), or None."""


class BudgetHook:
    """The budget guard as the chat client uses it, one guard per profile.

    Args:
        store: the database.
        settings: gives the time zone of budget periods.
        clock: the current time (UTC).
        webhooks: delivers alerts to their webhooks (a `WebhookSender` when None).
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        webhooks: Callable[[list[AlertRow]], object] | None = None,
    ) -> None:
        self.store = store
        self.zone = zone_setting(settings.timezone)
        self.clock = clock
        self.book = BudgetBook(store)
        self.listeners: list[AlertListener] = []
        self._webhooks = webhooks or WebhookSender(store)
        self._guards: dict[str, BudgetGuard] = {}
        self._delivery: ThreadPoolExecutor | None = None

    def reserve(
        self, profile_name: str, profile: Profile, request: ChatRequest, over_budget: bool
    ) -> Reservation | None:
        """Hold the call's estimated cost against the budgets covering it; None when the
        call is free or no budget covers it.

        Raises:
            BudgetExceeded: a budget refuses the call (nothing is held).
        """
        if is_free(profile) or not self.book.covers(profile_name, request.model):
            return None
        cost = preflight(request, profile, self.store).cost_usd
        guard = self.guard(profile_name, profile)
        return guard.reserve(profile_name, request.model, cost, over_budget=over_budget)

    def estimate(self, profile_name: str, profile: Profile, request: ChatRequest) -> CallEstimate:
        """The pre-flight estimate of a call and the budgets it would touch; sends nothing."""
        estimate = preflight(request, profile, self.store)
        if is_free(profile):
            return CallEstimate(estimate, [], None)
        now = self.clock()
        standings = self.book.standings(
            windows(now, self.zone), iso(now), profile_name, request.model
        )
        return CallEstimate(estimate, standings, would_refuse(standings, estimate.cost_usd))

    def check_spend(
        self, profile_name: str, profile: Profile, model: str, cost_usd: Decimal | None, what: str
    ) -> None:
        """Refuse a batch of calls (`what`: "evaluation run") whose estimated cost would
        take a budget covering them over; its calls are still guarded one by one.

        A batch estimated at exactly $0 (an evaluation re-run answered from the cache)
        passes even a budget used up, as a lone cache hit does.

        Raises:
            BudgetExceeded: a covering budget is used up or would be exceeded (nothing sent).
        """
        if cost_usd == 0 or is_free(profile) or not self.book.covers(profile_name, model):
            return
        now = self.clock()
        standings = self.book.standings(windows(now, self.zone), iso(now), profile_name, model)
        reason = would_refuse(standings, cost_usd)
        if reason is None:
            return
        reason = reason_of(reason).replace("this call", "it")
        refused = next(s for s in standings if refusal_of(s, cost_usd) is not None)
        raise BudgetExceeded(
            f"{what} refused: {reason}",
            budget=refused.budget.name,
            committed_usd=refused.committed_usd,
            limit_usd=refused.budget.limit_usd,
            period=refused.budget.period,
        )

    def settle(self, held: Reservation | None, cost_usd: Decimal | None) -> list[AlertRow]:
        """Release the hold of a finished call; returns the alerts its real cost raised."""
        if held is None:
            return []
        return self._guards[held.profile].settle(held, cost_usd)

    def release(self, held: Reservation | None) -> None:
        """Give back the hold of a call that failed or was never sent."""
        if held is not None:
            self._guards[held.profile].release(held)

    def guard(self, profile_name: str, profile: Profile) -> BudgetGuard:
        """The guard for a profile: its holds last as long as its longest call could."""
        if profile_name not in self._guards:
            longest = profile.timeout * (profile.max_retries + 1) + HOLD_MARGIN_SECONDS
            self._guards[profile_name] = BudgetGuard(
                self.store,
                zone=self.zone,
                clock=self.clock,
                hold_seconds=longest,
                notify=self._notify,
            )
        return self._guards[profile_name]

    def close(self) -> None:
        """Wait for the webhook deliveries in flight."""
        if self._delivery is not None:
            self._delivery.shutdown(wait=True)
            self._delivery = None

    def _notify(self, alerts: list[AlertRow]) -> None:
        for listener in list(self.listeners):
            try:
                listener(alerts)
            except Exception:  # a listener's bug must not turn a paid, logged call into an error
                _log.exception("an alert listener failed")
        if any(alert.webhook_env for alert in alerts):
            self._deliverer().submit(self._deliver, alerts)

    def _deliver(self, alerts: list[AlertRow]) -> None:
        try:
            self._webhooks(alerts)
        except Exception:  # every attempt is recorded; `tunedeck alerts` shows failures
            _log.exception("delivering %d alert(s) failed", len(alerts))

    def _deliverer(self) -> ThreadPoolExecutor:
        if self._delivery is None:
            self._delivery = ThreadPoolExecutor(1, thread_name_prefix="tunedeck-webhooks")
        return self._delivery


def would_refuse(standings: list[Standing], cost_usd: Decimal | None) -> str | None:
    """The refusal a call costing `cost_usd` would get from these budgets, or None."""
    return next((r for s in standings if (r := refusal_of(s, cost_usd)) is not None), None)


def refusal_of(standing: Standing, cost_usd: Decimal | None) -> str | None:
    """The refusal one budget would give a call costing `cost_usd`, or None."""
    amount = 0.0 if cost_usd is None else float(cost_usd)
    committed, limit = standing.committed_usd, standing.budget.limit_usd
    reached = committed + _EPSILON >= limit
    if reached or committed + amount > limit + _EPSILON:
        return refusal(standing, amount, reached)
    return None


def is_free(profile: Profile) -> bool:
    """Whether calls on `profile` cost nothing (a self-hosted or the demo endpoint)."""
    return profile.local or profile.demo
