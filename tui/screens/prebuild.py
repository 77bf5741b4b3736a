"""Building the Cache and Usage panes in the background, so that opening one is a switch.

A pane's first opening composes and mounts its widgets, styles them, lays them out and reads
its figures and first page while the user waits (~0.3-0.5 s). Shortly after the console's
first frame, each pane's module is imported in a thread, then the pane is built off screen,
one at a time: the first step of Textual's `switch_mode` (`App._init_mode`) mounts the screen
in its mode's stack without showing it, and its `on_screen_resume` reads what it shows in
thread workers (then `PaneScreen.render_ahead` renders it, a few lines at a time). Opening it
later only switches to it (and re-reads nothing unless the database changed).

Mounting a pane takes the event loop for ~40-130 ms at once: it waits until the user has not
typed for `QUIET` seconds (panes note typing: `note_typing`).
"""

from __future__ import annotations

import importlib
import time
import weakref
from collections.abc import Sequence
from functools import partial
from typing import Any

from textual.app import App

MODULES = {
    "cache": "tui.screens.cache",
    "usage": "tui.screens.usage",
    "regressions": "tui.screens.regressions",
}
"""The module of each pane that can be built ahead (imported lazily: start-up is faster)."""
DELAY = 0.25
"""Seconds after the first frame (and between two panes): the Prompt pane's own start-up
work, and a first key, come first."""
QUIET = 0.5
"""Seconds without typing before a pane is mounted."""

_typed_at: weakref.WeakKeyDictionary[App[Any], float] = weakref.WeakKeyDictionary()


def note_typing(app: App[Any]) -> None:
    """The user just typed (text changed in a field): building ahead waits for a pause."""
    _typed_at[app] = time.monotonic()


def _typing(app: App[Any]) -> bool:
    return time.monotonic() - _typed_at.get(app, float("-inf")) < QUIET


def prebuild_panes(app: App[Any], modes: Sequence[str]) -> None:
    """Build the panes `modes` off screen, one after the other, from `DELAY` s from now."""
    if modes:
        app.set_timer(DELAY, partial(_import_in_thread, app, list(modes)))


def is_built(app: App[Any], mode: str) -> bool:
    """Whether the pane `mode` is built (ahead, or by opening it)."""
    return mode in app._screen_stacks


def build_pane(app: App[Any], mode: str) -> None:
    """Compose and mount the pane `mode` off screen; nothing when it is built already."""
    if not is_built(app, mode):
        app._init_mode(mode)


def _import_in_thread(app: App[Any], modes: list[str]) -> None:
    app.run_worker(partial(_import, app, modes), thread=True, group="prebuild", exit_on_error=False)


def _import(app: App[Any], modes: list[str]) -> None:
    importlib.import_module(MODULES[modes[0]])  # ~50-100 ms, off the event loop
    if app.is_running:
        app.call_from_thread(_build, app, modes)


def _build(app: App[Any], modes: list[str]) -> None:
    if not app.is_running:
        return  # quitting: mounting a screen now would change the stacks it is closing
    if _typing(app):
        app.set_timer(QUIET, partial(_build, app, modes))
        return
    build_pane(app, modes[0])
    prebuild_panes(app, modes[1:])
