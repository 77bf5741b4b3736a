"""The response cache hits and misses exactly when it should."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.client import ChatClient
from core.clock import iso
from core.errors import RequestFailed
from core.params import build_request
from core.results import CallOptions
from core.settings import Settings
from storage.store import Store
from tests.support.fake_openai import FakeOpenAI, Reply


def ask(text: str = "hello", **params: Any) -> Any:
    return build_request("gpt-4o-mini", [{"role": "user", "content": text}], **params)


def sent(fake: FakeOpenAI) -> int:
    return len(fake.chat_requests)


def test_a_deterministic_request_is_answered_from_the_cache_the_second_time(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    fake.enqueue(Reply.text("cached answer", prompt_tokens=100, completion_tokens=20))
    first = client.complete(ask(temperature=0))
    second = client.complete(ask(temperature=0), options=CallOptions(stream=True))
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert second.text == "cached answer" and sent(fake) == 1
    assert second.cost_usd == 0 and second.cost_saved_usd == first.cost_usd
    stats = store.cache.stats(iso(datetime.now(UTC)))
    assert (stats.entries, stats.lookups, stats.hits, stats.tokens_saved) == (1, 2, 1, 120)
    assert stats.hit_rate == 0.5
    assert stats.cost_saved_usd == pytest.approx(float(first.cost_usd or 0))
    entry = store.cache.get(first.cache_key)
    assert entry is not None and entry.hits == 1 and entry.last_hit_at is not None
    assert entry.components["params"]["temperature"] == 0.0
    assert entry.components["endpoint"] == fake.base_url


def test_a_seed_makes_a_request_deterministic(client: ChatClient, fake: FakeOpenAI) -> None:
    client.complete(ask(temperature=0.9, seed=3))
    assert client.complete(ask(temperature=0.9, seed=3)).cache_hit
    assert not client.complete(ask(temperature=0.9, seed=4)).cache_hit


def test_a_sampled_request_is_not_cached_unless_the_user_opts_in(
    client: ChatClient, fake: FakeOpenAI
) -> None:
    client.complete(ask(temperature=0.7))
    assert not client.complete(ask(temperature=0.7)).cache_hit
    assert not client.complete(ask()).cache_hit  # no temperature: the server's default samples
    opt_in = CallOptions(cache_nondeterministic=True)
    client.complete(ask(temperature=0.7), options=opt_in)
    assert client.complete(ask(temperature=0.7), options=opt_in).cache_hit
    assert sent(fake) == 4


def test_nondeterministic_caching_can_be_switched_on_in_settings(
    settings: Settings, store: Store, fake: FakeOpenAI
) -> None:
    client = ChatClient(
        settings.model_copy(
            update={"cache": settings.cache.model_copy(update={"nondeterministic": True})}
        ),
        store,
    )
    client.complete(ask(temperature=1.0))
    assert client.complete(ask(temperature=1.0)).cache_hit
    client.close()


def test_no_cache_neither_reads_nor_writes(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    client.complete(ask(temperature=0), options=CallOptions(cache="off"))
    assert store.cache.stats("0").entries == 0
    client.complete(ask(temperature=0))
    assert not client.complete(ask(temperature=0), options=CallOptions(cache="off")).cache_hit
    assert sent(fake) == 3


def test_refresh_asks_again_and_replaces_the_entry(client: ChatClient, fake: FakeOpenAI) -> None:
    fake.enqueue(Reply.text("old"))
    fake.enqueue(Reply.text("new"))
    client.complete(ask(temperature=0))
    refreshed = client.complete(ask(temperature=0), options=CallOptions(cache="refresh"))
    assert not refreshed.cache_hit and refreshed.text == "new"
    assert client.complete(ask(temperature=0)).text == "new"
    assert sent(fake) == 2


def test_entries_expire_after_their_ttl(settings: Settings, store: Store, fake: FakeOpenAI) -> None:
    now = [datetime(2026, 11, 28, 12, 0, tzinfo=UTC)]
    ttl = settings.cache.ttl_seconds or 0
    client = ChatClient(settings, store, clock=lambda: now[0])
    client.complete(ask(temperature=0))
    now[0] += timedelta(seconds=ttl - 1)
    assert client.complete(ask(temperature=0)).cache_hit
    now[0] += timedelta(seconds=2)
    assert not client.complete(ask(temperature=0)).cache_hit
    assert sent(fake) == 2
    client.close()


def test_errors_are_never_cached(client: ChatClient, fake: FakeOpenAI, store: Store) -> None:
    fake.enqueue(Reply.error(400, "bad request"))
    with pytest.raises(RequestFailed):
        client.complete(ask(temperature=0))
    assert store.cache.stats("0").entries == 0
    assert not client.complete(ask(temperature=0)).cache_hit


def test_a_stream_without_a_finish_is_not_cached(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    fake.enqueue(Reply.stream_error(after_chunks=2))
    with pytest.raises(RequestFailed):
        client.complete(ask(temperature=0), options=CallOptions(stream=True))
    assert store.cache.stats("0").entries == 0


def test_a_change_of_endpoint_model_or_message_misses(client: ChatClient, fake: FakeOpenAI) -> None:
    client.complete(ask("a", temperature=0))
    assert not client.complete(ask("b", temperature=0)).cache_hit
    other_model = build_request("gpt-4.1", [{"role": "user", "content": "a"}], temperature=0)
    assert not client.complete(other_model).cache_hit
    assert not client.complete(ask("a", temperature=0, max_tokens=5)).cache_hit
    assert sent(fake) == 4


def test_cache_entries_can_be_listed_deleted_and_cleared(client: ChatClient, store: Store) -> None:
    keys = [client.complete(ask(f"prompt {i}", temperature=0)).cache_key for i in range(3)]
    page = store.cache.browse(2)
    assert len(page) == 2 and page[0].key == keys[2]
    after = (page[1].created_at, page[1].key)
    assert [e.key for e in store.cache.browse(5, after=after)] == [keys[0]]
    assert [e.key for e in store.cache.browse(5, before=after)] == [keys[2]]
    assert [e.key for e in store.cache.browse(search="prompt 1")] == [keys[1]]
    assert store.cache.browse(search="prompt_") == []  # LIKE's wildcards are literal
    assert store.cache.delete(keys[1][:10]) == 1
    assert store.cache.get(keys[1]) is None
    assert store.cache.clear(expired_before="2000-01-01") == 0
    assert store.cache.clear() == 2
