"""What the Regressions pane's full-screen views share (a run's results, a diff)."""

from __future__ import annotations

from contextlib import suppress

from textual.screen import Screen
from textual.types import NoActiveAppError
from textual.worker import Worker

from tui.failures import notify_failure


class RegressionsView(Screen[None]):
    """A screen pushed over the pane; escape (its `close` action) goes back to it."""

    def __init__(self) -> None:
        super().__init__()
        # As `PaneScreen`: a new Screen would re-parse the whole stylesheet and restyle every
        # widget of the app when it opens (~0.1-0.3 s); the app read this view's styles at
        # start (tui/styles/regressions.tcss is in its CSS_PATH).
        with suppress(NoActiveAppError):
            self._css_update_count = self.app._css_update_count

    def on_mount(self) -> None:
        # A screen's first frame waits one full period of its update timer (1/60 s) after
        # it first asks for one: started now, the timer has run that period by then, while
        # the view mounts (built on a key) or before its first opening (built ahead: see
        # `ahead`), and ticks at once when asked (Textual's `Timer._run`).
        self._update_timer.resume()

    def action_close(self) -> None:
        """Back to the Regressions pane."""
        self.dismiss()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        notify_failure(self, event)
