"""One model's answer as it streams, and its figures when it ends."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from core.errors import RequestFailed
from tui.text import money
from tui.widgets.prompt.answer_text import AnswerText

if TYPE_CHECKING:
    from core.results import ChatResult

# Streamed pieces are shown together, at most 10 times a second (one repaint for many chunks),
# and not while the user is typing (but at least every half second): keys come first.
_FLUSH_SECONDS = 0.1
_TYPING_SECONDS = 0.1
_MAX_WAIT_SECONDS = 0.5


class AnswerView(Vertical):
    """Shows streamed text as inert plain text, then tokens, cost, timings and a badge."""

    DEFAULT_CSS = """
    AnswerView { border: round $panel-lighten-2; height: 1fr; }
    AnswerView .answer-figures { width: 1fr; height: auto; color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.text = ""
        self.state = "empty"
        """`empty`, `streaming`, `done`, `error` or `stopped`."""
        self.result: ChatResult | None = None
        self._pending: list[str] = []  # received, not yet on screen
        self._waiting_since = 0.0

    def compose(self) -> ComposeResult:
        yield AnswerText(classes="answer-body")
        yield Label("", classes="answer-figures", markup=False)

    @property
    def body(self) -> AnswerText:
        """The widget showing the text."""
        return self.query_one(AnswerText)

    def start(self, model: str) -> None:
        """Clear the view for a new answer from `model`."""
        self.border_title = model
        self.text, self.state, self.result = "", "streaming", None
        self._pending.clear()
        self.body.clear()
        self._figures("waiting for the first token…")

    def append(self, piece: str) -> None:
        """Add streamed text; it reaches the screen with the next flush."""
        self.text += piece
        if not self._pending:
            self._waiting_since = time.monotonic()
            self.set_timer(_FLUSH_SECONDS, self._flush_unless_typing)
        self._pending.append(piece)

    def _flush_unless_typing(self) -> None:
        now = time.monotonic()
        typing = now - getattr(self.app, "last_key_at", 0.0) < _TYPING_SECONDS
        if typing and now - self._waiting_since < _MAX_WAIT_SECONDS:
            self.set_timer(_TYPING_SECONDS, self._flush_unless_typing)
            return
        self._flush()

    def finish(self, result: ChatResult) -> None:
        """Show the whole answer and its figures."""
        self._flush()
        if result.text != self.text:  # a cached answer, or pieces the stream did not show
            self.body.clear()
            self.body.write(result.text)
        self.text, self.state, self.result = result.text, "done", result
        self._figures(figures(result))

    def fail(self, error: Exception) -> None:
        """Keep any partial text and show the error, with the retries made."""
        self.state = "error"
        retries = f" after {error.retries} retries" if isinstance(error, RequestFailed) else ""
        self._flush()
        self._figures(f"ERROR{retries}: {error}")
        self.set_class(True, "-error")

    def stopped(self) -> None:
        """The user stopped the stream: the partial answer stays, marked."""
        self.state = "stopped"
        self._flush()
        self._figures("STOPPED: partial answer (logged as cancelled)")

    def _flush(self) -> None:
        if self._pending:
            self.body.write("".join(self._pending))
            self._pending.clear()

    def _figures(self, line: str) -> None:
        self.set_class(False, "-error")
        self.query_one(".answer-figures", Label).update(line)


def figures(result: ChatResult) -> str:
    """Tokens, cost, time to first token, latency and a badge, on one line."""
    usage = result.usage
    ttft = "-" if result.ttft_ms is None else f"{result.ttft_ms:.0f} ms"
    badges = []
    if result.cache_hit:
        badges.append("CACHE HIT")
    if usage.estimated:
        badges.append("ESTIMATED")
    if result.retries:
        badges.append(f"{result.retries} RETRIES")
    line = (
        f"{usage.prompt_tokens} in / {usage.completion_tokens} out · {money(result.cost_usd)} · "
        f"ttft {ttft} · {result.latency_ms:.0f} ms"
    )
    return " · ".join([*badges, line])
