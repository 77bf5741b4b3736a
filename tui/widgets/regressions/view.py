"""What the Regressions pane's full-screen views share (a run's results, a diff)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress

from textual.geometry import Size
from textual.screen import Screen
from textual.types import NoActiveAppError
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker

from tui.failures import notify_failure
from tui.widgets.regressions.footer import FittingFooter


class RegressionsView(Screen[None]):
    """A screen pushed over the pane; escape (its `close` action) goes back to it."""

    def __init__(self) -> None:
        super().__init__()
        # As `PaneScreen`: a new Screen would re-parse the whole stylesheet and restyle every
        # widget of the app when it opens (~0.1-0.3 s); the app read this view's styles at
        # start (tui/styles/regressions.tcss is in its CSS_PATH).
        with suppress(NoActiveAppError):
            self._css_update_count = self.app._css_update_count
        self.footer_later = False
        """Whether its footer is mounted after its first frame (a view built on the key:
        making a footer's keys is ~30-50 ms of that frame); a line keeps its place."""

    def footer(self) -> Iterator[Widget]:
        """The view's footer, or the line that keeps its place until it is mounted."""
        yield Static("", classes="footer-space") if self.footer_later else FittingFooter()

    def on_mount(self) -> None:
        if self.footer_later:
            self.call_after_refresh(self._mount_footer)
        # A screen's first frame waits one full period of its update timer (1/60 s) after
        # it first asks for one: started now, the timer has run that period by then, while
        # the view mounts (built on a key) or before its first opening (built ahead: see
        # `ahead`), and ticks at once when asked (Textual's `Timer._run`).
        self._update_timer.resume()

    def _mount_footer(self) -> None:
        self.footer_later = False
        self.query(".footer-space").remove()
        self.mount(FittingFooter())

    def action_close(self) -> None:
        """Back to the Regressions pane."""
        self.dismiss()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        notify_failure(self, event)


def breakpoint_classes(screen: Screen[None], size: Size) -> set[str]:
    """The classes of `screen`'s breakpoints at `size`, as its first Resize sets them: given
    at its making, that Resize changes none, so the whole screen is not styled again then
    (~20-30 ms of its first frame)."""
    width = screen._get_breakpoint_classes(size.width, screen.HORIZONTAL_BREAKPOINTS or [])
    return width | screen._get_breakpoint_classes(size.height, screen.VERTICAL_BREAKPOINTS or [])
