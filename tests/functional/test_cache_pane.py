"""The Cache pane, driven by its keys: rows, filter, detail, deletions and paging from SQL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from textual.geometry import Region
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from core.clock import iso
from core.settings import load_settings
from storage.cache import ResponseCache
from storage.records import CacheEntry
from storage.store import Store
from tests.support.paging import check, walk
from tests.support.seed import seed_database
from tui.app import TunedeckApp
from tui.engine import Engine
from tui.screens.cache import CacheScreen
from tui.screens.help import HelpScreen
from tui.widgets.cache.detail import CacheEntryDetail
from tui.widgets.cache.table import CacheTable
from tui.widgets.paging import Direction, Slide

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SIZE = (120, 36)


pytestmark = pytest.mark.usefixtures("local_time_utc")


def make_app(*, seeded: bool = True) -> TunedeckApp:
    """The console on a seeded database at a fixed time (as tests/snapshots/conftest.py)."""
    engine = Engine(load_settings())
    if seeded:
        seed_database(engine.store, NOW)
    return TunedeckApp(engine, clock=lambda: NOW, warm_up=False, cursor_blink=False)


def store_of(app: TunedeckApp) -> Store:
    return app.engine.store


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], seconds: float = 10) -> None:
    """Let the app run until `condition` holds (idle-time work: no worker to wait for)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.01)


async def open_cache(pilot: Pilot[None]) -> CacheScreen:
    """Switch to the Cache pane (alt+2: a bare `2` would be typed into the Prompt editor)."""
    await pilot.press("alt+2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CacheScreen)
    return screen


def table_of(pilot: Pilot[None]) -> CacheTable:
    return pilot.app.screen.query_one(CacheTable)


def row_keys(table: CacheTable) -> list[str]:
    return [str(row.value) for row in table.rows]


def keys_in_db(app: TunedeckApp) -> set[str]:
    return {entry.key for entry in store_of(app).cache.browse(1000)}


def painted(widget: Widget) -> str:
    """The text the widget paints on screen."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join("".join(s.text for s in strip) for strip in widget.render_lines(region))


def entry(number: int, created: datetime, answer: str = "an answer") -> CacheEntry:
    return CacheEntry(
        key=f"{number:06d}" + "cd" * 29,
        endpoint="https://api.openai.com/v1",
        model="gpt-4o-mini",
        components={
            "version": 1,
            "endpoint": "https://api.openai.com/v1",
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": f"question {number}"},
            ],
            "params": {"temperature": 0.0, "seed": 7},
        },
        response={"text": answer, "finish_reason": "stop"},
        prompt_excerpt=f"question {number}",
        prompt_tokens=10,
        completion_tokens=5,
        cost_usd=0.001,
        size_bytes=len(answer),
        created_at=iso(created),
        expires_at=None,
    )


# -- rows, focus, stats ---------------------------------------------------------------------


async def test_the_pane_opens_on_the_table_with_every_entry_and_the_figures() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cache(pilot)
        table = table_of(pilot)
        assert app.focused is table
        assert [str(key.value) for key in table.columns] == [
            "model",
            "prompt",
            "hits",
            "age",
            "size",
            "saved",
        ]
        assert row_keys(table) == [f"{i:02d}" + "ab" * 31 for i in range(6)]
        cells = [str(cell) for cell in table.get_row(row_keys(table)[2])]
        assert cells[:4] == ["llama-3.1-8b", "Write a haiku about gradient descent", "2", "10h"]
        assert cells[5] == "148"  # 2 hits x (52 + 22) tokens
        assert "1d exp" in str(table.get_row(row_keys(table)[5])[3])
        stats = str(screen.query_one("#cache-stats", Label).render())
        assert stats.startswith("6 entries · ") and "1 expired" in stats


async def test_the_pane_lists_its_keys_for_the_help_screen() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_cache(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        actions = [action for _, action in app.screen.pane_keys]
        assert {"Filter", "Delete", "Clear expired", "Clear all"} <= set(actions)


# -- the filter -----------------------------------------------------------------------------


async def test_the_filter_narrows_by_model_and_by_prompt_text() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cache(pilot)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#cache-filter", Input)
        await pilot.press(*"gpt-4.1", "enter")
        await settle(pilot)
        table = table_of(pilot)
        assert app.focused is table
        assert [str(table.get_row(key)[0]) for key in row_keys(table)] == ["gpt-4.1"] * 2
        await pilot.press("f", "ctrl+u", *"haiku", "enter")
        await settle(pilot)
        assert row_keys(table) == ["02" + "ab" * 31]


async def test_escape_leaves_the_filter_for_the_table_and_keeps_it_applied() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cache(pilot)
        await pilot.press("f", *"LoRA")
        await pilot.press("escape")
        assert app.focused is table_of(pilot)
        await pilot.pause(0.4)  # the filter applies after a quarter second of quiet typing
        await settle(pilot)
        assert row_keys(table_of(pilot)) == ["05" + "ab" * 31]
        await pilot.press("d")  # single keys act on the table again
        await pilot.press("n")
        await settle(pilot)
        assert screen.query_one("#cache-filter", Input).value == "LoRA"


async def test_a_filter_that_matches_nothing_says_so() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cache(pilot)
        await pilot.press("slash", *"100%_sure", "enter")
        await settle(pilot)
        assert row_keys(table_of(pilot)) == []
        empty = screen.query_one("#cache-empty", Label)
        assert empty.display and "100%_sure" in str(empty.render())


# -- the detail -----------------------------------------------------------------------------


async def test_enter_opens_the_detail_with_the_key_components_and_escape_closes_it() -> None:
    app = make_app(seeded=False)
    store_of(app).cache.put(entry(1, NOW - timedelta(hours=2), "Forty-two."))
    async with app.run_test(size=SIZE) as pilot:
        await open_cache(pilot)
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, CacheEntryDetail)
        text = painted(detail.query_one("#detail-fields", Static))
        for shown in ("endpoint", "https://api.openai.com/v1", "gpt-4o-mini"):
            assert shown in text
        assert "param temperature  0.0" in text and "param seed         7" in text
        assert "2026-11-28 10:00:00 (2h ago)" in text and "expires" in text
        headings = [str(label.render()) for label in detail.query(".detail-heading")]
        assert headings == ["message 1 · system", "message 2 · user", "cached answer"]
        assert "Forty-two." in painted(detail.query_one("#detail-answer", Static))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CacheScreen)
        assert app.focused is table_of(pilot)


async def test_an_answer_with_escape_sequences_and_markup_is_shown_as_plain_text() -> None:
    app = make_app(seeded=False)
    answer = "\x1b]0;pwned\x07 then \x1b[2J and [bold red]loud[/bold red] and a bell\a"
    store_of(app).cache.put(entry(1, NOW, answer))
    async with app.run_test(size=SIZE) as pilot:
        await open_cache(pilot)
        await pilot.press("enter")
        await pilot.pause()
        text = painted(app.screen.query_one("#detail-answer", Static))
        assert "\\x1b]0;pwned\\x07" in text
        assert "\\x1b[2J" in text
        assert "[bold red]loud[/bold red]" in text
        assert "a bell\\x07" in text
        assert "\x1b" not in text and "\x07" not in text


# -- deletions ------------------------------------------------------------------------------


async def test_d_then_y_deletes_exactly_the_entry_under_the_cursor() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_cache(pilot)
        before = keys_in_db(app)
        await pilot.press("down", "down", "d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        gone = "02" + "ab" * 31
        assert keys_in_db(app) == before - {gone}
        assert gone not in row_keys(table_of(pilot)) and len(row_keys(table_of(pilot))) == 5
        assert "5 entries" in str(app.screen.query_one("#cache-stats", Label).render())


async def test_n_cancels_a_deletion() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_cache(pilot)
        before = keys_in_db(app)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("n")
        await settle(pilot)
        assert keys_in_db(app) == before and len(row_keys(table_of(pilot))) == 6


async def test_d_in_the_detail_asks_then_deletes_that_entry() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_cache(pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert "01" + "ab" * 31 not in keys_in_db(app) and len(keys_in_db(app)) == 5


async def test_e_clears_only_the_expired_entry() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_cache(pilot)
        before = keys_in_db(app)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert keys_in_db(app) == before - {"05" + "ab" * 31}
        assert len(row_keys(table_of(pilot))) == 5


async def test_shift_c_clears_every_entry() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cache(pilot)
        await pilot.press("C")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert keys_in_db(app) == set() and row_keys(table_of(pilot)) == []
        assert screen.query_one("#cache-empty", Label).display
        assert str(screen.query_one("#cache-stats", Label).render()).startswith("0 entries")


# -- paging ---------------------------------------------------------------------------------


async def test_paging_keeps_at_most_two_pages_and_never_loses_the_cursor() -> None:
    app = make_app(seeded=False)
    for number in range(450):  # pairs share a creation time: ties page by key
        store_of(app).cache.put(entry(number, NOW - timedelta(minutes=number // 2)))
    newest_first = [entry.key for entry in store_of(app).cache.browse(1000)]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cache(pilot)
        table = table_of(pilot)
        page = table.window.page_size
        assert page >= 100 and row_keys(table) == newest_first[: 2 * page]  # 2nd page read ahead

        for _ in range(5):  # the cursor off the top line: slides must not move it on screen
            await pilot.press("down")
        await settle(pilot)
        down = await walk(pilot, table, newest_first, "pagedown", settle)
        assert len(down) > 15 and down[2] - down[1] > 20  # screens of rows, evenly
        assert down[-1] == len(newest_first) - 1
        assert row_keys(table)[-1] == newest_first[-1]
        up = await walk(pilot, table, newest_first, "pageup", settle)
        assert up[-1] == 0 and table.at_start and not screen.table.window.more("before")

        await pilot.press("end")  # the last row of the window: the next page slides in
        await settle(pilot)
        assert table.window.rows[0].key != newest_first[0]
        await pilot.press("home")
        await settle(pilot)
        check(table, newest_first)


async def test_a_page_key_that_slides_the_window_reads_nothing_from_sql() -> None:
    app = make_app(seeded=False)
    for number in range(1000):
        store_of(app).cache.put(entry(number, NOW - timedelta(minutes=number)))
    reads: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await open_cache(pilot)
        table = table_of(pilot)
        read_page = table.read_page

        def counted(direction: object, anchor: object) -> list[CacheEntry]:
            reads.append(f"read {direction}")
            return read_page(direction, anchor)  # type: ignore[arg-type]

        table.read_page = counted  # type: ignore[method-assign]
        slide = table.window.slide

        def noted(direction: Direction) -> Slide[CacheEntry]:
            reads.append("slide")
            return slide(direction)

        table.window.slide = noted  # type: ignore[method-assign]
        for _ in range(20):
            await pilot.press("pagedown")
            await settle(pilot)
        slides = [n for n, what in enumerate(reads) if what == "slide"]
        assert len(slides) >= 2
        for n in slides:  # a slide is followed by the read of the page past the new end
            assert reads[n + 1 : n + 2] in (["read after"], [])
        assert reads.count("read after") == len(slides)


async def test_a_page_key_finds_the_rows_it_shows_rendered_ahead() -> None:
    """Rendering a screen of new rows is most of a page key's frame: the cells of the screens
    next to the one on show are rendered while the user is idle, so the key's frame renders
    none (DataTable's cell cache does not grow in it), slides of the window included."""
    app = make_app(seeded=False)
    for number in range(500):
        store_of(app).cache.put(entry(number, NOW - timedelta(minutes=number)))
    async with app.run_test(size=SIZE) as pilot:
        await open_cache(pilot)
        table = table_of(pilot)
        table.focus()
        rendered: list[int] = []
        original = table.render_lines

        def counting(crop: Region) -> list[Strip]:
            before = len(table._cell_render_cache)
            lines = original(crop)
            rendered.append(len(table._cell_render_cache) - before)
            return lines

        table.render_lines = counting  # type: ignore[method-assign]
        for _ in range(10):
            await settle(pilot)
            await wait_for(pilot, lambda: table.warmed)
            rendered.clear()
            await pilot.press("pagedown")
            await pilot.pause()
            assert rendered, "no frame after the key"
            assert rendered[0] == 0, f"the key's frame rendered {rendered[0]} cells"
        assert table.window.before.rows, "the walk slid the window"


# -- failures -------------------------------------------------------------------------------


async def test_a_database_error_becomes_a_notification(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> list[CacheEntry]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(ResponseCache, "browse", broken)
    notes: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):  # kept: a notification on screen expires
            notes.append(message.notification.message)

    app = make_app()
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await open_cache(pilot)
        assert any("disk I/O error" in note for note in notes)
        assert isinstance(app.screen, CacheScreen)
