"""Prices come from genai-prices offline; local is free; overrides win; unknown is None."""

from __future__ import annotations

from decimal import Decimal

import pytest
from genai_prices import Usage as GenaiUsage
from genai_prices import calc_price

from core.prices import known_price, price_of
from core.settings import ModelPrice, Profile
from storage.records import Usage

OPENAI = Profile(base_url="https://api.openai.com/v1")


@pytest.mark.parametrize(
    "model", ["gpt-4o-mini", "gpt-4.1", "gpt-4o", "ft:gpt-4o-mini-2024-07-18:acme::abc123"]
)
def test_openai_prices_equal_genai_prices_including_cached_input(model: str) -> None:
    usage = Usage(prompt_tokens=12_000, completion_tokens=3_000, cached_tokens=4_000)
    expected = calc_price(
        GenaiUsage(input_tokens=12_000, output_tokens=3_000, cache_read_tokens=4_000),
        model,
        provider_id="openai",
    ).total_price
    assert price_of(model, usage, OPENAI) == expected


def test_cached_input_tokens_are_charged_less() -> None:
    uncached = Usage(prompt_tokens=10_000, completion_tokens=0)
    cached = Usage(prompt_tokens=10_000, completion_tokens=0, cached_tokens=8_000)
    full, cheaper = (
        price_of("gpt-4o-mini", uncached, OPENAI),
        price_of("gpt-4o-mini", cached, OPENAI),
    )
    assert full is not None and cheaper is not None and cheaper < full


def test_fine_tuned_models_have_their_own_price() -> None:
    million = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000)
    assert price_of("ft:gpt-4o-mini-2024-07-18:acme::abc", million, OPENAI) == Decimal("1.5")


def test_local_endpoints_cost_nothing() -> None:
    local = Profile(base_url="http://127.0.0.1:8000/v1", local=True)
    assert price_of("gpt-4o", Usage(prompt_tokens=10**6), local) == 0


def test_unknown_models_are_unknown_not_free() -> None:
    vllm = Profile(base_url="http://127.0.0.1:8000/v1")
    assert price_of("my-own-llama-7b", Usage(prompt_tokens=100), vllm) is None
    assert not known_price("my-own-llama-7b", vllm)


def test_profile_overrides_win_exact_name_first_then_glob() -> None:
    profile = Profile(
        base_url="https://api.openai.com/v1",
        prices={
            "ft:*": ModelPrice(input=Decimal(1), output=Decimal(2)),
            "gpt-4o-mini": ModelPrice(
                input=Decimal(10), output=Decimal(20), cached_input=Decimal(5)
            ),
        },
    )
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000, cached_tokens=500_000)
    assert price_of("gpt-4o-mini", usage, profile) == Decimal(
        "27.5"
    )  # 0.5M x 10 + 0.5M x 5 (cached) + 1M x 20
    assert price_of("ft:anything", usage, profile) == Decimal(3)
