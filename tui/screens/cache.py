"""The Cache pane (its widgets arrive in the next commits)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widget import Widget
from textual.widgets import Static

from tui.screens.base import PaneScreen


class CacheScreen(PaneScreen):
    """The Cache pane."""

    SUB_TITLE = "Cache"

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Cache pane", id="cache-body")
