"""The status line: active profile and model, today's spend, cache hit rate, demo or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from core.clock import iso
from tui.alert_toasts import toast_alerts
from tui.engine import Engine
from tui.widgets.budget_bar import BudgetUse, budget_bar, tightest_budget


@dataclass(frozen=True)
class StatusFigures:
    """What the status line shows, read from the settings and the database."""

    profile: str
    model: str
    demo: bool
    spend_today: float
    unpriced_today: int
    hit_rate: float | None
    """Today's cache hit rate (an all-time figure would scan the whole log)."""
    budget: BudgetUse | None = None
    """The tightest budget (the highest share of its limit used), when there is one."""


def read_status(engine: Engine, profile: str, model: str, now: datetime) -> StatusFigures:
    """Figures for the status line (SQL; run it in a thread worker)."""
    chosen = engine.settings.all_profiles().get(profile)
    midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    since = iso(midnight)
    today = engine.store.calls.usage(None, since=since)
    return StatusFigures(
        profile=profile,
        model=model,
        demo=bool(chosen and chosen.demo),
        spend_today=today[0].cost_usd if today else 0.0,
        unpriced_today=today[0].unpriced_calls if today else 0,
        hit_rate=engine.store.calls.cache_hit_rate(since),
        budget=tightest_budget(engine, now),
    )


class StatusLine(Static):
    """One line under the header; follows the app's `status` figures."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "status", self._show)
        engine = getattr(self.app, "engine", None)
        if engine is not None:
            # Its thread opens the database (sqlite-utils imports numpy): after the first frame,
            # not competing with it for the interpreter (measured: ~0.15 s of CPU before it).
            after_start = getattr(self.app, "after_start", self.app.call_later)
            after_start(lambda: toast_alerts(self.app, engine))

    def _show(self, figures: StatusFigures | None) -> None:
        self.update(describe(figures) if figures else Text("loading…"))


def describe(figures: StatusFigures) -> Text:
    """The status line's text."""
    text = Text()
    text.append(f"{figures.profile}", style="bold")
    text.append(f" · {figures.model}")
    if figures.demo:
        text.append(" · OFFLINE DEMO", style="bold yellow")
    spend = f"${figures.spend_today:.4f}".rstrip("0").rstrip(".")
    text.append(f" · today: {spend if figures.spend_today else '$0'}")
    if figures.unpriced_today:
        text.append(f" (+{figures.unpriced_today} unpriced)")
    rate = "-" if figures.hit_rate is None else f"{figures.hit_rate:.0%}"
    text.append(f", cache hits {rate}")
    if figures.budget is not None:
        text.append(" · ")
        text.append_text(budget_bar(figures.budget))
    return text
