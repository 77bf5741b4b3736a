"""The Cache and Usage panes built in the background after the first frame: opening one is a
switch (no compose, no stylesheet re-parse, rows already in), and it still shows what changed
in the database meanwhile, but re-reads nothing when nothing did."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from textual.css.query import NoMatches
from textual.css.stylesheet import Stylesheet
from textual.pilot import Pilot

from storage.usage import UsageQueries
from tests.functional.test_cache_pane import NOW, entry, make_app, row_keys
from tests.functional.test_usage_pane import log_ids, log_many
from tui.app import TunedeckApp
from tui.screens import prebuild
from tui.screens.base import PaneScreen
from tui.screens.cache import CacheScreen
from tui.screens.prebuild import is_built
from tui.screens.usage import UsageScreen
from tui.widgets.cache.table import CacheTable

SIZE = (120, 36)


pytestmark = pytest.mark.usefixtures("local_time_utc")


def counting(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> list[object]:
    """Record the calls of `owner.name` (a method), which still runs."""
    calls: list[object] = []
    original = getattr(owner, name)

    def wrapper(self: object, *args: Any, **kwargs: Any) -> Any:
        calls.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


async def settle(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def prebuilt(pilot: Pilot[None]) -> None:
    """Wait until both panes are built off screen and have read what they show."""
    app = pilot.app
    for _ in range(500):
        if is_built(app, "cache") and is_built(app, "usage"):
            break
        await asyncio.sleep(0.01)
    await settle(pilot)
    assert is_built(app, "cache") and is_built(app, "usage")
    panes = [app._screen_stacks[mode][0] for mode in ("cache", "usage")]
    for _ in range(500):  # and rendered off screen, its lines cached for its first frame
        if all(isinstance(p, PaneScreen) and p.rendered_ahead for p in panes):
            break
        await asyncio.sleep(0.01)
    assert all(isinstance(p, PaneScreen) and p.rendered_ahead for p in panes)


async def test_a_prebuilt_pane_opens_without_compose_or_restyle_with_its_rows_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    composed = counting(monkeypatch, CacheScreen, "compose_body")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await prebuilt(pilot)
        assert isinstance(app.screen, CacheScreen) is False and len(composed) == 1
        built = composed[0]
        assert isinstance(built, CacheScreen) and built.query_one(CacheTable).row_count == 6
        reparsed = counting(monkeypatch, Stylesheet, "reparse")
        await pilot.press("alt+2")
        assert app.screen is built and len(composed) == 1
        assert len(row_keys(built.query_one(CacheTable))) == 6  # in at once, before any read
        assert app.focused is built.query_one(CacheTable)
        assert reparsed == []
    app.engine.close()


async def test_a_prebuilt_pane_shows_what_changed_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await prebuilt(pilot)
        app.engine.store.cache.put(entry(99, NOW + timedelta(minutes=1)))  # a call's answer
        await pilot.press("alt+2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CacheScreen)
        assert row_keys(screen.table)[0] == entry(99, NOW).key
    app.engine.close()


async def test_coming_back_to_the_usage_pane_reads_again_only_what_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = counting(monkeypatch, UsageQueries, "daily")
    app: TunedeckApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await prebuilt(pilot)
        assert len(reads) == 1
        for _ in range(2):  # nothing changed: the figures and the log stay as they were
            await pilot.press("alt+3")
            await settle(pilot)
            await pilot.press("alt+1")
            await settle(pilot)
        assert len(reads) == 1
        log_many(app.engine.store, 1)  # a call made meanwhile
        await pilot.press("alt+3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UsageScreen) and len(reads) == 2
        assert log_ids(screen)[0] == 41
    app.engine.close()


async def test_panes_are_built_ahead_only_in_a_pause_of_typing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prebuild, "DELAY", 0.01)
    monkeypatch.setattr(prebuild, "QUIET", 1.0)
    app = make_app()
    app.PREBUILT_PANES = ()  # started by hand below, once the user typed
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello")  # into the Prompt pane's editor
        typed = time.monotonic()
        assert prebuild._typing(app)
        prebuild.prebuild_panes(app, ["cache"])
        await asyncio.sleep(0.5)
        assert not is_built(app, "cache")
        while not is_built(app, "cache"):
            await asyncio.sleep(0.01)
        assert time.monotonic() - typed >= 1.0
        await settle(pilot)
    app.engine.close()


async def test_a_pane_due_to_be_built_once_the_app_is_closing_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app()
    app.PREBUILT_PANES = ()
    async with app.run_test(size=SIZE):
        pass
    # A timer or the import thread's callback arriving while the app shuts down: mounting
    # then would change the screen stacks Textual is closing ("dictionary changed size").
    prebuild._build(app, ["cache"])
    assert not is_built(app, "cache")
    app.engine.close()


async def test_a_widget_gone_while_closing_is_no_error_but_one_missing_while_running_is() -> None:
    """A pane still being built ahead when the console quits (or a worker's late result) may
    look for a widget its screen already removed: ignored once closing, a crash before."""
    app = make_app(seeded=False)
    async with app.run_test() as pilot:
        await pilot.pause()
    app._handle_exception(NoMatches("No nodes match '#run-table' on RegressionsScreen()"))
    assert app.return_code in (0, None) and app._exception is None

    running = make_app(seeded=False)
    with pytest.raises(NoMatches):
        async with running.run_test() as pilot:
            running.call_later(lambda: running.screen.query_one("#no-such-widget"))
            await pilot.pause()
