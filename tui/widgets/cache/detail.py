"""One cache entry in full: what its key was made of, and the cached answer, shown inert."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from storage.records import CacheEntry
from tui.text import inert, money, plain
from tui.widgets.cache.figures import age, moment, size, tokens_saved, until


class CacheEntryDetail(ModalScreen[str | None]):
    """Dismisses with `"delete"` when the user asks to delete the entry, else with None."""

    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Close"),
        Binding("d", "dismiss('delete')", "Delete"),
    ]
    DEFAULT_CSS = """
    CacheEntryDetail { align: center middle; }
    CacheEntryDetail > VerticalScroll {
        width: 90%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    CacheEntryDetail .detail-heading { margin-top: 1; text-style: bold; color: $accent; }
    CacheEntryDetail .detail-text { padding: 0 1; background: $boost; }
    """

    def __init__(self, entry: CacheEntry, now: datetime) -> None:
        super().__init__()
        self.entry = entry
        self.now = now

    def compose(self) -> ComposeResult:
        entry = self.entry
        with VerticalScroll(id="detail") as scroll:
            scroll.border_title = f"cache entry {entry.key[:16]}…"
            scroll.border_subtitle = "escape closes · d deletes"
            yield Static(fields(entry, self.now), id="detail-fields")
            for index, message in enumerate(entry.components.get("messages") or []):
                role = str(message.get("role", "?")) if isinstance(message, dict) else "?"
                yield Label(inert(f"message {index + 1} · {role}"), classes="detail-heading")
                yield Static(plain(message_text(message)), classes="detail-text")
            yield Label("cached answer", classes="detail-heading", markup=False)
            answer = plain(answer_text(entry.response))
            yield Static(answer, id="detail-answer", classes="detail-text")
        yield Footer()


def fields(entry: CacheEntry, now: datetime) -> Table:
    """The key components and the entry's figures, as a two-column table of inert text."""
    table = Table(box=None, show_header=False, pad_edge=False, expand=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows(entry, now):
        table.add_row(Text(name), Text(inert(value)))
    return table


def rows(entry: CacheEntry, now: datetime) -> Iterable[tuple[str, str]]:
    """(field, value) pairs: the key, its components (each parameter apart), then figures."""
    yield "key", entry.key
    for name, value in entry.components.items():
        if name not in ("messages", "params"):
            yield name, shown(value)
    params = entry.components.get("params") or {}
    for name, value in params.items() if isinstance(params, dict) else ():
        yield f"param {name}", shown(value)
    yield "hits", f"{entry.hits:,} ({tokens_saved(entry):,} tokens saved)"
    yield "created", f"{when(entry.created_at)} ({age(entry.created_at, now)} ago)"
    last = entry.last_hit_at
    yield "last hit", f"{when(last)} ({age(last, now)} ago)" if last else "never"
    expires = entry.expires_at
    yield "expires", f"{when(expires)} ({until(expires, now)})" if expires else "never"
    tokens = f"{entry.prompt_tokens:,} prompt + {entry.completion_tokens:,} completion"
    yield "tokens", tokens
    if entry.response.get("finish_reason"):
        yield "finish reason", shown(entry.response["finish_reason"])
    yield "original cost", money(entry.cost_usd)
    yield "size", size(entry.size_bytes)


def when(stamp: str) -> str:
    """A stored UTC time in the user's local time zone."""
    return moment(stamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def shown(value: Any) -> str:
    """A component's value as text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def message_text(message: Any) -> str:
    """A request message's content (JSON for parts or tool calls)."""
    if not isinstance(message, dict):
        return shown(message)
    content = message.get("content")
    text = content if isinstance(content, str) else ""
    if content is not None and not isinstance(content, str):
        text = json.dumps(content, ensure_ascii=False, indent=2)
    extra = {k: v for k, v in message.items() if k not in ("role", "content")}
    if extra:
        text += ("\n" if text else "") + json.dumps(extra, ensure_ascii=False, indent=2)
    return text


def answer_text(response: dict[str, Any]) -> str:
    """The cached answer's text, and its tool calls when it has them."""
    text = str(response.get("text") or "")
    if response.get("tool_calls"):
        calls = json.dumps(response["tool_calls"], ensure_ascii=False, indent=2)
        text += ("\n\n" if text else "") + "tool calls:\n" + calls
    return text
