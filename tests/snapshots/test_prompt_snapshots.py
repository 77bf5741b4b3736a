"""Snapshots of the Prompt pane at the largest and smallest supported sizes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tui.widgets.prompt.editor import PromptEditor


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def typed(pilot: Pilot[None]) -> None:
    await settle(pilot)
    pilot.app.screen.query_one(PromptEditor).load_text("Write a haiku about gradient descent")
    await pilot.pause()
    await settle(pilot)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_prompt_pane(
    snap_compare: Any, make_app: Callable[..., Any], size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_prompt_pane_with_a_prompt_and_its_estimate(
    snap_compare: Any, make_app: Callable[..., Any], size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=typed)


def test_prompt_pane_light_theme(snap_compare: Any, make_app: Callable[..., Any]) -> None:
    async def light(pilot: Pilot[None]) -> None:
        pilot.app.theme = "textual-light"
        await typed(pilot)

    assert snap_compare(make_app(), terminal_size=(120, 36), run_before=light)
