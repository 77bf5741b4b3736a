"""The Prompt pane against a real local server: send, stream, cache, errors, stop, compare."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Label, TextArea

from core.settings import Settings
from storage.records import CallFilter
from tests.support.fake_openai import FakeOpenAI, Reply
from tui.app import TunedeckApp
from tui.engine import Engine
from tui.screens.help import HelpScreen
from tui.widgets.prompt.answer import AnswerView
from tui.widgets.prompt.editor import PromptEditor


@asynccontextmanager
async def console(
    settings: Settings, size: tuple[int, int] = (120, 36)
) -> AsyncIterator[Pilot[None]]:
    app = TunedeckApp(Engine(settings), warm_up=False, cursor_blink=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        yield pilot


async def type_prompt(pilot: Pilot[None], text: str) -> None:
    editor = pilot.app.screen.query_one(PromptEditor)
    editor.focus()
    editor.load_text(text)
    await pilot.pause()


async def send(pilot: Pilot[None], key: str = "ctrl+s") -> AnswerView:
    await pilot.press(key)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return pilot.app.screen.query_one("#answer-a", AnswerView)


def screen_lines(pilot: Pilot[None]) -> list[str]:
    """The text of every row of the screen as the compositor renders it."""
    strips = pilot.app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


def figures(view: AnswerView) -> str:
    return str(view.query_one(".answer-figures", Label).render())


async def test_a_prompt_streams_then_shows_its_figures(
    settings: Settings, fake: FakeOpenAI
) -> None:
    fake.enqueue(Reply.text("Bonjour tout le monde", prompt_tokens=12, completion_tokens=5))
    async with console(settings) as pilot:
        await type_prompt(pilot, "Say hello in French")
        view = await send(pilot)
        assert view.state == "done" and view.text == "Bonjour tout le monde"
        assert "12 in / 5 out" in figures(view) and "ttft" in figures(view)
        assert fake.chat_requests[0].json["stream"] is True
        assert fake.chat_requests[0].json["messages"][-1]["content"] == "Say hello in French"


async def test_sending_again_shows_the_cache_badge(settings: Settings, fake: FakeOpenAI) -> None:
    async with console(settings) as pilot:
        await type_prompt(pilot, "cache me")
        await send(pilot)
        view = await send(pilot)
        assert "CACHE HIT" in figures(view)
        assert len(fake.chat_requests) == 1
        rerun = await send(pilot, "ctrl+r")
        assert "CACHE HIT" not in figures(rerun) and len(fake.chat_requests) == 2


async def test_a_server_error_notifies_and_is_logged(settings: Settings, fake: FakeOpenAI) -> None:
    for _ in range(3):
        fake.enqueue(Reply.error(503, "overloaded", headers={"retry-after-ms": "1"}))
    async with console(settings) as pilot:
        await type_prompt(pilot, "will fail")
        view = await send(pilot)
        assert view.state == "error" and "after 2 retries" in figures(view)
        assert any("HTTP 503" in n.message for n in pilot.app._notifications)
        store = pilot.app.engine.store  # type: ignore[attr-defined]
        (call,) = store.calls.find(CallFilter())
        assert call.status == "error" and call.outcome.retries == 2


async def test_escape_stops_the_stream_and_keeps_the_partial_answer(
    settings: Settings, fake: FakeOpenAI
) -> None:
    fake.enqueue(Reply.text(" ".join(f"w{i}" for i in range(50)), chunk_delay=0.05))
    async with console(settings) as pilot:
        await type_prompt(pilot, "long answer please")
        await pilot.press("ctrl+s")
        view = pilot.app.screen.query_one("#answer-a", AnswerView)
        while "w3" not in view.text:
            await pilot.pause(0.05)
        await pilot.press("escape")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert view.state == "stopped" and view.text.startswith("w0 w1")
        assert "STOPPED" in figures(view)
        (call,) = pilot.app.engine.store.calls.find(CallFilter())  # type: ignore[attr-defined]
        assert call.status == "cancelled" and call.outcome.response_text == view.text


async def test_compare_sends_to_two_models_side_by_side(
    settings: Settings, fake: FakeOpenAI
) -> None:
    async with console(settings) as pilot:
        pilot.app.screen.query_one("#compare-model", Input).value = "gpt-4.1"
        await type_prompt(pilot, "compare me")
        await send(pilot)
        first = pilot.app.screen.query_one("#answer-a", AnswerView)
        second = pilot.app.screen.query_one("#answer-b", AnswerView)
        assert second.display and first.state == second.state == "done"
        assert {r.json["model"] for r in fake.chat_requests} == {"gpt-4o-mini", "gpt-4.1"}
        assert first.border_title == "gpt-4o-mini" and second.border_title == "gpt-4.1"


async def test_invalid_parameters_show_the_rule_and_block_sending(
    settings: Settings, fake: FakeOpenAI
) -> None:
    async with console(settings) as pilot:
        await type_prompt(pilot, "hot")
        pilot.app.screen.query_one("#param-temperature", Input).value = "3"
        await pilot.pause()
        error = pilot.app.screen.query_one("#param-error", Label)
        assert "temperature: must be at most 2" in str(error.render())
        await send(pilot)
        assert fake.chat_requests == []
        assert any("fix the parameters" in n.message for n in pilot.app._notifications)


async def test_the_token_estimate_follows_typing(settings: Settings) -> None:
    async with console(settings) as pilot:
        await type_prompt(pilot, "one two three four five six seven eight")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        line = str(pilot.app.screen.query_one("#estimate", Label).render())
        assert "prompt tokens" in line and "$" in line and "at most" in line


async def test_history_recalls_prompts_from_earlier_runs(settings: Settings) -> None:
    async with console(settings) as pilot:
        await type_prompt(pilot, "an earlier prompt")
        await send(pilot)
    async with console(settings) as pilot:
        editor = pilot.app.screen.query_one(PromptEditor)
        editor.focus()
        await pilot.press("up")
        assert editor.text == "an earlier prompt"
        await pilot.press("down")
        assert editor.text == ""


async def test_panes_switch_by_keys_even_from_a_text_field(settings: Settings) -> None:
    async with console(settings) as pilot:
        assert pilot.app.current_mode == "prompt"
        assert isinstance(pilot.app.focused, PromptEditor)
        await pilot.press("alt+2")
        assert pilot.app.current_mode == "cache"
        await pilot.press("alt+3")
        assert pilot.app.current_mode == "usage"
        await pilot.press("alt+1")
        assert pilot.app.current_mode == "prompt"
        assert isinstance(pilot.app.focused, PromptEditor)


async def test_help_lists_the_pane_keys(settings: Settings) -> None:
    async with console(settings) as pilot:
        await pilot.press("f1")
        assert isinstance(pilot.app.screen, HelpScreen)
        keys = [action for _, action in pilot.app.screen.pane_keys]
        assert "Send" in keys and "Stop" in keys and "Copy answer" in keys
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, HelpScreen)


async def test_copy_puts_the_answer_on_the_clipboard(settings: Settings) -> None:
    async with console(settings) as pilot:
        await type_prompt(pilot, "copy this")
        view = await send(pilot)
        await pilot.press("ctrl+y")
        assert pilot.app.clipboard == view.text


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_escape_sequences_in_an_answer_are_shown_inert(
    settings: Settings, fake: FakeOpenAI, size: tuple[int, int]
) -> None:
    hostile = "title \x1b]0;pwned\x07 clear \x1b[2J markup [bold red]red[/] bell \x07 end"
    fake.enqueue(Reply.text(hostile))
    async with console(settings, size) as pilot:
        await type_prompt(pilot, "be hostile")
        view = await send(pilot)
        body = view.body.text
        assert "\\x1b]0;pwned\\x07" in body and "\\x1b[2J" in body
        assert "[bold red]red[/]" in body and "bell \\x07 end" in body
        assert "\x1b" not in body and "\x07" not in body
        on_screen = "".join(screen_lines(pilot))
        assert "\x1b" not in on_screen and "\x07" not in on_screen
        assert "[bold red]red[/]" in on_screen


@pytest.mark.parametrize("field", ["#prompt", "#system"])
async def test_escape_sequences_pasted_into_the_prompt_are_sent_but_never_drawn(
    settings: Settings, fake: FakeOpenAI, field: str
) -> None:
    hostile = "title \x1b]0;pwned\x07 clear \x1b[2J bell \x07 end"
    async with console(settings, (120, 60)) as pilot:  # tall: the system prompt on screen
        editor = pilot.app.screen.query_one(field, TextArea)
        editor.focus()
        await pilot.pause()
        assert pilot.app.focused is editor
        pilot.app.post_message(events.Paste(hostile))  # as the terminal driver does
        await pilot.pause()
        assert editor.text == hostile  # the prompt is what was pasted
        on_screen = "".join(screen_lines(pilot))
        assert "title" in on_screen and "pwned" in on_screen
        assert "\x1b" not in on_screen and "\x07" not in on_screen
        if field == "#system":
            await type_prompt(pilot, "hello")
        await send(pilot)
    sent = fake.chat_requests[-1].body["messages"]
    assert hostile in [message["content"] for message in sent]


async def test_models_are_offered_from_the_endpoint_and_the_log(
    settings: Settings, fake: FakeOpenAI
) -> None:
    fake.models = ["served-model-a", "served-model-b"]
    async with console(settings) as pilot:
        await type_prompt(pilot, "remember my model")
        await send(pilot)
        pilot.app.screen.load_models("fake")  # type: ignore[attr-defined]
        await pilot.app.workers.wait_for_complete()
        suggester = pilot.app.screen.query_one("#model", Input).suggester
        assert suggester is not None
        assert await suggester.get_suggestion("served-model-b") == "served-model-b"
        assert await suggester.get_suggestion("gpt-4o-m") == "gpt-4o-mini"  # from the log


async def test_choosing_a_profile_switches_its_default_model(settings: Settings) -> None:
    from textual.widgets import Select

    from tui.widgets.status import StatusLine

    async with console(settings) as pilot:
        pilot.app.screen.query_one("#profile", Select).value = "demo"
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert pilot.app.screen.query_one("#model", Input).value == "tunedeck-demo"
        assert "demo · tunedeck-demo · OFFLINE DEMO" in str(
            pilot.app.screen.query_one(StatusLine).render()
        )
        await type_prompt(pilot, "offline please")
        view = await send(pilot)
        assert "offline demo model" in view.text


async def test_a_field_scrolls_its_text_without_laying_the_screen_out(settings: Settings) -> None:
    from textual import messages

    laid_out: list[object] = []

    def on_message(message: object) -> None:
        if isinstance(message, messages.Layout):
            laid_out.append(message.widget)

    app = TunedeckApp(Engine(settings), warm_up=False, cursor_blink=False)
    async with app.run_test(size=(120, 36), message_hook=on_message) as pilot:
        await app.workers.wait_for_complete()
        field = app.screen.query_one("#compare-model", Input)
        field.focus()
        await pilot.pause()
        laid_out.clear()
        typed = "a-model-name-much-longer-than-its-box-0123456789"
        await pilot.press(*typed)
        await pilot.pause()
        assert field.value == typed and len(typed) > field.region.width
        assert field not in laid_out  # each key repaints the field, not the whole screen
        row = screen_lines(pilot)[field.region.y][field.region.x : field.region.right]
        assert typed[-20:] in row and not row.startswith(typed[:5])  # scrolled to the end


async def test_the_pickers_arrive_after_the_first_frame_with_the_defaults_meanwhile(
    settings: Settings,
) -> None:
    from textual import events
    from textual.widgets import Select

    from tui.widgets.prompt.params import ParamsForm

    app = TunedeckApp(Engine(settings), warm_up=False, cursor_blink=False)
    at_first_frame: list[tuple[int, object, str]] = []

    def on_message(message: object) -> None:
        if isinstance(message, events.Ready):
            form = app.screen.query_one(ParamsForm)
            shown = str(app.screen.query_one("#profile-pending", Label).render())
            at_first_frame.append((len(form.children), form.params, shown))

    async with app.run_test(size=(120, 36), message_hook=on_message) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        ((fields, params, shown),) = at_first_frame
        assert fields == 0 and shown == "fake"
        assert params is not None and (params.temperature, params.max_tokens) == (0, 512)
        assert app.screen.query_one("#param-max_tokens", Input).value == "512"
        assert app.screen.query_one("#profile", Select).value == "fake"
        assert not app.screen.query("#profile-pending")
