"""What every pane shares: header, status line and footer around its body."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.geometry import Region
from textual.screen import Screen
from textual.timer import Timer
from textual.types import NoActiveAppError
from textual.widget import Widget
from textual.widgets import Header
from textual.worker import Worker

from tui.failures import notify_failure
from tui.screens.prebuild import note_typing
from tui.widgets.footer import SteadyFooter
from tui.widgets.status import StatusLine

if TYPE_CHECKING:
    from tui.app import TunedeckApp


RENDER_AHEAD_DELAY = 0.3  # seconds after the last data shown off screen (they come in waves)
RENDER_AHEAD_LINES = 4  # lines rendered at a time off screen (a few ms)


class PaneScreen(Screen[None]):
    """A top-level pane (a Textual mode). Subclasses give `compose_body`."""

    def __init__(self) -> None:
        super().__init__()
        # A new Screen starts at CSS generation -1, so that opening it re-parses the whole
        # stylesheet and restyles every widget of the app, twice (Textual's _init_mode and
        # switch_mode: ~0.1-0.3 s). Every pane's stylesheet is read at start (the app's
        # CSS_PATH) and widgets are styled as they mount: a new pane is as fresh as the app.
        with suppress(NoActiveAppError):
            self._css_update_count = self.app._css_update_count
        self._render_timer: Timer | None = None
        self._unrendered: list[tuple[Widget, Region]] = []
        self.rendered_ahead = False
        """Whether the pane was rendered off screen since what it shows last changed."""

    @property
    def deck(self) -> TunedeckApp:
        """The console app, typed (its engine, clock, active profile and model)."""
        return cast("TunedeckApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        yield StatusLine()
        yield from self.compose_body()
        yield SteadyFooter()

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

    def on_text_area_changed(self) -> None:
        note_typing(self.app)  # panes are built ahead only in pauses of typing

    def on_input_changed(self) -> None:
        note_typing(self.app)

    def render_ahead(self) -> None:
        """Render the pane while it is built off screen (see tui/screens/prebuild.py), once
        what it shows is in (`RENDER_AHEAD_DELAY` after the last call): its first frame then
        finds its widgets' lines cached (measured at 1M calls: the Cache pane's first frame
        ~110 -> ~25-50 ms, the Usage pane's ~150 -> ~55-80 ms)."""
        if self.is_current or not self.is_attached:
            return
        self.rendered_ahead = False
        if self._render_timer is not None:
            self._render_timer.stop()
        self._render_timer = self.set_timer(RENDER_AHEAD_DELAY, self._render_off_screen)

    def _render_off_screen(self) -> None:
        if self.is_current:
            return
        # Off screen, a screen is not laid out again as its widgets change size (totals
        # arriving): lay it out, then render what a frame would, a few lines at a time (the
        # event loop, and a key typed meanwhile, never waits for more).
        self._refresh_layout(self.app.size)
        self._unrendered = [
            (widget, crop)
            for widget, (region, clip) in self._compositor.visible_widgets.items()
            for crop in _slices(region, clip)
        ]
        self._render_next()

    def _render_next(self) -> None:
        if self.is_current:
            return
        if not self._unrendered:
            self.rendered_ahead = True
            return
        widget, crop = self._unrendered.pop(0)
        widget.render_lines(crop)
        self.call_later(self._render_next)

    def focus_default(self) -> None:
        """Focus where the user will type when the pane opens (override per pane)."""


def _slices(region: Region, clip: Region, lines: int = RENDER_AHEAD_LINES) -> list[Region]:
    """The part of a widget at `region` that `clip` shows, in its own coordinates (as the
    compositor crops it), as slices of at most `lines` lines."""
    shown = region.intersection(clip)
    x, y = shown.x - region.x, shown.y - region.y
    return [
        Region(x, top, shown.width, min(lines, y + shown.height - top))
        for top in range(y, y + shown.height, lines)
        if shown.width
    ]
