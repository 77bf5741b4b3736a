"""Snapshots of the Usage pane: 120x36 and 80x24, the light theme, and a call's detail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from tui.app import TunedeckApp
from tui.screens.usage import UsageScreen

SnapCompare = Callable[..., bool]
MakeApp = Callable[..., TunedeckApp]


async def settle(pilot: Pilot[None]) -> None:
    """Wait for every read and for what its result starts."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def open_usage(*keys: str, theme: str | None = None) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Switch to the Usage pane with its key (unless it opened there), then press `keys`."""

    async def run_before(pilot: Pilot[Any]) -> None:
        if theme:
            pilot.app.theme = theme
        await settle(pilot)
        if not isinstance(pilot.app.screen, UsageScreen):
            pilot.app.set_focus(None)  # the Prompt pane's editor would take the key
            await pilot.press("3")
            await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_usage_pane_120x36(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    app = make_app(mode="usage")
    assert snap_compare(app, terminal_size=(120, 36), run_before=open_usage())


def test_usage_pane_80x24(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    app = make_app(mode="usage")
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_usage())


def test_usage_pane_light_errors_by_day(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    app = make_app(mode="usage")
    run_before = open_usage("x", "b", "b", theme="textual-light")
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_usage_call_detail_120x36(snap_compare: SnapCompare, make_app: MakeApp) -> None:
    app = make_app(mode="usage")
    assert snap_compare(app, terminal_size=(120, 36), run_before=open_usage("down", "enter"))
