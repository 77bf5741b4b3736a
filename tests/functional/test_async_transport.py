"""The async client (the console, evaluation runs) runs the SDK on aiohttp: every fault must be
retried, logged and described as the sync client (httpx2) does, and its connections closed
with the event loop that opened them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.client import ChatClient
from core.errors import RequestFailed
from core.params import ChatRequest, Message, RequestParams
from core.results import CallOptions, ChatResult
from core.settings import load_settings
from storage.store import Store
from tests.conftest import TEST_KEY, fake_profile_toml, write_config
from tests.support.fake_openai import FakeOpenAI, Reply

if TYPE_CHECKING:
    from openai import AsyncOpenAI

FAULTS: dict[str, tuple[list[Reply], bool]] = {
    "429 with retry-after, then an answer": ([Reply.rate_limited(), Reply.echo()], False),
    "500 every time": ([Reply.error(500), Reply.error(500)], False),
    "no answer in time": ([Reply.hang(2.0), Reply.hang(2.0)], False),
    "the server hangs up without answering": ([Reply.hang(0.05), Reply.hang(0.05)], False),
    "a body that is not JSON": ([Reply.bad_json()], False),
    "a stream cut in the middle": ([Reply.drop_mid_stream(after_chunks=2)], True),
}


@pytest.fixture
def short_client(
    home: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], ChatClient]:
    """Clients on a profile with one retry and a 0.5 s timeout, on one store."""
    monkeypatch.setenv("FAKE_API_KEY", TEST_KEY)
    write_config(home, fake_profile_toml(fake.base_url, max_retries=1, timeout=0.5))
    settings = load_settings()
    store = Store.open(settings.database_path)
    made: list[ChatClient] = []

    def make() -> ChatClient:
        made.append(ChatClient(settings, store))
        return made[-1]

    yield make
    for client in made:
        client.close()
    store.close()


def ask() -> ChatRequest:
    messages = [Message(role="user", content="hi there")]
    return ChatRequest(model="gpt-4o-mini", messages=messages, params=RequestParams(temperature=1))


def outcome(send: Callable[[], ChatResult]) -> tuple[str, int, str]:
    """(error type or "ok", retries, message) of one call."""
    try:
        result = send()
    except RequestFailed as failed:
        return failed.error_type or "", failed.retries, str(failed)
    return "ok", result.retries, result.text


@pytest.mark.parametrize("fault", list(FAULTS))
def test_the_async_client_fails_as_the_sync_client_does(
    fault: str, fake: FakeOpenAI, short_client: Callable[[], ChatClient]
) -> None:
    replies, stream = FAULTS[fault]
    options = CallOptions(stream=stream)
    fake.enqueue(*replies)
    sync = outcome(lambda: short_client().complete(ask(), options=options))
    fake.reset()
    fake.enqueue(*replies)
    client = short_client()
    in_async = outcome(lambda: asyncio.run(client.acomplete(ask(), options=options)))

    assert in_async[:2] == sync[:2]  # the same error type (or answer) and retries
    if fault == "the server hangs up without answering":
        # aiohttp's transport calls this a connect timeout; the log must not
        assert "failed: ServerDisconnectedError" in in_async[2]
    elif sync[0] != "APIConnectionError":  # the transports word a broken connection apart
        assert in_async[2] == sync[2]


def test_the_connections_close_with_the_loop_and_a_client_serves_the_next_loop(
    fake: FakeOpenAI, short_client: Callable[[], ChatClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = short_client()

    async def send() -> tuple[ChatResult, AsyncOpenAI]:
        return await client.acomplete(ask()), client.async_sdk("fake")

    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.ERROR):
        warnings.simplefilter("always")
        first, first_sdk = asyncio.run(send())
        second, second_sdk = asyncio.run(send())  # a new loop: a new SDK client
        first_closed, second_closed = first_sdk.is_closed(), second_sdk.is_closed()
        assert first_sdk is not second_sdk
        del first_sdk, second_sdk
        gc.collect()  # an unclosed aiohttp session complains when it is collected

    assert first.text == second.text == "echo: hi there"
    assert first_closed and second_closed
    # aiohttp's words for a session or connector collected open
    leaks = ("Unclosed client session", "Unclosed connector")
    assert not [w for w in caught if str(w.message).startswith(leaks)]
    assert not [r for r in caplog.records if r.getMessage().startswith(leaks)]


def test_aclose_closes_the_running_loops_connections_now(
    fake: FakeOpenAI, short_client: Callable[[], ChatClient]
) -> None:
    client = short_client()

    async def scenario() -> tuple[bool, bool]:
        await client.acomplete(ask())
        sdk = client.async_sdk("fake")
        await client.aclose()
        closed = sdk.is_closed()
        await client.acomplete(ask())  # opens a new one
        return closed, client.async_sdk("fake") is not sdk

    assert asyncio.run(scenario()) == (True, True)


REQUESTS = {
    "plain": (ask(), False),
    "every parameter": (
        ChatRequest(
            model="gpt-4o-mini",
            messages=[
                Message(role="system", content="Be brief."),
                Message(role="user", content="Weather in Paris?"),
            ],
            params=RequestParams(
                temperature=0,
                top_p=0.5,
                max_tokens=50,
                seed=7,
                stop=["\n\n"],
                presence_penalty=0.1,
                frequency_penalty=0.2,
                response_format={"type": "json_object"},
                tools=[
                    {
                        "type": "function",
                        "function": {"name": "weather", "parameters": {"type": "object"}},
                    }
                ],
                tool_choice="auto",
                extra={"top_k": 40, "repetition_penalty": 1.1},
            ),
        ),
        False,
    ),
    "streamed": (ask(), True),
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_the_client_sends_what_chat_completions_create_sends(
    name: str, fake: FakeOpenAI, short_client: Callable[[], ChatClient]
) -> None:
    """The client posts its JSON body through the SDK's `post` (core/sending.py): the server
    must see the very request `chat.completions.create` makes, sync and async."""
    request, stream = REQUESTS[name]
    client = short_client()
    client.complete(request, options=CallOptions(stream=stream, cache="off"))
    asyncio.run(client.acomplete(request, options=CallOptions(stream=stream, cache="off")))
    arguments = {"model": request.model, "messages": request.api_messages()}
    arguments |= request.params.as_api()
    if stream:
        arguments |= {"stream": True, "stream_options": {"include_usage": True}}
    sdk = client.sync_sdk("fake")
    answer = sdk.chat.completions.create(**arguments)
    if stream:
        list(answer)  # type: ignore[arg-type]

    ours_sync, ours_async, reference = fake.chat_requests[-3:]
    assert ours_sync.body == ours_async.body == reference.body
    for header in ("authorization", "content-type", "accept"):
        assert ours_sync.headers.get(header) == reference.headers.get(header)
        assert ours_async.headers.get(header) == reference.headers.get(header)


def closed_port() -> str:
    """The base URL of a port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@contextlib.contextmanager
def full_backlog() -> Iterator[str]:
    """The base URL of a port that accepts no more connections: a connect times out."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        waiting = [socket.socket() for _ in range(3)]  # fill the queue nobody accepts from
        for pending in waiting:
            pending.setblocking(False)
            pending.connect_ex(server.getsockname())
        try:
            yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
        finally:
            for pending in waiting:
                pending.close()


def both_outcomes(home: Path, base_url: str) -> tuple[tuple[str, int, str], ...]:
    """The outcome of one call to `base_url` by the sync and by the async client."""
    write_config(home, fake_profile_toml(base_url, max_retries=1, timeout=0.5))
    settings = load_settings()
    with contextlib.closing(Store.open(settings.database_path)) as store:
        client = ChatClient(settings, store)
        try:
            sync = outcome(lambda: client.complete(ask()))
            in_async = outcome(lambda: asyncio.run(client.acomplete(ask())))
        finally:
            client.close()
    return sync, in_async


@pytest.mark.parametrize(
    ("where", "words"),
    [
        (closed_port, "[Errno 111] Connection refused"),
        (lambda: "http://no-such-host.invalid/v1", "ConnectError: [Errno -"),  # RFC 6761: -2,
        # or -3 where no resolver answers: what the resolver says, on both paths alike
    ],
    ids=["closed port", "unknown host"],
)
def test_a_connection_that_cannot_be_made_is_named_not_called_a_timeout(
    where: Callable[[], str], words: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_API_KEY", TEST_KEY)
    base_url = where()
    sync, in_async = both_outcomes(home, base_url)

    assert in_async == sync  # error type, retries and words
    assert in_async[:2] == ("APIConnectionError", 1)
    assert f"connection to {base_url} failed: " in in_async[2]
    assert words in in_async[2]


def test_a_connect_that_times_out_is_still_a_timeout(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_API_KEY", TEST_KEY)
    with full_backlog() as base_url:
        sync, in_async = both_outcomes(home, base_url)

    assert in_async == sync == ("APITimeoutError", 1, f"no answer from {base_url} in time")
