"""The streamed answer's text widget: wraps as a Static would, incrementally, and stays inert."""

from __future__ import annotations

import asyncio
import random
import time

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widgets import Static

from tui.text import plain
from tui.widgets.prompt.answer_text import AnswerText

WORDS = ("the", "model", "streams", "tokens", "while", "you", "type", "gradient", "descent")


def long_answer(words: int, seed: int) -> str:
    rng = random.Random(seed)
    out = []
    for i in range(words):
        out.append(rng.choice(WORDS) + ("\n\n" if i % 40 == 39 else " "))
    out.append("a_very_long_token_" * 8)  # longer than a row: folded
    out.append("\ttabbed\tline end")
    return "".join(out)


class Harness(App[None]):
    def compose(self) -> ComposeResult:
        yield AnswerText()
        with VerticalScroll():
            yield Static(id="reference")

    async def static_rows(self, text: str, width: int) -> list[str]:
        """The rows of a Static of that width showing the text (as the answer view did)."""
        reference = self.query_one("#reference", Static)
        reference.styles.width = width
        reference.update(plain(text))
        deadline = time.monotonic() + 10
        while reference.size.width != width:  # laid out with both changes, made in one step
            assert time.monotonic() < deadline, "the reference Static was never laid out"
            await asyncio.sleep(0.005)
        strips = reference.render_lines(Region(0, 0, width, reference.size.height))
        return ["".join(segment.text for segment in strip).rstrip() for strip in strips]


async def test_streamed_pieces_wrap_like_the_whole_text_in_a_static() -> None:
    text = long_answer(300, seed=1)
    app = Harness()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(AnswerText)
        rng = random.Random(2)
        position = 0
        while position < len(text):  # pieces of 1-12 characters, splitting words and newlines
            step = rng.randint(1, 12)
            view.write(text[position : position + step])
            position += step
        await pilot.pause()
        width = view.scrollable_content_region.width
        assert width < 60  # the vertical scrollbar took its columns: wrapped again for them
        assert [row.rstrip() for row in view.rows] == await app.static_rows(text, width)
        assert view.text == text  # tabs and newlines are kept; they are not escapes


async def test_it_follows_the_end_unless_the_user_scrolled_up() -> None:
    app = Harness()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(AnswerText)
        view.write(long_answer(200, seed=3))
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y > 0
        view.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        view.write(" more words at the end " * 10)
        await pilot.pause()
        assert view.scroll_y == 0


async def test_a_resize_wraps_the_rows_again() -> None:
    app = Harness()
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.query_one(AnswerText)
        view.write(long_answer(120, seed=4))
        await pilot.pause()
        wide = len(view.rows)
        await pilot.resize_terminal(40, 30)
        await pilot.pause()
        width = view.scrollable_content_region.width
        assert len(view.rows) > wide
        assert [row.rstrip() for row in view.rows] == await app.static_rows(view.text, width)


async def test_control_characters_are_shown_not_sent_to_the_terminal() -> None:
    app = Harness()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(AnswerText)
        view.write("bell \x07 escape \x1b[2J")
        view.write("\x1b]0;title\x07 [bold]markup[/bold]")
        await pilot.pause()
        shown = "".join(
            segment.text for strip in app.screen._compositor.render_strips() for segment in strip
        )
        assert "\x1b" not in shown and "\x07" not in shown
        assert "bell \\x07 escape \\x1b[2J\\x1b]0;title\\x07 [bold]markup[/bold]" in shown
