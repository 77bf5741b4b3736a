"""Prices of calls, offline: profile overrides, then genai-prices' bundled snapshot.

A local endpoint costs 0. A model with no known price has cost None ("unknown"), never a
silent 0.
"""

from __future__ import annotations

import functools
import warnings
from decimal import Decimal
from typing import Any

from core.settings import ModelPrice, Profile
from storage.records import Usage

_MILLION = Decimal(1_000_000)


def price_of(model: str, usage: Usage, profile: Profile) -> Decimal | None:
    """USD cost of a call with `usage` to `model` on `profile`, or None when unknown.

    Prompt tokens include the cached ones (as the OpenAI API reports them); cached tokens are
    charged at the cached-input price where there is one.
    """
    if profile.local:
        return Decimal(0)
    override = profile.price_override(model)
    if override is not None:
        return _priced(override, usage)
    return _genai_price(model, usage, profile.base_url)


def known_price(model: str, profile: Profile) -> bool:
    """Whether calls to `model` on `profile` can be priced."""
    return price_of(model, Usage(prompt_tokens=1), profile) is not None


def _priced(price: ModelPrice, usage: Usage) -> Decimal:
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    cached_price = price.input if price.cached_input is None else price.cached_input
    total = (
        (usage.prompt_tokens - cached) * price.input
        + cached * cached_price
        + usage.completion_tokens * price.output
    )
    return total / _MILLION


def _genai_price(model: str, usage: Usage, base_url: str) -> Decimal | None:
    calc_price, genai_usage = _genai()
    counts = {
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens,
        "cache_read_tokens": min(usage.cached_tokens, usage.prompt_tokens),
    }
    for where in ({"provider_api_url": base_url}, {}):
        try:
            result = calc_price(genai_usage(**counts), model, **where)
        except LookupError:
            continue
        return Decimal(result.total_price)
    return None


@functools.cache
def _genai() -> tuple[Any, Any]:
    # Imported on first use: genai-prices costs ~0.4 s to import.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from genai_prices import Usage as GenaiUsage
        from genai_prices import calc_price
    return calc_price, GenaiUsage
