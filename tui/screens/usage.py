"""The Usage pane (its widgets arrive in the next commits)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widget import Widget
from textual.widgets import Static

from tui.screens.base import PaneScreen


class UsageScreen(PaneScreen):
    """The Usage pane."""

    SUB_TITLE = "Usage"

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Usage pane", id="usage-body")
