"""Sending a chat request through the SDK: `post` to `/chat/completions`.

`chat.completions.create` first walks the request against its ~40 typed parameters (for
aliases and formats that chat requests do not have): ~0.6 ms of CPU a call, a quarter of the
SDK's own cost at 32 requests in flight (tests/bench/bench_eval_runner.py), and an evaluation
run is bound by that CPU. The body a `ChatCall` builds is already the API's JSON, so it is
posted as is with the SDK's `post`, its documented way to send any request with the client's
options: the same authentication, retries (backoff, Retry-After), errors and streams as
`create`.

A whole (non-streamed) answer is taken as the HTTP response and read as JSON here: the SDK's
`ChatCompletion` model, built field by field for the few fields a call reads, cost ~12-20% of
the SDK's CPU a request (measured at 32 requests in flight against the test server).
`core.answer.Answer.take_completion` reads the JSON's fields as the API documents them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx2
    from openai import AsyncOpenAI, AsyncStream, OpenAI, Stream
    from openai.types.chat import ChatCompletionChunk

_PATH = "/chat/completions"
_BEARER: Any = {"security": {"bearer_auth": True}}  # what `create` asks for


def post_chat(sdk: OpenAI, body: dict[str, Any]) -> dict[str, Any] | Stream[ChatCompletionChunk]:
    """Send `body` and return the answer: its JSON, or its chunks when `body["stream"]`.

    Raises:
        json.JSONDecodeError: a whole answer that is not JSON; and what the SDK raises.
    """
    import httpx2  # imported with the SDK already
    from openai import Stream
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    if body.get("stream"):
        return sdk.post(
            _PATH,
            body=body,
            cast_to=ChatCompletion,
            options=_BEARER,
            stream=True,
            stream_cls=Stream[ChatCompletionChunk],
        )
    return _json_of(sdk.post(_PATH, body=body, cast_to=httpx2.Response, options=_BEARER))


async def apost_chat(
    sdk: AsyncOpenAI, body: dict[str, Any]
) -> dict[str, Any] | AsyncStream[ChatCompletionChunk]:
    """`post_chat` for the async client."""
    import httpx2
    from openai import AsyncStream
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    if body.get("stream"):
        return await sdk.post(
            _PATH,
            body=body,
            cast_to=ChatCompletion,
            options=_BEARER,
            stream=True,
            stream_cls=AsyncStream[ChatCompletionChunk],
        )
    response = await sdk.post(_PATH, body=body, cast_to=httpx2.Response, options=_BEARER)
    return _json_of(response)


def _json_of(response: httpx2.Response) -> dict[str, Any]:
    answer = json.loads(response.content)
    return answer if isinstance(answer, dict) else {}  # no choices: a bad answer
