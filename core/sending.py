"""Sending a chat request through the SDK: `post` to `/chat/completions`.

`chat.completions.create` first walks the request against its ~40 typed parameters (for
aliases and formats that chat requests do not have): ~0.6 ms of CPU a call, a quarter of the
SDK's own cost at 32 requests in flight (tests/bench/bench_eval_runner.py), and an evaluation
run is bound by that CPU. The body a `ChatCall` builds is already the API's JSON, so it is
posted as is with the SDK's `post`, its documented way to send any request with the client's
options: the same authentication, retries (backoff, Retry-After), errors, response parsing
and streams as `create`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openai import AsyncOpenAI, AsyncStream, OpenAI, Stream
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

_PATH = "/chat/completions"
_BEARER: Any = {"security": {"bearer_auth": True}}  # what `create` asks for


def post_chat(sdk: OpenAI, body: dict[str, Any]) -> ChatCompletion | Stream[ChatCompletionChunk]:
    """Send `body` (a stream when `body["stream"]`) and return the SDK's answer."""
    from openai import Stream
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    stream = bool(body.get("stream"))
    return sdk.post(
        _PATH,
        body=body,
        cast_to=ChatCompletion,
        options=_BEARER,
        stream=stream,
        stream_cls=Stream[ChatCompletionChunk],
    )


async def apost_chat(
    sdk: AsyncOpenAI, body: dict[str, Any]
) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
    """`post_chat` for the async client."""
    from openai import AsyncStream
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    stream = bool(body.get("stream"))
    return await sdk.post(
        _PATH,
        body=body,
        cast_to=ChatCompletion,
        options=_BEARER,
        stream=stream,
        stream_cls=AsyncStream[ChatCompletionChunk],
    )
