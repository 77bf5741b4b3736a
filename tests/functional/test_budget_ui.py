"""Budgets in the console, driven by Pilot: the status line's bar, the Usage pane's bars and
alerts, the budget form (inline checks, save, edit, remove) and alert toasts from real calls."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Label, Static

from core.clock import iso
from core.params import build_request
from core.settings import Settings, load_settings
from storage.alerts import AlertBook
from storage.budgets import BudgetBook, BudgetRow
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.spend import log_call
from tui import alert_toasts
from tui.app import TunedeckApp
from tui.dialogs.budget import BudgetDialog
from tui.engine import Engine
from tui.screens.usage import UsageScreen
from tui.widgets.prompt.answer import AnswerView
from tui.widgets.prompt.editor import PromptEditor
from tui.widgets.status import StatusLine
from tui.widgets.usage.budgets import UsageBudgets

NOW = datetime.now(UTC).replace(microsecond=0)
SIZE = (120, 36)


def make_app(spent: float = 0.0, limit: float | None = None) -> TunedeckApp:
    engine = Engine(load_settings())
    store = engine.store
    if spent:
        log_call(store, NOW, spent, profile="fake")
    if limit is not None:
        row = BudgetRow("daily", "all", "", "day", limit, (50.0, 80.0, 100.0), None, iso(NOW))
        BudgetBook(store).put(row)
    return TunedeckApp(engine, clock=lambda: NOW, warm_up=False, cursor_blink=False)


async def settle(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_usage(pilot: Pilot[None]) -> UsageScreen:
    await settle(pilot)
    pilot.app.set_focus(None)
    await pilot.press("3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, UsageScreen)
    return screen


def shown(widget: Static) -> str:
    """The widget's content as plain text, as a 120-column terminal shows it."""
    console = Console(width=120, color_system=None)
    with console.capture() as captured:
        console.print(widget.content)
    return captured.get()


async def test_the_status_line_and_the_usage_pane_show_the_budget_bars(
    settings: Settings,
) -> None:
    app = make_app(spent=3.0, limit=5.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        section = screen.query_one(UsageBudgets)
        assert section.display
        text = shown(section)
        assert "daily" in text and "60%" in text
        assert "$3.00 of $5.00" in text and "today" in text
        status = screen.query_one(StatusLine)
        assert "daily" in shown(status) and "60%" in shown(status)


async def test_without_budgets_the_section_stays_hidden(settings: Settings) -> None:
    app = make_app(spent=3.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        assert not screen.query_one(UsageBudgets).display
        assert "%" not in shown(screen.query_one(StatusLine))


async def test_the_budget_form_checks_as_you_type_saves_edits_and_removes(
    settings: Settings,
) -> None:
    app = make_app(spent=1.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        await pilot.press("n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, BudgetDialog)
        dialog.query_one("#budget-name", Input).value = "weekly"
        dialog.query_one("#budget-limit", Input).value = "-3"
        await pilot.pause()
        error = dialog.query_one("#budget-error", Label)
        assert "limit" in str(error.render())
        await pilot.press("ctrl+s")
        assert app.screen is dialog  # refused: nothing saved
        dialog.query_one("#budget-limit", Input).value = "4"
        dialog.query_one("#budget-thresholds", Input).value = "25,200"
        await pilot.pause()
        assert str(error.render()) == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = BudgetBook(app.engine.store).get("weekly")
        assert saved is not None and saved.limit_usd == 4.0 and saved.thresholds == (25.0, 200.0)
        assert "25%" in shown(screen.query_one(UsageBudgets))  # $1 of $4

        await pilot.press("e")
        await settle(pilot)
        edit = app.screen
        assert isinstance(edit, BudgetDialog) and edit.budget is not None
        assert edit.query_one("#budget-limit", Input).value == "4"
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert BudgetBook(app.engine.store).get("weekly") is None
        assert not screen.query_one(UsageBudgets).display


async def test_an_alert_from_a_real_call_becomes_a_toast_and_is_listed(
    settings: Settings, fake: FakeOpenAI
) -> None:
    app = make_app(limit=0.25)
    fake.enqueue(Reply.text("ok", prompt_tokens=1_000_000, completion_tokens=0))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        request = build_request("gpt-4o-mini", [{"role": "user", "content": "hi"}])
        result = await app.engine.client.acomplete(request)
        await settle(pilot)
        assert [alert.threshold for alert in result.alerts] == [50.0]
        toasts = [n.message for n in app._notifications]
        assert toasts == ["budget 'daily' at 50%: $0.15 of $0.25 today"]
        await pilot.press("r")
        await settle(pilot)
        listed = shown(screen.query_one(UsageBudgets))
        assert "Alerts" in listed and "budget 'daily'" in listed and "50%: $0.15 of $0.25" in listed


async def test_monitors_run_in_the_background_and_their_alerts_become_toasts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alert_toasts, "FIRST_WATCH_SECONDS", 0.05)
    app = make_app(spent=3.0, limit=5.0)  # a day's cost with no history, half the budget
    async with app.run_test(size=SIZE) as pilot:
        toasts: list[str] = []
        deadline = time.monotonic() + 20  # the first watch runs in a thread worker: poll
        while len(toasts) < 2 and time.monotonic() < deadline:
            await pilot.pause(0.05)
            await settle(pilot)
            toasts = [n.message for n in app._notifications]
        assert "budget 'daily' at 50%: $3.00 of $5.00 today" in toasts
        assert any(message.startswith("monitor 'daily-cost'") for message in toasts)
        assert len(AlertBook(app.engine.store).recent()) == 2


async def test_the_prompt_pane_warns_refuses_and_sends_over_budget_with_its_key(
    settings: Settings, fake: FakeOpenAI
) -> None:
    app = make_app(spent=5.0, limit=5.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = app.screen.query_one(PromptEditor)
        editor.focus()
        editor.load_text("one two three")
        await settle(pilot)
        estimate = str(app.screen.query_one("#estimate", Label).render())
        assert "OVER BUDGET 'daily': ctrl+o sends anyway" in estimate
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert fake.chat_requests == []
        assert any(
            n.message.endswith(
                "budget 'daily' reached: $5.00 of $5.00 today; ctrl+o sends it anyway"
            )
            for n in app._notifications
        )
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert len(fake.chat_requests) == 1
        assert app.screen.query_one("#answer-a", AnswerView).state == "done"
