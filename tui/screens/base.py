"""What every pane shares: header, status line and footer around its body."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header
from textual.worker import Worker

from tui.failures import notify_failure
from tui.widgets.status import StatusLine

if TYPE_CHECKING:
    from tui.app import TunedeckApp


class PaneScreen(Screen[None]):
    """A top-level pane (a Textual mode). Subclasses give `compose_body`."""

    @property
    def deck(self) -> TunedeckApp:
        """The console app, typed (its engine, clock, active profile and model)."""
        return cast("TunedeckApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        yield StatusLine()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> Iterable[Widget]:
        """The pane's own widgets, between the status line and the footer."""
        return ()

    def on_mount(self) -> None:
        if not self.deck.cursor_blink:
            for widget in self.query("Input, TextArea"):
                widget.cursor_blink = False  # type: ignore[attr-defined]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A pane's failed worker becomes a notification, never a traceback on screen."""
        notify_failure(self, event)

    def on_screen_resume(self) -> None:
        self.focus_default()

    def focus_default(self) -> None:
        """Focus where the user will type when the pane opens (override per pane)."""
