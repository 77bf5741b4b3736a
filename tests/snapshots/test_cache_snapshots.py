"""Snapshots of the Cache pane (both sizes, light theme) and of one entry's detail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tui.screens.cache import CacheScreen
from tui.widgets.cache.detail import CacheEntryDetail


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def cache_pane(pilot: Pilot[None]) -> None:
    """Open the Cache pane (alt+2 works whatever has focus) and wait for its rows."""
    await settle(pilot)
    await pilot.press("alt+2")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CacheScreen)


async def detail(pilot: Pilot[None]) -> None:
    """The detail of the second entry (one hit, created 5 hours before the fixed clock)."""
    await cache_pane(pilot)
    await pilot.press("down", "enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CacheEntryDetail)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_cache_pane(snap_compare: Any, make_app: Callable[..., Any], size: tuple[int, int]) -> None:
    assert snap_compare(make_app(mode="cache"), terminal_size=size, run_before=cache_pane)


def test_cache_pane_light_theme(snap_compare: Any, make_app: Callable[..., Any]) -> None:
    async def light(pilot: Pilot[None]) -> None:
        pilot.app.theme = "textual-light"
        await cache_pane(pilot)

    assert snap_compare(make_app(mode="cache"), terminal_size=(120, 36), run_before=light)


def test_cache_entry_detail(snap_compare: Any, make_app: Callable[..., Any]) -> None:
    assert snap_compare(make_app(mode="cache"), terminal_size=(120, 36), run_before=detail)
