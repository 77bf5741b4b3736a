"""The tunedeck console: panes as Textual modes on one shared engine."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable
from typing import ClassVar

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker

from core.clock import Clock, utc_now
from tui.engine import Engine
from tui.failures import notify_failure
from tui.screens.prebuild import prebuild_panes
from tui.screens.prompt import PromptScreen
from tui.widgets.status import StatusFigures, read_status

_log = logging.getLogger("tunedeck.console")

PANES = {
    "prompt": "Prompt",
    "cache": "Cache",
    "usage": "Usage",
    "regressions": "Regressions",
    "data": "Data",
}


def _cache_screen() -> Screen[None]:
    from tui.screens.cache import CacheScreen  # imported when first opened: start-up is faster

    return CacheScreen()


def _usage_screen() -> Screen[None]:
    from tui.screens.usage import UsageScreen  # its chart library costs ~50 ms to import

    return UsageScreen()


def _regressions_screen() -> Screen[None]:
    from tui.screens.regressions import RegressionsScreen  # imported when first opened

    return RegressionsScreen()


def _data_screen() -> Screen[None]:
    from tui.screens.data import DataScreen  # imported when first opened

    return DataScreen()


def pane_bindings(screen: Screen[object]) -> list[Binding]:
    """The key bindings a pane declares (for the help screen and the command palette)."""
    return [b for b in getattr(type(screen), "BINDINGS", []) if isinstance(b, Binding)]


class TunedeckApp(App[None]):
    """The console. Attributes go down to the panes; their messages come up."""

    TITLE = "tunedeck"
    # Every pane's stylesheet is read once, here: a screen with a CSS_PATH of its own makes
    # Textual re-parse the whole stylesheet when it first opens (measured: ~0.2 s a pane).
    CSS_PATH: ClassVar = [
        "styles/app.tcss",
        "styles/prompt.tcss",
        "styles/cache.tcss",
        "styles/usage.tcss",
        "styles/regressions.tcss",
        "styles/data.tcss",
    ]
    MODES: ClassVar = {
        "prompt": PromptScreen,
        "cache": _cache_screen,
        "usage": _usage_screen,
        "regressions": _regressions_screen,
        "data": _data_screen,
    }
    DEFAULT_MODE = "prompt"
    PREBUILT_PANES: ClassVar[tuple[str, ...]] = ("cache", "usage", "regressions")
    """Panes built in the background after the first frame: opening one is then a switch."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "pane('prompt')", "Prompt"),
        Binding("2", "pane('cache')", "Cache"),
        Binding("3", "pane('usage')", "Usage"),
        Binding("4", "pane('regressions')", "Regressions"),
        Binding("5", "pane('data')", "Data"),
        Binding("alt+1", "pane('prompt')", "Prompt", show=False, priority=True),
        Binding("alt+2", "pane('cache')", "Cache", show=False, priority=True),
        Binding("alt+3", "pane('usage')", "Usage", show=False, priority=True),
        Binding("alt+4", "pane('regressions')", "Regressions", show=False, priority=True),
        Binding("alt+5", "pane('data')", "Data", show=False, priority=True),
        Binding("f2", "pane('prompt')", "Prompt", show=False, priority=True),
        Binding("f3", "pane('cache')", "Cache", show=False, priority=True),
        Binding("f4", "pane('usage')", "Usage", show=False, priority=True),
        Binding("f5", "pane('regressions')", "Regressions", show=False, priority=True),
        Binding("f6", "pane('data')", "Data", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("f1", "help", "Help", show=False, priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    status: reactive[StatusFigures | None] = reactive(None)
    """Figures of the status line, refreshed after every call and pane change."""
    profile_name: reactive[str] = reactive("")
    model_name: reactive[str] = reactive("")

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = utc_now,
        warm_up: bool = True,
        cursor_blink: bool = True,
        pane: str = "prompt",
        collector_paused: bool = False,
    ) -> None:
        """`collector_paused`: the launcher turned the garbage collector off to start faster;
        the app turns it on again after the warm-up (or the first frame)."""
        super().__init__()
        self.engine = engine
        self.clock = clock
        """Now, for every figure that depends on it (injected by snapshot tests)."""
        self.cursor_blink = cursor_blink
        """False in snapshot tests: text cursors do not blink."""
        self._warm = warm_up
        self._first_pane = pane
        self._collector_paused = collector_paused
        self._started = False
        self._after_start: list[Callable[[], object]] = []
        self.last_key_at = 0.0
        """When the user last pressed a key (monotonic): streaming repaints wait for typing."""
        name, profile = engine.settings.resolve_profile()
        self.set_reactive(TunedeckApp.profile_name, name)
        self.set_reactive(TunedeckApp.model_name, profile.default_model)

    def on_mount(self) -> None:
        if self._first_pane != self.DEFAULT_MODE:
            self.switch_mode(self._first_pane)

    def on_ready(self) -> None:
        """The first frame is on screen: start the work that waited for it (once this event
        has been handled everywhere)."""
        self.call_later(self._start_waiting_work)

    def _start_waiting_work(self) -> None:
        self._started = True
        self._after_first_frame()
        waiting, self._after_start = self._after_start, []
        for callback in waiting:
            callback()

    def after_start(self, callback: Callable[[], object]) -> None:
        """Run `callback` after the first frame: thread workers started earlier compete with
        it for the interpreter (imports of the SDK, the tokenizer, SQL)."""
        if self._started:
            self.call_after_refresh(callback)
        else:
            self._after_start.append(callback)

    def _after_first_frame(self) -> None:
        self.refresh_status()
        prebuild_panes(self, self.PREBUILT_PANES)
        if self._warm:
            self.warm_up()
        else:
            self._settle_collector()

    async def on_event(self, event: events.Event) -> None:
        # Every key, here before it is forwarded: a key a text field takes never reaches
        # `on_key`, and typing is what streamed repaints and work built ahead wait for.
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.last_key_at = time.monotonic()
        await super().on_event(event)

    def watch_profile_name(self) -> None:
        self.refresh_status()

    def watch_model_name(self) -> None:
        self.refresh_status()

    @work(thread=True, exclusive=True, group="status", exit_on_error=False)
    def refresh_status(self) -> None:
        """Re-read the status line's figures from the database."""
        figures = read_status(self.engine, self.profile_name, self.model_name, self.clock())
        self.call_from_thread(setattr, self, "status", figures)

    @work(thread=True, group="warm-up", exit_on_error=False)
    def warm_up(self) -> None:
        """Import the SDK and load the tokenizer off the event loop, after the first frame."""
        try:
            import openai  # noqa: F401

            from core.prices import known_price
            from core.tokens import count_text

            count_text("warm up", self.model_name)
            _, profile = self.engine.settings.resolve_profile(self.profile_name)
            known_price(self.model_name, profile)
        finally:
            self.call_from_thread(self._settle_collector)

    def _settle_collector(self) -> None:
        """Keep the garbage collector off the ~200k objects made at start: they live on."""
        if self._collector_paused:
            # Paused by the launcher until now (a full collection would take ~0.3 s): the
            # few MB of garbage the start left stay, frozen with the rest.
            gc.freeze()
            gc.enable()
        elif self._warm:
            # Freezing spares every later full collection (measured: 170-215 ms pauses while
            # an answer streams) from walking the imports' objects.
            gc.collect()
            gc.freeze()

    def action_pane(self, name: str) -> None:
        """Switch to a pane."""
        if self.current_mode != name:
            self.switch_mode(name)

    def _handle_exception(self, error: Exception) -> None:
        if isinstance(error, NoMatches) and not self.is_running:
            # Closing: a pane still being built ahead, or a late result of a worker, looked
            # for a widget its screen had already removed. Nothing is on show any more.
            _log.debug("ignored while closing: %s", error)
            return
        super()._handle_exception(error)

    def action_help(self) -> None:
        """Show every binding of the current pane."""
        from tui.screens.help import HelpScreen  # its table is not needed to start

        if isinstance(self.screen, HelpScreen):
            return
        keys: dict[str, list[str]] = {}
        for binding in pane_bindings(self.screen):
            keys.setdefault(binding.description, []).append(binding.key)
        listed = [(" / ".join(k), description) for description, k in keys.items()]
        listed += getattr(self.screen, "HELP_VIEW_KEYS", [])  # keys of the views it opens
        self.push_screen(HelpScreen(PANES.get(self.current_mode, ""), listed))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, title in PANES.items():
            yield SystemCommand(f"{title} pane", f"Open the {title} pane", self._pane(mode))
        yield SystemCommand("Help", "Every key binding", self.action_help)
        seen = set()
        for binding in pane_bindings(screen):
            action = getattr(screen, f"action_{binding.action}", None)
            if action is not None and binding.description not in seen:
                seen.add(binding.description)
                yield SystemCommand(binding.description, f"key: {binding.key}", action)

    def _pane(self, mode: str) -> object:
        return lambda: self.action_pane(mode)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker becomes a notification, never a traceback on screen."""
        notify_failure(self, event)
