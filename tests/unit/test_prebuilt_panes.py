"""A pane built ahead (tui/screens/prebuild.py) whose mounting the console's quitting cut short
has no widgets when its `on_mount` runs: it must do nothing rather than raise (seen under load:
`NoMatches: No nodes match 'RunTable'` as a test's console quit)."""

from __future__ import annotations

import pytest
from textual.screen import Screen

from tui.screens.cache import CacheScreen
from tui.screens.regressions import RegressionsScreen
from tui.screens.usage import UsageScreen


@pytest.mark.parametrize("pane", [RegressionsScreen, CacheScreen, UsageScreen])
def test_a_pane_whose_widgets_were_never_composed_mounts_quietly(pane: type[Screen[None]]) -> None:
    screen = pane()
    assert not screen.children
    screen.on_mount()  # type: ignore[attr-defined]
