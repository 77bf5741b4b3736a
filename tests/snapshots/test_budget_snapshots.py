"""Snapshots of the Usage pane's Budgets section (bars and alerts) at 120x36 and 80x24."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from core.clock import iso
from storage.alerts import AlertBook, NewAlert
from storage.budgets import BudgetBook, BudgetRow
from tests.snapshots.conftest import NOW
from tui.app import TunedeckApp

SnapCompare = Callable[..., bool]
MakeApp = Callable[..., TunedeckApp]


def with_budgets(app: TunedeckApp) -> TunedeckApp:
    """Two budgets over the seeded log's spending, and one alert raised today."""
    store, stamp = app.engine.store, iso(NOW)
    book = BudgetBook(store)
    book.put(BudgetRow("daily", "all", "", "day", 5.0, (50.0, 80.0, 100.0), None, stamp, stamp))
    book.put(BudgetRow("minis", "model", "gpt-4o*", "week", 0.5, (100.0,), "HOOK", stamp, stamp))
    AlertBook(store).raise_new(
        [
            NewAlert(
                created_at=stamp,
                kind="budget",
                rule="minis",
                scope="model:gpt-4o*",
                period="week:2026-11-23",
                threshold=100.0,
                figure=0.61,
                reference=0.5,
                message="budget 'minis' at 100%: $0.61 of $0.50 this week",
                webhook_env="HOOK",
            )
        ]
    )
    return app


async def settle(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_usage_pane_budgets_section(
    snap_compare: SnapCompare, make_app: MakeApp, size: tuple[int, int]
) -> None:
    app = with_budgets(make_app(mode="usage"))
    assert snap_compare(app, terminal_size=size, run_before=settle)
