"""An answer as it arrives from a model: its text, tool calls, finish reason, model and usage."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from core.failures import BadResponse
from storage.records import Usage


@dataclass(frozen=True)
class StoredAnswer:
    """An answer as the response cache keeps it: a cache entry's `response`."""

    text: str
    finish_reason: str | None
    model: str | None
    tool_calls: list[dict[str, Any]] | None
    usage: Usage

    @classmethod
    def read(cls, response: dict[str, Any]) -> StoredAnswer:
        """The answer a cache entry's `response` holds."""
        return cls(
            text=response.get("text", ""),
            finish_reason=response.get("finish_reason"),
            model=response.get("model"),
            tool_calls=response.get("tool_calls") or None,
            usage=Usage(**response.get("usage", {})),
        )

    def as_response(self) -> dict[str, Any]:
        """This answer as a cache entry's `response` (what `read` takes back)."""
        return {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "tool_calls": self.tool_calls,
            "model": self.model,
            "usage": asdict(self.usage),
        }


class Answer:
    """What a call has received so far, from a whole completion, chunks, or the cache."""

    def __init__(self, on_text: Callable[[str], None] | None = None) -> None:
        """`on_text` is told each piece of text as it arrives."""
        self.on_text = on_text
        self.parts: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.usage: Usage | None = None
        """As the server reported it (None: not reported)."""
        self.finish: str | None = None
        self.model: str | None = None
        self.first_token_at: float | None = None
        """`time.perf_counter()` when the first text or tool call arrived."""

    @property
    def text(self) -> str:
        """The text so far."""
        return "".join(self.parts)

    def tool_list(self) -> list[dict[str, Any]] | None:
        """The tool calls in their order, or None."""
        return [self.tool_calls[i] for i in sorted(self.tool_calls)] or None

    def take_completion(self, completion: dict[str, Any]) -> None:
        """Read a whole (non-streamed) chat completion: the JSON the API answers.

        Raises:
            BadResponse: it has no choice with a message.
        """
        choices = completion.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else None
        if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
            raise BadResponse(_server_error(completion) or "no choices in the answer")
        message = choice["message"]
        self._add_text(_text_of(message.get("content")))
        calls = message.get("tool_calls")
        for index, call in enumerate(calls if isinstance(calls, list) else []):
            if isinstance(call, dict):
                self.tool_calls[index] = _without_nulls(call)
        self.finish = _text_or_none(choice.get("finish_reason"))
        self.model = _text_or_none(completion.get("model"))
        usage = completion.get("usage")
        self.usage = json_usage(usage) if isinstance(usage, dict) else None

    def take_chunk(self, chunk: Any) -> None:
        """Read one streamed chunk."""
        self.model = getattr(chunk, "model", None) or self.model
        if getattr(chunk, "usage", None) is not None:
            self.usage = json_usage(chunk.usage.model_dump())  # the SDK's model, as JSON
        if not chunk.choices:
            return
        choice = chunk.choices[0]
        delta = choice.delta
        if delta is not None and delta.content:
            self._add_text(delta.content)
        for call in (delta.tool_calls if delta is not None else None) or []:
            self._merge_tool_call(call)
        if choice.finish_reason:
            self.finish = choice.finish_reason

    def take_cached(self, stored: StoredAnswer) -> None:
        """Take a cache entry's stored answer as this one."""
        self.parts = [stored.text]
        self.finish = stored.finish_reason
        self.model = stored.model
        self.tool_calls = dict(enumerate(stored.tool_calls or []))
        self.usage = stored.usage
        if self.on_text and self.parts[0]:
            self.on_text(self.parts[0])

    def _add_text(self, text: str) -> None:
        if self.first_token_at is None and text:
            self.first_token_at = time.perf_counter()
        self.parts.append(text)
        if self.on_text and text:
            self.on_text(text)

    def _merge_tool_call(self, delta: Any) -> None:
        call = self.tool_calls.setdefault(
            delta.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        if delta.id:
            call["id"] = delta.id
        function = delta.function
        if function is not None:
            call["function"]["name"] += function.name or ""
            call["function"]["arguments"] += function.arguments or ""


def json_usage(usage: dict[str, Any]) -> Usage:
    """The usage an answer reports: a whole completion's JSON, or a stream's last chunk's."""
    prompt_details = _mapping(usage.get("prompt_tokens_details"))
    completion_details = _mapping(usage.get("completion_tokens_details"))
    return Usage(
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        cached_tokens=_count(prompt_details.get("cached_tokens")),
        reasoning_tokens=_count(completion_details.get("reasoning_tokens")),
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> int:
    """A token count as servers report it; anything else (null, a string) is 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text_of(content: Any) -> str:
    """A message's content: a string, or a list of parts whose `text` parts are joined (as
    some servers answer); anything else is no text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text") for part in content if isinstance(part, dict)]
        return "".join(part for part in parts if isinstance(part, str))
    return ""


def _without_nulls(value: Any) -> Any:
    """`value` with its null fields left out, at every depth (as the SDK's models dump)."""
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _server_error(completion: dict[str, Any]) -> str | None:
    """The error a server put in a 200 answer instead of choices (`{"error": {"message":
    ...}}`, as some proxies and local servers do), or None."""
    error = completion.get("error")
    message = error.get("message") if isinstance(error, dict) else error
    if not isinstance(message, str) or not message.strip():
        return None
    return "the server answered an error: " + " ".join(message.split())[:300]


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
