"""The Usage pane driven by Pilot: totals against SQL, search, errors only, detail, breakdown,
paging the log, inert text, and failures as notifications."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from textual.geometry import Region
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, Select, Static

from core.clock import iso
from core.settings import load_settings
from storage.records import CallOutcome, CallStart, Usage
from storage.store import Store
from storage.usage import UsageQueries
from tests.support.paging import walk
from tests.support.seed import seed_database
from tui.app import TunedeckApp
from tui.engine import Engine
from tui.screens.help import HelpScreen
from tui.screens.usage import UsageScreen
from tui.widgets.paging import PagedTable
from tui.widgets.usage.breakdown import UsageBreakdown
from tui.widgets.usage.detail import CallDetailScreen
from tui.widgets.usage.log import CallLogTable
from tui.widgets.usage.totals import UsageTotals

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SIZE = (120, 36)


pytestmark = pytest.mark.usefixtures("local_time_utc")


def build_app(home: object, *, seeded: bool = True) -> TunedeckApp:
    """The console on a fresh database (as tests/snapshots/conftest.py's `make_app`)."""
    engine = Engine(load_settings())
    store = engine.store  # open it here: two workers opening it at once can collide
    if seeded:
        seed_database(store, NOW)
    return TunedeckApp(engine, clock=lambda: NOW, warm_up=False, cursor_blink=False)


async def settle(pilot: Pilot[None]) -> None:
    """Wait for workers and for what their results start (a page may load the next)."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_usage(pilot: Pilot[None]) -> UsageScreen:
    """Switch to the Usage pane with its key, from wherever the focus was."""
    await settle(pilot)
    pilot.app.set_focus(None)
    await pilot.press("3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, UsageScreen)
    return screen


def log_ids(screen: UsageScreen) -> list[int]:
    table = screen.query_one(CallLogTable)
    return [int(str(row.key.value)) for row in table.ordered_rows]


def text_of(widget: Widget) -> str:
    """What the widget draws, as plain text."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


def sql_ids(store: Store, where: str = "1", args: tuple[object, ...] = ()) -> list[int]:
    sql = f"SELECT id FROM calls WHERE {where} ORDER BY id DESC"
    return [row[0] for row in store.db.execute(sql, args)]


def sql_totals(store: Store, since: str) -> tuple[object, ...]:
    row = store.db.execute(
        """SELECT count(*), sum(status = 'error'),
            sum(CASE WHEN cache_hit = 0 THEN prompt_tokens END),
            sum(CASE WHEN cache_hit = 0 THEN completion_tokens END), sum(cost_usd),
            sum(cost_usd IS NULL AND status = 'ok' AND cache_hit = 0), sum(cache_hit),
            coalesce(sum(cost_saved_usd), 0)
        FROM calls WHERE started_at >= ? AND started_at < '2026-11-29'""",
        [since],
    ).fetchone()
    return tuple(row)


async def test_the_pane_opens_on_the_log_with_totals_matching_sql(home: object) -> None:
    app = build_app(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        store = app.engine.store

        assert app.focused is screen.query_one(CallLogTable)
        assert screen.figures is not None
        starts = {"today": "2026-11-28", "7 days": "2026-11-22", "30 days": "2026-10-30"}
        for row in screen.figures.totals:
            calls, errors, tokens_in, tokens_out, cost, unpriced, hits, saved = sql_totals(
                store, starts[row.group]
            )
            assert (row.calls, row.errors, row.cache_hits) == (calls, errors, hits)
            assert (row.prompt_tokens, row.completion_tokens) == (tokens_in, tokens_out)
            assert row.unpriced_calls == unpriced and unpriced
            assert row.cost_usd == pytest.approx(cost)
            assert row.cost_saved_usd == pytest.approx(saved)
        shown = text_of(screen.query_one(UsageTotals))
        assert "30 days" in shown and f" {sql_totals(store, '2026-10-30')[0]} " in shown
        assert log_ids(screen) == sql_ids(store)
    app.engine.close()


async def test_search_narrows_the_log_and_escape_returns_to_it(home: object) -> None:
    app = build_app(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#log-search", Input)
        await pilot.press(*"haiku")
        await settle(pilot)

        # The calls sent to a model: cache hits, replays of one of them, are not searched.
        expected = sql_ids(app.engine.store, "prompt_text LIKE '%haiku%' AND cache_hit = 0")
        hits = sql_ids(app.engine.store, "prompt_text LIKE '%haiku%' AND cache_hit = 1")
        assert 0 < len(expected) < 40 and hits
        assert log_ids(screen) == expected
        await pilot.press("escape")
        assert app.focused is screen.query_one(CallLogTable)
    app.engine.close()


async def test_x_shows_only_failed_calls_and_toggles_back(home: object) -> None:
    app = build_app(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        await pilot.press("x")
        await settle(pilot)
        failed = sql_ids(app.engine.store, "status = 'error'")
        assert failed and log_ids(screen) == failed
        assert "errors only" in text_of(screen.query_one("#log-hint", Static))

        await pilot.press("x")
        await settle(pilot)
        assert len(log_ids(screen)) == 40
    app.engine.close()


async def test_the_model_picker_filters_the_log(home: object) -> None:
    app = build_app(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        picker = screen.query_one("#log-model", Select)
        assert {value for _, value in picker._options if isinstance(value, str)} == {
            "gpt-4o-mini",
            "gpt-4.1",
            "llama-3.1-8b",
        }
        picker.value = "gpt-4.1"
        await settle(pilot)
        assert log_ids(screen) == sql_ids(app.engine.store, "model = ?", ("gpt-4.1",))
    app.engine.close()


async def test_enter_opens_the_call_and_escape_closes_it(home: object) -> None:
    app = build_app(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

        detail = app.screen
        assert isinstance(detail, CallDetailScreen)
        assert detail.record.id == log_ids(screen)[1]
        body = detail.text.plain
        for part in ("parameters", "messages", "[user]", "answer", "tokens in", "latency"):
            assert part in body
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and app.focused is screen.query_one(CallLogTable)
    app.engine.close()


async def test_b_cycles_the_breakdown_through_profile_day_and_model(home: object) -> None:
    app = build_app(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        table = screen.query_one(UsageBreakdown)

        def groups() -> set[str]:
            return {str(row.key.value) for row in table.ordered_rows}

        assert groups() == {"gpt-4o-mini", "gpt-4.1", "llama-3.1-8b"}
        await pilot.press("b")
        await settle(pilot)
        assert (screen.breakdown_by, groups()) == ("profile", {"openai", "vllm"})
        await pilot.press("b")
        await settle(pilot)
        assert screen.breakdown_by == "day"
        assert groups() == {(NOW - timedelta(days=n)).date().isoformat() for n in range(10)}
        await pilot.press("b")
        await settle(pilot)
        assert screen.breakdown_by == "model"
    app.engine.close()


async def test_r_reads_new_calls_and_coming_back_shows_them(home: object) -> None:
    app = build_app(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        assert screen.figures is not None
        before = screen.figures.totals[0].calls
        log_many(app.engine.store, 1)
        await pilot.press("r")
        await settle(pilot)
        assert screen.figures.totals[0].calls == before + 1
        assert log_ids(screen)[0] == 41

        await pilot.press("1")
        await settle(pilot)
        log_many(app.engine.store, 1)
        app.set_focus(None)
        await pilot.press("3")
        await settle(pilot)
        assert screen.figures.totals[0].calls == before + 2
        assert log_ids(screen)[0] == 42
    app.engine.close()


def log_many(store: Store, count: int) -> None:
    for n in range(count):
        started = iso(NOW - timedelta(minutes=count - n))
        call_id = store.calls.start(
            CallStart(
                started, "p", "e", "m", False, {}, [{"role": "user", "content": "q"}], "", True
            )
        )
        outcome = CallOutcome(finished_at=started, status="ok", usage=Usage(1, 1), cost_usd=0.0)
        store.calls.finish(call_id, outcome)


async def test_paging_keeps_at_most_two_pages_and_never_loses_the_cursor(home: object) -> None:
    app = build_app(home, seeded=False)
    log_many(app.engine.store, 700)
    newest_first = [str(n) for n in range(700, 0, -1)]
    shown: list[int] = []

    def hook(message: Message) -> None:
        if isinstance(message, PagedTable.RowsChanged):
            shown.append(message.rows)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await open_usage(pilot)
        table = screen.query_one(CallLogTable)
        page = table.window.page_size
        assert log_ids(screen) == list(range(700, 700 - 2 * page, -1))  # 2nd page read ahead
        for _ in range(3):  # the cursor off the top line: slides must not move it on screen
            await pilot.press("down")
        down = await walk(pilot, table, newest_first, "pagedown", settle)
        assert len(down) > 20 and log_ids(screen)[-1] == 1
        up = await walk(pilot, table, newest_first, "pageup", settle)  # pages read back up
        assert up[-1] == 0 and table.at_start
        assert max(shown) <= 2 * page
    app.engine.close()


NASTY = "\x1b]0;pwned\x07 then \x1b[2J and [bold red]loud[/] with a bell\x07"


async def test_escape_sequences_and_markup_from_a_call_show_as_text(home: object) -> None:
    app = build_app(home)
    store = app.engine.store
    start = CallStart(iso(NOW), "p", "e", "m\x1b[31m", False, {}, [], "", True)
    call_id = store.calls.start(
        start.__class__(**{**start.__dict__, "messages": [{"role": "user", "content": NASTY}]})
    )
    store.calls.finish(call_id, CallOutcome(finished_at=iso(NOW), status="ok", response_text=NASTY))

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_usage(pilot)
        row_text = text_of(screen.query_one(CallLogTable))
        assert "\\x1b]0;pwned\\x07" in row_text and "\x1b" not in row_text
        await pilot.press("enter")
        await settle(pilot)

        assert isinstance(app.screen, CallDetailScreen)
        drawn = text_of(app.screen.query_one("#detail-body", Static))
        for visible in ("\\x1b]0;pwned\\x07", "\\x1b[2J", "[bold red]loud[/]", "bell\\x07"):
            assert visible in drawn
        assert "\x1b" not in drawn and "\x07" not in drawn
        assert "m\\x1b[31m" in str(app.screen.query_one("#detail-title", Static).render())
    app.engine.close()


async def test_a_failed_read_becomes_a_notification(
    home: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(UsageQueries, "daily", broken)
    notes: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            notes.append(message.notification.message)

    app = build_app(home)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await open_usage(pilot)
        assert any("disk I/O error" in note for note in notes)
        assert len(log_ids(screen)) == 40  # the log still works
    app.engine.close()


async def test_the_pane_lists_its_keys_for_help_and_the_palette(home: object) -> None:
    keys = {b.key for b in UsageScreen.BINDINGS if not isinstance(b, tuple)}  # type: ignore[union-attr]
    assert {"slash", "x", "b", "r", "escape", "enter"} <= keys
    app = build_app(home, seeded=False)
    async with app.run_test(size=SIZE) as pilot:
        await open_usage(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        listed = " ".join(action for _, action in app.screen.pane_keys)
        for description in ("Search", "Errors only", "Breakdown", "Refresh"):
            assert description in listed
    app.engine.close()
