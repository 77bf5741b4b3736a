"""The offline demo endpoint: an OpenAI-compatible server inside the process.

It answers every chat request deterministically, reports usage counted by tiktoken, streams
when asked, and lists its one model. It needs no key and no network, so a fresh install works.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2

from core.settings import DEMO_MODEL
from core.tokens import count_messages, count_text

_CREATED = 1_767_225_600  # fixed, so answers are byte-for-byte reproducible


def demo_transport() -> httpx2.MockTransport:
    """An httpx2 transport answering like an OpenAI-compatible server (sync and async)."""
    return httpx2.MockTransport(_handle)


def demo_answer(messages: list[dict[str, Any]]) -> str:
    """The demo model's answer: always the same for the same last user message."""
    prompt = _last_user_text(messages)
    words = prompt.split()
    excerpt = " ".join(words[:12]) + (" ..." if len(words) > 12 else "")
    return (
        f"This is tunedeck's offline demo model. Your prompt had {len(words)} words: "
        f'"{excerpt}". It answers without calling any service, so the console works with no '
        "key and no network. To talk to a real model, set OPENAI_API_KEY or add a profile to "
        "config.toml."
    )


def _handle(request: httpx2.Request) -> httpx2.Response:
    path = request.url.path
    if request.method == "GET" and path.endswith("/models"):
        data = [{"id": DEMO_MODEL, "object": "model", "created": _CREATED, "owned_by": "tunedeck"}]
        return httpx2.Response(200, json={"object": "list", "data": data})
    if request.method == "POST" and path.endswith("/chat/completions"):
        body = json.loads(request.content or b"{}")
        return _stream(body) if body.get("stream") else _complete(body)
    return httpx2.Response(404, json={"error": {"message": f"no route {path}", "type": "demo"}})


def _usage(messages: list[dict[str, Any]], answer: str) -> dict[str, int]:
    prompt = count_messages(messages, DEMO_MODEL).tokens
    completion = count_text(answer, DEMO_MODEL).tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _complete(body: dict[str, Any]) -> httpx2.Response:
    messages = body.get("messages") or []
    answer = demo_answer(messages)
    return httpx2.Response(
        200,
        json={
            "id": "chatcmpl-demo",
            "object": "chat.completion",
            "created": _CREATED,
            "model": DEMO_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(messages, answer),
        },
    )


def _stream(body: dict[str, Any]) -> httpx2.Response:
    messages = body.get("messages") or []
    answer = demo_answer(messages)
    pieces = [word + " " for word in answer.split(" ")]
    pieces[-1] = pieces[-1].rstrip(" ")
    events = [_chunk({"role": "assistant", "content": ""}, None)]
    events += [_chunk({"content": piece}, None) for piece in pieces]
    events.append(_chunk({}, "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append(_event({**_base_chunk(), "choices": [], "usage": _usage(messages, answer)}))
    events.append(b"data: [DONE]\n\n")
    headers = {"content-type": "text/event-stream"}
    return httpx2.Response(200, headers=headers, content=b"".join(events))


def _base_chunk() -> dict[str, Any]:
    return {
        "id": "chatcmpl-demo",
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": DEMO_MODEL,
    }


def _chunk(delta: dict[str, Any], finish_reason: str | None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return _event({**_base_chunk(), "choices": [choice]})


def _event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode("utf-8") + b"\n\n"


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""
