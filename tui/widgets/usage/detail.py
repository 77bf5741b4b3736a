"""One call of the log in full: parameters, messages, answer, usage, cost, timings, error.

Everything that came from a user or a model is shown inert: markup stays text and escape
sequences show as `\\x1b...` instead of reaching the terminal.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from storage.records import CallRecord
from tui.text import inert, money
from tui.widgets.usage.figures import count, local_time, milliseconds

TIME_PATTERN = "%Y-%m-%d %H:%M:%S"


class CallDetailScreen(ModalScreen[None]):
    """A call's detail over the Usage pane; escape closes it."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    CallDetailScreen { align: center middle; }
    CallDetailScreen > Vertical {
        width: 90%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    CallDetailScreen #detail-title { text-style: bold; width: 1fr; }
    CallDetailScreen VerticalScroll { height: 1fr; }
    CallDetailScreen #detail-figures { height: auto; margin-bottom: 1; }
    CallDetailScreen #detail-facts, CallDetailScreen #detail-usage { width: 1fr; }
    CallDetailScreen.-narrow #detail-figures { layout: vertical; }
    CallDetailScreen.-narrow #detail-usage { margin-top: 1; }
    """
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, record: CallRecord) -> None:
        super().__init__()
        self.record = record
        self.text = describe_call(record)
        """What the detail shows (inert), kept for tests and copying."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(title(self.record), id="detail-title", markup=False)
            with VerticalScroll(id="detail-scroll"):
                with Horizontal(id="detail-figures"):
                    yield Static(_facts(self.record), id="detail-facts")
                    yield Static(_usage(self.record), id="detail-usage")
                yield Static(body(self.record), id="detail-body")
            yield Label("escape closes · arrows scroll", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#detail-scroll").focus()


def title(record: CallRecord) -> str:
    """`call #12 · gpt-4o-mini · ok` (inert)."""
    status = "cache hit" if record.outcome.cache_hit else record.status
    return inert(f"call #{record.id} · {record.start.model} · {status}")


def describe_call(record: CallRecord) -> Text:
    """The whole call as inert text: its facts, its usage, then `body`."""
    text = Text()
    for part in (_facts(record), _usage(record), body(record)):
        text.append(part)
        text.append("\n\n")
    text.rstrip()
    return text


def body(record: CallRecord) -> Text:
    """The error, messages, answer, tool calls and parameters, in titled sections."""
    text = Text()
    for heading, content in sections(record):
        if content is None:
            continue
        text.append(f"{heading}\n", style="bold underline")
        text.append(content if isinstance(content, Text) else Text(inert(content)))
        text.append("\n\n")
    text.rstrip()
    return text


def sections(record: CallRecord) -> list[tuple[str, Text | str | None]]:
    """(heading, content) pairs; a None content is left out."""
    outcome = record.outcome
    error = None
    if outcome.error_type or outcome.error_message:
        error = f"{outcome.error_type or 'error'}: {outcome.error_message or ''}"
    return [
        ("error", error),
        ("messages", _messages(record.start.messages)),
        ("answer", outcome.response_text or ("(none)" if not error else None)),
        ("tool calls", _json(outcome.tool_calls) if outcome.tool_calls else None),
        ("parameters", _json(record.start.params)),
    ]


def _facts(record: CallRecord) -> Text:
    start, outcome = record.start, record.outcome
    finished = local_time(outcome.finished_at, TIME_PATTERN) if outcome.finished_at else "-"
    return _pairs(
        [
            ("status", record.status + (" (stream cut)" if outcome.status == "incomplete" else "")),
            ("model", start.model),
            ("answered by", outcome.response_model or "-"),
            ("profile", start.profile),
            ("endpoint", start.endpoint),
            ("started", local_time(start.started_at, TIME_PATTERN)),
            ("finished", finished),
            ("stream", "yes" if start.stream else "no"),
            ("finish reason", outcome.finish_reason or "-"),
        ]
    )


def _usage(record: CallRecord) -> Text:
    outcome, usage = record.outcome, record.outcome.usage
    cost = money(outcome.cost_usd) if outcome.cost_usd is not None else "unknown (no price)"
    return _pairs(
        [
            ("tokens in", f"{count(usage.prompt_tokens)} (cached {count(usage.cached_tokens)})"),
            (
                "tokens out",
                f"{count(usage.completion_tokens)} (reasoning {count(usage.reasoning_tokens)})",
            ),
            ("counted", "estimated locally" if usage.estimated else "reported by the server"),
            ("cost", cost),
            ("cache", "hit" if outcome.cache_hit else "miss"),
            ("saved", money(outcome.cost_saved_usd) if outcome.cost_saved_usd else "-"),
            ("first token", milliseconds(outcome.ttft_ms)),
            ("latency", milliseconds(outcome.latency_ms)),
            ("retries", str(outcome.retries)),
        ]
    )


def _pairs(pairs: list[tuple[str, str]]) -> Text:
    text = Text()
    for name, value in pairs:
        text.append(f"{name:>13}  ", style="dim")
        text.append(inert(value) + "\n")
    text.rstrip()
    return text


def _messages(messages: list[dict[str, Any]]) -> Text:
    text = Text()
    for message in messages:
        text.append(f"[{inert(str(message.get('role', '?')))}]\n", style="bold")
        text.append(inert(_content(message)) + "\n")
    text.rstrip()
    return text if messages else Text("(none)")


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    parts: list[str] = []
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        parts.extend(_part(part) for part in content)
    elif content is not None:
        parts.append(_json(content))
    if message.get("tool_calls"):
        parts.append("tool calls: " + _json(message["tool_calls"]))
    return "\n".join(parts)


def _part(part: Any) -> str:
    if isinstance(part, dict) and part.get("type") == "text":
        return str(part.get("text", ""))
    return _json(part)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
