"""The views pushed over the Regressions pane (a run's results, a diff) are built once per
console and shown again after.

A new screen composes, mounts and styles its widgets, footer keys included, and lays itself
out twice around its first frame: ~60-80 ms of the event loop before that frame at a load
of 2, of the ~100 ms a view has to open. A view kept installed opens in ~20-25 ms, and, laid
out already, puts what it is given in its widgets before its first frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual import events
from textual.app import App
from textual.screen import Screen

from tui.widgets.regressions.columns import FlexTable

View = TypeVar("View", bound=Screen[Any])


class KeptScreen(Screen[None]):
    """A view the console keeps (see `kept_view`): shown again, it is styled again only if
    the app's styles changed meanwhile (a theme). Textual restyles every widget of a screen
    it pushes (~15-20 ms here), which also throws away what they had rendered."""

    _styled_at: int | None = None
    """The app's count of style changes when the view was last styled."""

    def on_mount(self) -> None:
        # Its widgets were styled as they mounted: pushed now (built on the key), it need
        # not be styled again (~15-20 ms of its first frame).
        if self._styled_at is None:
            self._styled_at = self.app._css_update_count

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Before `Screen._on_screen_resume`, which reads the flag (subclasses come first).
        changes = self.app._css_update_count
        if self._styled_at == changes:
            event.refresh_styles = False
        self._styled_at = changes
        for table in self.query(FlexTable):
            if table.due_when_shown:  # filled before the view was pushed: after its frame
                self.call_after_refresh(table.screen_shown)


def free_view(app: App[Any], name: str, kind: type[View]) -> View | None:
    """The view of class `kind` that `app` keeps as `name`, unless it is on a screen stack
    (shown, or under another screen)."""
    if not app.is_screen_installed(name):
        return None
    kept = app.get_screen(name, kind)
    return None if any(kept in stack for stack in app._screen_stacks.values()) else kept


def kept_view(
    app: App[Any], name: str, kind: type[View], build: Callable[[], View]
) -> tuple[View, bool]:
    """The view `free_view` finds, and False (the caller shows its new content in it); else
    a new one from `build`, and True (kept as `name` if none is yet)."""
    view = free_view(app, name, kind)
    if view is not None:
        return view, False
    view = build()
    if not app.is_screen_installed(name):
        app.install_screen(view, name)
    return view, True


def push_view(app: App[Any], build: Callable[[], Screen[Any]]) -> None:
    """Push the view `build` makes (for `App.call_from_thread`: views are made and shown on
    the event loop's thread)."""
    app.push_screen(build())
