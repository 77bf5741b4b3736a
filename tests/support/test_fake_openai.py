"""Tests of the fake OpenAI server itself, driven by the real ``openai`` SDK (over httpx2).

What the SDK (openai 3.57 / httpx2 2.16) raises, as observed here:
- drop mid-stream: ``openai.APIConnectionError`` while iterating, ``__cause__`` is
  ``httpx2.RemoteProtocolError("peer closed connection without sending complete message body
  (incomplete chunked read)")``; the chunks sent before the cut are delivered first.
- drop of a non-streaming body: ``openai.APIConnectionError`` (cause ``RemoteProtocolError``), and
  the SDK *retries* it like any connection error.
- bad JSON (non-streaming and streaming): a bare ``json.JSONDecodeError`` (a ``ValueError``), not an
  ``openai.APIError`` and not ``APIResponseValidationError``; it is not retried.
- hang past the read timeout: ``openai.APITimeoutError`` (cause ``httpx2.ReadTimeout``), also
  mid-stream while iterating.
- ``data: {"error": ...}`` mid-stream: ``openai.APIError`` (the base class, ``status_code``-less).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx2
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletionMessageParam

from tests.support.fake_openai import (
    CREATED,
    FakeOpenAI,
    Reply,
    count_words,
    fake_openai_server,
    mask_key,
    prompt_tokens_for,
)

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "hello there"},
]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    yield from fake_openai_server()


@pytest.fixture
def client(server: FakeOpenAI) -> Iterator[OpenAI]:
    with OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0) as sdk:
        yield sdk


# Upper bounds on durations leave room for a loaded 2-core machine; lower bounds are exact.
_SLACK = 0.8
_MIN_FIRST_BACKOFF = 0.35  # the SDK's first backoff is 0.5 s minus up to 25% jitter


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


# --------------------------------------------------------------------------------------------------
# Default behaviour and text replies
# --------------------------------------------------------------------------------------------------


def test_default_echo_with_usage(server: FakeOpenAI, client: OpenAI) -> None:
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert completion.id == "chatcmpl-fake-000001"
    assert completion.created == CREATED
    assert completion.model == "gpt-4o-mini"
    choice = completion.choices[0]
    assert choice.message.content == "echo: hello there"
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"

    assert completion.usage is not None
    assert completion.usage.prompt_tokens == prompt_tokens_for(MESSAGES) == 5
    assert completion.usage.completion_tokens == count_words("echo: hello there") == 3
    assert completion.usage.total_tokens == 8
    (record,) = server.chat_requests
    assert record.usage == completion.usage.model_dump(exclude_none=True)
    assert record.answer == "echo: hello there"
    assert record.headers["authorization"] == "Bearer sk-test"
    assert record.api_key == "sk-test"
    assert record.body["messages"] == MESSAGES
    assert record.status == 200
    assert server.errors == []


def test_scripted_text_with_token_details(server: FakeOpenAI, client: OpenAI) -> None:
    server.enqueue(
        Reply.text(
            "Bonjour",
            prompt_tokens=120,
            completion_tokens=7,
            cached_tokens=64,
            reasoning_tokens=3,
            finish_reason="length",
            model="gpt-4o-mini-2024-07-18",
        )
    )
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert completion.choices[0].message.content == "Bonjour"
    assert completion.choices[0].finish_reason == "length"
    assert completion.model == "gpt-4o-mini-2024-07-18"
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (120, 7, 127)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 64
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 3
    # The queue is consumed: the next request gets the default again.
    again = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert again.choices[0].message.content == "echo: hello there"
    assert again.id == "chatcmpl-fake-000002"


def test_usage_false_omits_usage(server: FakeOpenAI, client: OpenAI) -> None:
    server.enqueue(Reply.text("no usage here", usage=False))
    completion = client.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.usage is None
    assert "usage" not in json.loads(completion.to_json())
    assert server.chat_requests[0].usage is None

    server.enqueue(Reply.text("no usage here", usage=False))
    stream = client.chat.completions.create(
        model="m",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(chunk.usage is None for chunk in chunks)
    assert all(chunk.choices for chunk in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "no usage here"


def test_set_default_and_reset(server: FakeOpenAI, client: OpenAI) -> None:
    server.set_default(Reply.text("always this"))
    server.enqueue(Reply.text("first"))
    texts = [
        client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content
        for _ in range(3)
    ]
    assert texts == ["first", "always this", "always this"]

    server.enqueue(Reply.text("stale"), times=2)
    assert server.pending == 2
    server.reset()
    assert server.pending == 0
    assert server.requests == []
    completion = client.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "echo: hello there"
    assert completion.id == "chatcmpl-fake-000001"


def test_records_what_the_client_sent(server: FakeOpenAI, client: OpenAI) -> None:
    client.chat.completions.create(
        model="ft:gpt-4o-mini-2024-07-18:acme::abc123",
        messages=MESSAGES,
        seed=42,
        temperature=0.2,
        extra_body={"top_k": 5},
        extra_headers={"X-Run-Id": "run-7"},
    )
    (record,) = server.requests
    assert record.method == "POST"
    assert record.path == "/v1/chat/completions"
    assert record.is_chat
    assert record.body["seed"] == 42
    assert record.body["temperature"] == 0.2
    assert record.body["top_k"] == 5
    assert record.body["model"] == "ft:gpt-4o-mini-2024-07-18:acme::abc123"
    assert record.headers["x-run-id"] == "run-7"
    assert record.headers["content-type"] == "application/json"
    assert record.headers["x-stainless-retry-count"] == "0"
    assert not record.stream


# --------------------------------------------------------------------------------------------------
# Streaming
# --------------------------------------------------------------------------------------------------


def test_streaming_with_include_usage(server: FakeOpenAI, client: OpenAI) -> None:
    server.enqueue(Reply.text("one two three four"))
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert {c.id for c in chunks} == {"chatcmpl-fake-000001"}
    assert all(c.object == "chat.completion.chunk" and c.created == CREATED for c in chunks)
    first, *content, last = chunks
    assert first.choices[0].delta.role == "assistant"
    assert first.choices[0].delta.content == ""
    assert [c.choices[0].delta.content for c in content] == ["one ", "two ", "three ", "four"]
    assert [c.choices[0].finish_reason for c in content] == [None, None, None, "stop"]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens == 5
    assert last.usage.completion_tokens == 4
    assert all(c.usage is None for c in chunks[:-1])

    (record,) = server.chat_requests
    assert record.stream
    assert record.body["stream_options"] == {"include_usage": True}
    assert record.usage == last.usage.model_dump(exclude_none=True)


def test_streaming_without_include_usage_sends_no_usage_chunk(client: OpenAI) -> None:
    stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    chunks = list(stream)
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "echo: hello there"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stream_chunks_arrive_as_they_are_sent(server: FakeOpenAI, client: OpenAI) -> None:
    server.enqueue(Reply.text("a b c d", chunk_delay=0.1))
    start = time.perf_counter()
    arrivals: list[float] = []
    for _ in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
        arrivals.append(time.perf_counter() - start)
    assert len(arrivals) == 5
    assert arrivals[-1] >= 4 * 0.1
    # The role chunk was delivered well before the end: the SDK does not buffer the stream.
    assert arrivals[-1] - arrivals[0] >= 0.25


def test_raw_sse_format(server: FakeOpenAI) -> None:
    body = {"model": "m", "messages": MESSAGES, "stream": True}
    with (
        httpx2.Client() as http,
        http.stream("POST", f"{server.base_url}/chat/completions", json=body) as response,
    ):
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["transfer-encoding"] == "chunked"
        text = "".join(response.iter_text())
    events = text.split("\n\n")
    assert events[-1] == ""
    assert events[-2] == "data: [DONE]"
    assert all(event.startswith("data: ") for event in events[:-1])
    assert json.loads(events[0][len("data: ") :])["choices"][0]["delta"]["role"] == "assistant"


# --------------------------------------------------------------------------------------------------
# Errors and retries
# --------------------------------------------------------------------------------------------------


def test_429_with_retry_after_ms_is_retried(server: FakeOpenAI) -> None:
    server.enqueue(Reply.error(429, "slow down", headers={"retry-after-ms": "1"}))
    with OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=2) as sdk:
        completion = sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "echo: hello there"
    attempts = server.chat_requests
    assert len(attempts) == 2
    assert [r.status for r in attempts] == [429, 200]
    assert [r.headers["x-stainless-retry-count"] for r in attempts] == ["0", "1"]
    # retry-after-ms was honoured: the SDK's own first backoff is at least 0.375 s.
    assert attempts[1].at - attempts[0].at < _MIN_FIRST_BACKOFF


def test_rate_limited_helper_and_error_shape(server: FakeOpenAI, client: OpenAI) -> None:
    server.enqueue(Reply.rate_limited())
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="m", messages=MESSAGES)
    error = caught.value
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded"
    assert error.type == "requests"
    assert error.response.headers["retry-after-ms"] == "1"
    assert error.request_id == "req_fake_000001"


def test_500_three_times_exhausts_retries(server: FakeOpenAI) -> None:
    server.enqueue(Reply.error(500, headers={"retry-after-ms": "1"}), times=3)
    with (
        OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=2) as sdk,
        pytest.raises(openai.InternalServerError) as caught,
    ):
        sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.status_code == 500
    assert caught.value.type == "server_error"
    attempts = server.chat_requests
    assert len(attempts) == 3
    assert server.pending == 0
    # Without retry-after-ms the two backoffs would total at least 1.125 s.
    assert attempts[2].at - attempts[0].at < 2 * _MIN_FIRST_BACKOFF


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, openai.BadRequestError),
        (404, openai.NotFoundError),
        (502, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_error_statuses(
    server: FakeOpenAI, client: OpenAI, status: int, exception: type[openai.APIStatusError]
) -> None:
    server.enqueue(Reply.error(status, f"boom {status}"))
    with pytest.raises(exception) as caught:
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.status_code == status
    assert f"boom {status}" in str(caught.value)


def test_401_echoes_masked_key(server: FakeOpenAI) -> None:
    server.enqueue(Reply.invalid_api_key())
    key = "sk-abcdefghijklmnopqrstuvwxyz"
    with (
        OpenAI(api_key=key, base_url=server.base_url, max_retries=2) as sdk,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert mask_key(key) == "sk-abc***xyz"
    assert "Incorrect API key provided: sk-abc***xyz." in caught.value.message
    assert key not in caught.value.message
    assert caught.value.code == "invalid_api_key"
    assert len(server.chat_requests) == 1  # 401 is not retried


def test_custom_error_body_and_headers(server: FakeOpenAI, client: OpenAI) -> None:
    server.enqueue(
        Reply.error(
            503,
            body={"detail": "upstream overloaded"},
            headers={"x-should-retry": "false", "content-type": "application/problem+json"},
        )
    )
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.body == {"detail": "upstream overloaded"}
    assert caught.value.response.headers["content-type"] == "application/problem+json"


def test_hang_triggers_client_timeout(server: FakeOpenAI) -> None:
    server.enqueue(Reply.hang(5))
    start = time.perf_counter()
    with (
        OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0, timeout=0.3) as sdk,
        pytest.raises(openai.APITimeoutError) as caught,
    ):
        sdk.chat.completions.create(model="m", messages=MESSAGES)
    elapsed = time.perf_counter() - start
    assert 0.3 <= elapsed < 2.0  # the client gave up; the server would have waited 5 s
    assert isinstance(caught.value.__cause__, httpx2.ReadTimeout)
    assert len(server.chat_requests) == 1


def test_hang_mid_stream_times_out_while_iterating(server: FakeOpenAI) -> None:
    server.enqueue(Reply.hang(5, after_chunks=2))
    received = []
    with (
        OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0, timeout=0.3) as sdk,
        pytest.raises(openai.APITimeoutError),
    ):
        for chunk in sdk.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            received.append(chunk)
    assert len(received) == 2


def test_drop_mid_stream_raises_after_first_chunks(server: FakeOpenAI, client: OpenAI) -> None:
    server.enqueue(Reply.drop_mid_stream(after_chunks=2, text="one two three four"))
    received = []
    with pytest.raises(openai.APIConnectionError) as caught:
        for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            received.append(chunk)
    # The SDK wraps httpx2's RemoteProtocolError (incomplete chunked read) in APIConnectionError.
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    assert len(received) == 2
    assert received[0].choices[0].delta.role == "assistant"
    assert received[1].choices[0].delta.content == "one "
    # The client recovers on a fresh connection.
    after = client.chat.completions.create(model="m", messages=MESSAGES)
    assert after.choices[0].message.content == "echo: hello there"


def test_drop_of_a_json_body_is_a_connection_error(server: FakeOpenAI, client: OpenAI) -> None:
    server.enqueue(Reply.drop_mid_stream())
    with pytest.raises(openai.APIConnectionError) as caught:
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)


def test_error_event_mid_stream(server: FakeOpenAI, client: OpenAI) -> None:
    server.enqueue(Reply.stream_error(after_chunks=2, message="overloaded mid-stream"))
    received = []
    with pytest.raises(openai.APIError, match="overloaded mid-stream"):
        for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            received.append(chunk)
    assert len(received) == 2


def test_bad_json_raises_json_decode_error(server: FakeOpenAI) -> None:
    server.enqueue(Reply.bad_json())
    with (
        OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=2) as sdk,
        pytest.raises(json.JSONDecodeError),
    ):
        # Not wrapped by the SDK (not an openai.APIError), and not retried.
        sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert len(server.chat_requests) == 1

    server.enqueue(Reply.bad_json())
    with (
        OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0) as sdk,
        pytest.raises(json.JSONDecodeError),
    ):
        for _ in sdk.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            pass


# --------------------------------------------------------------------------------------------------
# Tool calls, models, latency
# --------------------------------------------------------------------------------------------------


def test_tool_call_non_streaming(server: FakeOpenAI, client: OpenAI) -> None:
    arguments = json.dumps({"city": "Paris", "unit": "celsius"})
    server.enqueue(Reply.tool_call("get_weather", arguments))
    completion = client.chat.completions.create(model="m", messages=MESSAGES)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.type == "function"
    assert call.id == "call_fake_000001"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
    assert completion.usage is not None
    assert completion.usage.completion_tokens == count_words(arguments)


def test_tool_call_streaming(server: FakeOpenAI, client: OpenAI) -> None:
    arguments = json.dumps({"query": "fine-tuning costs", "limit": 3})
    server.enqueue(Reply.tool_call("search", arguments, call_id="call_abc"))
    names: list[str] = []
    pieces: list[str] = []
    finish: list[str | None] = []
    ids: list[str] = []
    for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
        choice = chunk.choices[0]
        finish.append(choice.finish_reason)
        for call in choice.delta.tool_calls or []:
            assert call.index == 0
            if call.id:
                ids.append(call.id)
            if call.function and call.function.name:
                names.append(call.function.name)
            if call.function and call.function.arguments:
                pieces.append(call.function.arguments)
    assert ids == ["call_abc"]
    assert names == ["search"]
    assert len(pieces) > 1
    assert json.loads("".join(pieces)) == {"query": "fine-tuning costs", "limit": 3}
    assert finish[-1] == "tool_calls"
    assert set(finish[:-1]) == {None}


def test_models_list_and_retrieve(server: FakeOpenAI, client: OpenAI) -> None:
    server.models = ["gpt-4o-mini", "ft:gpt-4o-mini-2024-07-18:acme::xyz"]
    ids = [model.id for model in client.models.list()]
    assert ids == ["gpt-4o-mini", "ft:gpt-4o-mini-2024-07-18:acme::xyz"]
    model = client.models.retrieve("ft:gpt-4o-mini-2024-07-18:acme::xyz")
    assert model.owned_by == "organization-owner"
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("nope")
    assert caught.value.code == "model_not_found"
    assert [r.method for r in server.requests] == ["GET", "GET", "GET"]
    assert server.chat_requests == []


def test_unknown_path_is_404(server: FakeOpenAI) -> None:
    response = httpx2.post(f"{server.base_url}/embeddings", json={"input": "x"})
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_latency_and_delay(server: FakeOpenAI, client: OpenAI) -> None:
    client.chat.completions.create(model="m", messages=MESSAGES)  # warm up
    server.latency = 0.2
    start = time.perf_counter()
    client.chat.completions.create(model="m", messages=MESSAGES)
    assert 0.2 <= time.perf_counter() - start < 0.2 + _SLACK

    server.latency = 0.0
    server.enqueue(Reply.text("late", delay=0.15))
    start = time.perf_counter()
    completion = client.chat.completions.create(model="m", messages=MESSAGES)
    assert 0.15 <= time.perf_counter() - start < 0.15 + _SLACK
    assert completion.choices[0].message.content == "late"


def test_requests_are_fast_on_keep_alive(server: FakeOpenAI) -> None:
    body = {"model": "m", "messages": MESSAGES}
    durations = []
    with httpx2.Client(base_url=server.base_url) as http:
        for _ in range(21):
            start = time.perf_counter()
            assert http.post("/chat/completions", json=body).status_code == 200
            durations.append(time.perf_counter() - start)
    # ~1-3 ms a request on an idle machine (a stdlib server without TCP_NODELAY and with split
    # writes takes ~45 ms). The best case is asserted: the median suffers on a loaded machine.
    assert min(durations) < 0.02
    assert [r.seq for r in server.requests] == list(range(1, 22))
    assert len({r.peer for r in server.requests}) == 1  # one kept-alive connection


# --------------------------------------------------------------------------------------------------
# Async client
# --------------------------------------------------------------------------------------------------


async def test_async_streaming_and_concurrency(server: FakeOpenAI) -> None:
    async with AsyncOpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0) as sdk:
        stream = await sdk.chat.completions.create(
            model="m",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
            "echo: hello there"
        )
        assert chunks[-1].choices == []
        assert chunks[-1].usage is not None
        assert chunks[-1].usage.total_tokens == 8

        server.latency = 0.3
        start = time.perf_counter()
        results = await asyncio.gather(
            *(
                sdk.chat.completions.create(
                    model="m",
                    messages=[{"role": "user", "content": f"n{i}"}],
                )
                for i in range(8)
            )
        )
        # Served concurrently: 8 requests with 300 ms latency take ~0.3 s, not 2.4 s.
        assert time.perf_counter() - start < 0.3 + _SLACK
    assert sorted(r.choices[0].message.content or "" for r in results) == [
        f"echo: n{i}" for i in range(8)
    ]
    assert len(server.chat_requests) == 9


async def test_async_drop_mid_stream(server: FakeOpenAI) -> None:
    server.enqueue(Reply.drop_mid_stream(after_chunks=3))
    received = []
    async with AsyncOpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0) as sdk:
        stream = await sdk.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APIConnectionError):
            async for chunk in stream:
                received.append(chunk)
    assert len(received) == 3


# --------------------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------------------


def test_server_stops_cleanly_and_closes_port() -> None:
    with FakeOpenAI() as server:
        port = server.port
        assert server.base_url == f"http://127.0.0.1:{port}/v1"
        assert _port_open(port)
        with OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0) as sdk:
            sdk.models.list()  # leaves a kept-alive connection open while we stop
            start = time.perf_counter()
            server.stop()
            assert time.perf_counter() - start < _SLACK
            assert not server.running
            assert not _port_open(port)
    assert server.errors == []


def test_stop_interrupts_a_hanging_request() -> None:
    errors: list[BaseException] = []
    server = FakeOpenAI().start()
    server.enqueue(Reply.hang(30))

    def call() -> None:
        with OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0, timeout=5) as sdk:
            try:
                sdk.chat.completions.create(model="m", messages=MESSAGES)
            except openai.APIError as exc:
                errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    assert server.wait_for_requests(1, timeout=2)
    start = time.perf_counter()
    server.stop()
    thread.join(2)
    assert time.perf_counter() - start < _SLACK  # not the 30 s hang, nor the 2 s join timeout
    assert not thread.is_alive()
    assert len(errors) == 1
    assert isinstance(errors[0], openai.APIConnectionError)


def test_fake_openai_server_generator() -> None:
    generator = fake_openai_server(models=["only-model"])
    server = next(generator)
    try:
        with server.openai_client(max_retries=0) as sdk:
            assert [m.id for m in sdk.models.list()] == ["only-model"]
    finally:
        generator.close()
    assert not server.running
    assert not _port_open(server.port)
