"""The chat client against a real local HTTP server, through the real openai SDK."""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage as GenaiUsage
from genai_prices import calc_price

from core.client import ChatClient
from core.errors import ConfigError, RequestFailed
from core.params import build_request
from core.results import CallOptions
from core.settings import load_settings
from core.tokens import count_messages, count_text
from storage.records import CallFilter
from storage.store import Store
from tests.conftest import TEST_KEY, fake_profile_toml, write_config
from tests.support.fake_openai import FakeOpenAI, Reply

FAST = {"retry-after-ms": "1"}


def ask(text: str = "hello there", **params: Any) -> Any:
    return build_request("gpt-4o-mini", [{"role": "user", "content": text}], **params)


def test_non_streaming_call_is_logged_with_usage_and_price(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    fake.enqueue(
        Reply.text(
            "Paris.",
            prompt_tokens=1200,
            completion_tokens=30,
            cached_tokens=200,
            reasoning_tokens=7,
        )
    )
    result = client.complete(ask("capital of France?", temperature=0.3, seed=None))
    expected = calc_price(
        GenaiUsage(input_tokens=1200, output_tokens=30, cache_read_tokens=200),
        "gpt-4o-mini",
        provider_id="openai",
    ).total_price
    assert result.text == "Paris."
    assert result.cost_usd == Decimal(expected)
    row = store.calls.get(result.call_id)
    assert row is not None and row.status == "ok"
    assert row.outcome.usage.cached_tokens == 200
    assert row.outcome.usage.reasoning_tokens == 7
    assert row.outcome.cost_usd == pytest.approx(float(expected))
    assert row.start.params == {"temperature": 0.3}
    assert row.outcome.latency_ms is not None and row.outcome.latency_ms > 0
    assert fake.chat_requests[0].json["temperature"] == 0.3


def test_stream_asks_for_usage_and_records_time_to_first_token(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    pieces: list[str] = []
    result = client.complete(
        ask("one two three"), options=CallOptions(stream=True, on_text=pieces.append)
    )
    assert fake.chat_requests[0].json["stream_options"] == {"include_usage": True}
    assert len(pieces) > 1 and "".join(pieces) == result.text
    assert result.ttft_ms is not None and result.ttft_ms <= result.latency_ms
    assert not result.usage.estimated
    logged = store.calls.get(result.call_id)
    assert logged is not None and logged.outcome.response_text == result.text


@pytest.mark.parametrize("stream", [False, True])
def test_missing_usage_is_counted_with_tiktoken_and_marked_estimated(
    client: ChatClient, fake: FakeOpenAI, store: Store, stream: bool
) -> None:
    fake.enqueue(Reply.text("The answer is 42.", usage=False))
    request = ask("what is six times seven?")
    result = client.complete(request, options=CallOptions(stream=stream))
    assert result.usage.estimated
    assert (
        result.usage.prompt_tokens == count_messages(request.api_messages(), "gpt-4o-mini").tokens
    )
    assert result.usage.completion_tokens == count_text("The answer is 42.", "gpt-4o-mini").tokens
    logged = store.calls.get(result.call_id)
    assert logged is not None and logged.outcome.usage.estimated


def test_rate_limit_is_retried_after_retry_after_and_counted(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    fake.enqueue(Reply.rate_limited(retry_after_ms=1))
    fake.enqueue(Reply.text("ok"))
    result = client.complete(ask())
    assert result.text == "ok"
    assert result.retries == 1
    assert len(fake.chat_requests) == 2
    logged = store.calls.get(result.call_id)
    assert logged is not None and logged.outcome.retries == 1


def test_server_errors_are_retried_a_bounded_number_of_times_then_logged(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    for status in (500, 502, 503, 503):
        fake.enqueue(Reply.error(status, "upstream broke", headers=FAST))
    with pytest.raises(RequestFailed) as failure:
        client.complete(ask())
    assert len(fake.chat_requests) == 3  # max_retries = 2 in the profile
    assert failure.value.retries == 2
    assert "HTTP 503" in str(failure.value)
    logged = store.calls.get(failure.value.call_id)
    assert logged is not None and logged.status == "error"
    assert logged.outcome.error_type == "InternalServerError"
    assert logged.outcome.retries == 2


def test_a_read_timeout_is_logged_as_an_error(
    home: Any, fake: FakeOpenAI, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.settings import load_settings
    from tests.conftest import fake_profile_toml, write_config

    write_config(home, fake_profile_toml(fake.base_url, max_retries=0, timeout=0.3))
    client = ChatClient(load_settings(), store)
    fake.enqueue(Reply.hang(2.0))
    with pytest.raises(RequestFailed) as failure:
        client.complete(ask())
    assert failure.value.error_type == "APITimeoutError"
    logged = store.calls.get(failure.value.call_id)
    assert logged is not None and logged.status == "error"
    client.close()


def test_a_stream_cut_mid_answer_keeps_the_partial_text_marked_incomplete(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    fake.enqueue(Reply.drop_mid_stream(after_chunks=3, text="alpha beta gamma delta epsilon"))
    with pytest.raises(RequestFailed) as failure:
        client.complete(ask(temperature=0), options=CallOptions(stream=True))
    logged = store.calls.get(failure.value.call_id)
    assert logged is not None and logged.status == "incomplete"
    assert logged.outcome.response_text and "alpha".startswith(logged.outcome.response_text[:5])
    assert logged.outcome.usage.estimated
    assert store.cache.stats("9999").entries == 0  # an incomplete answer is never cached


def test_invalid_json_from_the_server_is_an_error(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    fake.enqueue(Reply.bad_json())
    with pytest.raises(RequestFailed) as failure:
        client.complete(ask())
    assert "not valid JSON" in str(failure.value) or "bad answer" in str(failure.value)
    logged = store.calls.get(failure.value.call_id)
    assert logged is not None and logged.status == "error"


def test_the_api_key_reaches_neither_the_database_nor_the_error(
    client: ChatClient, fake: FakeOpenAI, settings: Any, store: Store
) -> None:
    fake.enqueue(Reply.error(401, f"Incorrect API key provided: {TEST_KEY}.", error_type="auth"))
    fake.enqueue(Reply.invalid_api_key())
    for _ in range(2):
        with pytest.raises(RequestFailed) as failure:
            client.complete(ask())
        assert TEST_KEY not in str(failure.value)
        assert "sk-" not in str(failure.value)
    assert fake.chat_requests[0].headers["authorization"] == f"Bearer {TEST_KEY}"
    client.complete(ask("fine now", temperature=0))
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in settings.home.iterdir():
        assert TEST_KEY.encode() not in path.read_bytes(), path.name
        assert TEST_KEY[8:20].encode() not in path.read_bytes(), path.name


def test_a_password_in_the_endpoint_url_is_sent_but_never_stored_or_shown(
    fake: FakeOpenAI, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_API_KEY", TEST_KEY)
    url = fake.base_url.replace("http://", "http://bob:hunter-22@")
    write_config(home, fake_profile_toml(url, max_retries=0))
    settings = load_settings()
    store = Store.open(settings.database_path)
    client = ChatClient(settings, store)
    answered = client.complete(ask("cache me", temperature=0))
    asyncio.run(client.acomplete(ask("async too")))  # aiohttp refused such a URL
    fake.enqueue(Reply.error(500, "boom"))
    with pytest.raises(RequestFailed) as failure:
        client.complete(ask("fails"))
    entry = store.cache.get(answered.cache_key or "")
    endpoints = [row[0] for row in store.db.conn.execute("SELECT endpoint FROM calls")]
    client.close()
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    assert entry is not None
    sent = [request.headers["authorization"] for request in fake.chat_requests]
    assert sent[:2] == ["Basic Ym9iOmh1bnRlci0yMg=="] * 2  # bob:hunter-22, as httpx2 sends it
    shown = url.replace("hunter-22", "***")
    assert str(failure.value).startswith(f"HTTP 500 from {shown}:")
    assert endpoints == [shown] * 3
    assert entry.components["endpoint"] == shown
    for path in home.iterdir():
        if path.name != "config.toml":
            assert b"hunter-22" not in path.read_bytes(), path.name


def test_a_profile_whose_key_variable_is_unset_is_a_config_error(
    client: ChatClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAKE_API_KEY")
    with pytest.raises(ConfigError, match="FAKE_API_KEY"):
        client.complete(ask())


def test_tool_calls_are_assembled_from_a_stream(client: ChatClient, fake: FakeOpenAI) -> None:
    fake.enqueue(Reply.tool_call("get_weather", '{"city": "Paris", "unit": "celsius"}'))
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    result = client.complete(ask(tools=tools), options=CallOptions(stream=True))
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls is not None
    assert result.tool_calls[0]["function"]["name"] == "get_weather"
    assert result.tool_calls[0]["function"]["arguments"] == '{"city": "Paris", "unit": "celsius"}'


def test_a_whole_answers_tool_calls_are_those_a_stream_assembles(
    client: ChatClient, fake: FakeOpenAI
) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    arguments = '{"city": "Paris"}'
    fake.enqueue(Reply.tool_call("get_weather", arguments, call_id="call_1"))
    fake.enqueue(Reply.tool_call("get_weather", arguments, call_id="call_1"))
    whole = client.complete(ask(tools=tools), options=CallOptions(cache="off"))
    streamed = client.complete(ask(tools=tools), options=CallOptions(stream=True, cache="off"))
    assert (
        whole.tool_calls
        == streamed.tool_calls
        == [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": arguments},
            }
        ]
    )
    assert (whole.text, whole.finish_reason) == ("", "tool_calls")


def test_extra_params_reach_the_server(client: ChatClient, fake: FakeOpenAI) -> None:
    client.complete(ask(extra={"top_k": 20, "repetition_penalty": 1.1}, seed=7, stop="END"))
    body = fake.chat_requests[0].json
    assert body["top_k"] == 20 and body["repetition_penalty"] == 1.1
    assert body["seed"] == 7 and body["stop"] == ["END"]


def test_async_stream_and_cancellation_leave_an_incomplete_row(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    fake.enqueue(Reply.text("one two three four five six seven", chunk_delay=0.2))
    seen: list[str] = []

    async def scenario() -> None:
        task = asyncio.create_task(
            client.acomplete(ask(), options=CallOptions(stream=True, on_text=seen.append))
        )
        while not seen:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    last = store.calls.find(__import__("storage.records").records.CallFilter(limit=1))[0]
    assert last.status == "cancelled"  # the user's doing: not an error, not a cut stream
    assert last.outcome.error_type == "CancelledError"
    assert last.outcome.response_text == "".join(seen)
    assert last.outcome.usage.completion_tokens > 0  # what was received was paid for
    cut = store.db.execute("SELECT incomplete FROM calls WHERE id = ?", [last.id]).fetchone()
    assert cut == (1,)
    (usage,) = store.calls.usage(None)  # the rollup a monitor's error rate reads
    assert (usage.calls, usage.errors) == (1, 0)


def test_async_and_sync_calls_share_the_cache(client: ChatClient, fake: FakeOpenAI) -> None:
    first = asyncio.run(client.acomplete(ask(temperature=0), options=CallOptions(stream=True)))
    second = client.complete(ask(temperature=0))
    assert not first.cache_hit and second.cache_hit
    assert second.text == first.text
    assert len(fake.chat_requests) == 1


def test_models_are_listed_from_the_endpoint(client: ChatClient, fake: FakeOpenAI) -> None:
    fake.models = ["b-model", "a-model"]
    assert client.list_models() == ["a-model", "b-model"]


def test_retry_after_in_seconds_is_honoured(client: ChatClient, fake: FakeOpenAI) -> None:
    fake.enqueue(Reply.error(429, "slow down", headers={"retry-after": "1"}))
    client.complete(ask())
    first, second = fake.chat_requests
    assert second.at - first.at >= 0.95


def test_a_stream_saves_its_text_so_far_off_the_callers_thread(
    client: ChatClient, fake: FakeOpenAI, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = [f"w{i}" for i in range(14)]
    fake.enqueue(Reply.text(" ".join(words), chunk_delay=0.1))
    savers: list[str] = []
    save_partial = store.calls.save_partial

    def save_and_note(call_id: int, text: str) -> None:
        savers.append(threading.current_thread().name)
        save_partial(call_id, text)

    monkeypatch.setattr(store.calls, "save_partial", save_and_note)
    seen: list[str] = []
    logged_mid_stream: list[str] = []

    def on_text(piece: str) -> None:
        seen.append(piece)
        if len(seen) == len(words) - 1:  # the log, read while the answer is still streaming
            (row,) = store.calls.find(CallFilter(limit=1))
            logged_mid_stream.append(row.outcome.response_text)

    asyncio.run(client.acomplete(ask(), options=CallOptions(stream=True, on_text=on_text)))
    assert savers and all(name.startswith("tunedeck-partial-save") for name in savers)
    assert logged_mid_stream[0] and "".join(seen).startswith(logged_mid_stream[0])


def test_a_partial_save_still_running_does_not_overwrite_the_finished_call(
    client: ChatClient, fake: FakeOpenAI, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = [f"w{i}" for i in range(8)]
    fake.enqueue(Reply.text(" ".join(words), chunk_delay=0.1))
    save_partial = store.calls.save_partial

    def slow_save(call_id: int, text: str) -> None:  # still writing when the stream ends
        time.sleep(1.0)
        save_partial(call_id, text)

    monkeypatch.setattr(store.calls, "save_partial", slow_save)
    result = asyncio.run(client.acomplete(ask(), options=CallOptions(stream=True)))
    client.close()  # every save has landed
    final = store.calls.get(result.call_id)
    assert final is not None and final.status == "ok"
    assert final.outcome.response_text == " ".join(words)
