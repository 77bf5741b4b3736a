"""The pre-flight estimate a call reserves: exact input tokens, output bounded by max_tokens
or taken from the model's history, priced like the log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from core.budgets.estimate import DEFAULT_OUTPUT_TOKENS, preflight
from core.params import build_request
from core.prices import price_of
from core.settings import ModelPrice, Profile
from core.tokens import count_messages
from storage.records import Usage
from storage.store import Store
from tests.support.spend import log_call

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
PRICED = Profile(
    base_url="https://api.example.test/v1",
    prices={"gpt-4o-mini": ModelPrice(input=Decimal(1), output=Decimal(4))},
)
MESSAGES = [{"role": "user", "content": "Name three rivers in France"}]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "estimate.db")
    yield opened
    opened.close()


def test_max_tokens_bounds_the_output_and_the_input_is_counted_exactly(store: Store) -> None:
    request = build_request("gpt-4o-mini", MESSAGES, max_tokens=500)
    estimate = preflight(request, PRICED, store)
    prompt = count_messages(MESSAGES, "gpt-4o-mini").tokens
    assert (estimate.prompt_tokens, estimate.output_tokens) == (prompt, 500)
    assert estimate.output_from == "max_tokens"
    assert estimate.cost_usd == (prompt * 1 + 500 * 4) / Decimal(1_000_000)
    assert estimate.cost_usd == price_of("gpt-4o-mini", Usage(prompt, 500), PRICED)


def test_without_max_tokens_the_output_comes_from_the_models_history(store: Store) -> None:
    request = build_request("gpt-4o-mini", MESSAGES)
    assert preflight(request, PRICED, store).output_tokens == DEFAULT_OUTPUT_TOKENS
    for tokens in range(1, 101):
        log_call(store, NOW, 0.001, completion_tokens=tokens)
    log_call(store, NOW, 0.0, completion_tokens=5000, cache_hit=True)  # not a generation
    log_call(store, NOW, 0.0, completion_tokens=9000, model="gpt-4.1")  # another model
    estimate = preflight(request, PRICED, store)
    assert (estimate.output_tokens, estimate.output_from) == (95, "history")


def test_local_endpoints_cost_nothing_and_unknown_models_are_unknown(store: Store) -> None:
    local = Profile(base_url="http://127.0.0.1:8000/v1", local=True)
    assert preflight(build_request("llama", MESSAGES), local, store).cost_usd == 0
    unknown = preflight(build_request("no-such-model-xyz", MESSAGES), PRICED, store)
    assert unknown.cost_usd is None
