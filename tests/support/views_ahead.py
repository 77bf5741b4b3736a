"""Waiting for the Regressions pane's views to be built ahead (tests marked `views_ahead`)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tui.screens.regressions import RegressionsScreen


async def views_built(pilot: Pilot[Any], screen: RegressionsScreen) -> None:
    """Wait (on the app's own timers, ~1 s) until the pane's views are built ahead."""
    for _ in range(200):
        if screen.views_ahead.done:
            return
        await pilot.pause(0.05)
    raise AssertionError("the views were never built ahead")
