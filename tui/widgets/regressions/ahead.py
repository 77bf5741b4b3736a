"""The Regressions pane's views (a run's results, a diff) built before their first opening.

A view opened the first time composes, mounts and styles its widgets, lays itself out and
renders every widget while the user waits (~210-250 ms to its first frame at 10,000 runs,
against ~90-120 ms for a view shown once before). Once the pane has shown its runs (on
screen, or rendered ahead off screen) and the user has not pressed a key for `prebuild.QUIET`
seconds, each view is built empty, off every screen stack, in steps of the event loop that
each take at most ~35 ms (measured: tests/bench/bench_regressions_pane.py, part e), so a key
pressed meanwhile waits at most that long: make and mount it (its widgets mount in their own
turns), lay it out, lay it out again if its widgets' Resize handlers changed it (the footer
hides the keys that do not fit), then render its widgets as a first frame would, a few at a
time (their caches keep what does not change when a run is shown: the header, the footer's
keys, the borders; ~15 ms of that frame). A view ready is kept by the console as a view opened once
is (see `reuse`): the first `enter` or `c` finds it and shows the run or comparison asked
for in it before pushing it, as for a kept view; what it held (nothing) never shows. A view
opened before it was ready is built as before, and the one being built is dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.geometry import Region
from textual.widget import Widget

from tui.screens import prebuild
from tui.widgets.regressions.diff import DIFF_VIEW, RunDiffScreen
from tui.widgets.regressions.results import RESULTS_VIEW, RunResultsScreen
from tui.widgets.regressions.reuse import KeptScreen

if TYPE_CHECKING:
    from storage.evals import EvalStore
    from tui.screens.regressions import RegressionsScreen

DELAY = 0.3
"""Seconds between two checks while the pane or the user is busy."""
GAP = 0.02
"""Seconds between two steps (a key typed meanwhile is handled in between)."""
RENDER_BUDGET = 0.008
"""Seconds of rendering ahead in one step (a widget started is finished)."""


@dataclass
class _Build:
    """One view being built: its name, and the view once made."""

    name: str
    make: Callable[[], KeptScreen]
    view: KeptScreen | None = None
    laid_out: int = 0
    """0: not laid out yet; 1: laid out once; 2: laid out again after the Resize events of
    the first layout."""
    unrendered: list[tuple[Widget, Region]] | None = None
    """What is left to render ahead once laid out (None: not laid out yet)."""
    stack_updates: int = 0
    """The view's count of being shown and hidden when it was laid out."""


class ViewsAhead:
    """Builds the pane's views ahead, one step at a time (`start`)."""

    ENABLED: ClassVar[bool] = True
    """Off in the tests of the views built on the key (a user faster than this)."""

    def __init__(self, pane: RegressionsScreen, read_evals: Callable[[], EvalStore]) -> None:
        self.pane = pane
        self._pending = [
            _Build(RESULTS_VIEW, lambda: RunResultsScreen(read_evals, None)),
            _Build(DIFF_VIEW, lambda: RunDiffScreen(None)),
        ]
        self.done = False
        """Whether every view is built (ahead, or by an opening)."""

    def start(self) -> None:
        """Build the views, from `DELAY` s from now, in the pauses of the user."""
        if self.ENABLED:
            self._later(DELAY)

    def _later(self, delay: float) -> None:
        self.pane.set_timer(delay, self._step, name="views-ahead")

    def _step(self) -> None:
        app = self.pane.app
        if not app.is_running or not self.pane.is_attached:
            return  # quitting: a screen mounted now would outlive the app's screens
        while self._pending and self._taken(self._pending[0]):
            self._drop(self._pending.pop(0))  # opened (built) before it was ready
        if not self._pending:
            self.done = True
            return
        if not self._ready():
            self._later(DELAY)
            return
        self._advance(self._pending[0])
        self._later(GAP)

    def _ready(self) -> bool:
        """Whether the pane shows its runs (or has rendered them ahead) and the user has
        paused."""
        pane = self.pane
        shown = pane.is_current or pane.rendered_ahead
        typed = time.monotonic() - pane.deck.last_key_at < prebuild.QUIET
        return shown and pane.runs.loaded and not typed

    def _advance(self, build: _Build) -> None:
        """The next step of `build`: make and mount the view; once it is mounted, lay it out
        and keep it; then render what its first frame would (`RENDER_BUDGET` s a step)."""
        app = self.pane.app
        view = build.view
        if view is None:
            build.view = build.make()
            app._register(app, build.view)  # mounts it (Textual's `_get_screen`), off screen
        elif build.laid_out == 0 and _mounted(view):
            view._refresh_layout(app.size)
            view._styled_at = app._css_update_count  # styled as it mounted: see KeptScreen
            app.install_screen(view, build.name)  # an opening finds it from now on
            build.laid_out = 1
        elif build.laid_out == 1:
            # What the layout's Resize events changed (the footer hides the keys that do not
            # fit), laid out now, not in the view's first frame (~5-10 ms of it).
            if view._layout_required:
                view._layout_required = False
                view._refresh_layout(app.size)
            build.laid_out = 2
            build.stack_updates = view.stack_updates
            build.unrendered = [
                (widget, region.intersection(clip).translate(-region.offset))
                for widget, (region, clip) in view._compositor.visible_widgets.items()
            ]
        elif build.unrendered is not None:
            _render_some(build.unrendered, view.stack_updates != build.stack_updates)
            if not build.unrendered:
                self._pending.pop(0)

    def _taken(self, build: _Build) -> bool:
        """Whether the console keeps another view by the name of `build`'s."""
        app = self.pane.app
        return app.is_screen_installed(build.name) and app.get_screen(build.name) is not build.view

    def _drop(self, build: _Build) -> None:
        if build.view is not None and not self.pane.app.is_screen_installed(build.view):
            build.view.remove()


def _render_some(unrendered: list[tuple[Widget, Region]], shown: bool) -> None:
    """Render the next widgets of `unrendered` (their visible part) for `RENDER_BUDGET` s at
    most; none if the view was `shown` meanwhile (its frames render what it shows now)."""
    if shown:
        unrendered.clear()
    deadline = time.perf_counter() + RENDER_BUDGET
    while unrendered and time.perf_counter() < deadline:
        widget, crop = unrendered.pop(0)
        if crop.area:
            widget.render_lines(crop)


def _mounted(view: KeptScreen) -> bool:
    """Whether `view` and every widget in it are mounted."""
    return view.is_mounted and all(widget.is_mounted for widget in view.query("*"))
