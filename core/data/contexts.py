"""Training context of the fine-tunable OpenAI models, and their training price when known.

A training example longer than its model's training context is truncated by the trainer.
Sources (checked 2025): OpenAI's fine-tuning guide and data-preparation cookbook
(Chat_finetuning_data_prep.ipynb: 16,385 tokens for gpt-3.5-turbo-1106/0125, 4,096 for
gpt-3.5-turbo-0613) and the Azure OpenAI fine-tuning model table
(MicrosoftDocs/azure-ai-docs, includes/fine-tune-models.md: "Training example context length:
65,536" for gpt-4o-mini-2024-07-18, gpt-4o-2024-08-06 and gpt-4.1-2025-04-14). A model not
listed has an unknown context: pass `max_tokens` (`--max-tokens`).
"""

from __future__ import annotations

import functools
import warnings
from decimal import Decimal
from typing import Any

TRAINING_CONTEXTS: dict[str, int] = {
    "gpt-4.1-2025-04-14": 65_536,
    "gpt-4o-2024-08-06": 65_536,
    "gpt-4o-mini-2024-07-18": 65_536,
    "gpt-3.5-turbo-0125": 16_385,
    "gpt-3.5-turbo-1106": 16_385,
    "gpt-3.5-turbo-0613": 4_096,
}
# Undated names fine-tune the snapshot OpenAI documents as their default.
_ALIASES = {
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
}
_TRAINING_UNIT = "training_tokens"  # the usage key a training price would be given under


def base_model(model: str) -> str:
    """The model a name fine-tunes: `ft:gpt-4o-mini-2024-07-18:org::id` -> its base."""
    if model.startswith("ft:"):
        model = model[3:].split(":", 1)[0]
    return _ALIASES.get(model, model)


def training_context(model: str) -> int | None:
    """Most tokens an example of `model` may have in training, or None when not known."""
    return TRAINING_CONTEXTS.get(base_model(model))


def training_price_per_million(model: str) -> Decimal | None:
    """USD per million trained tokens for `model` from genai-prices, or None when unknown.

    genai-prices 0.2 prices inference only (no training unit in its registry), so this is
    None today: a cost is then shown as unknown, never guessed.
    """
    calc_price, usage, units = _genai()
    if _TRAINING_UNIT not in units:
        return None
    try:
        result = calc_price(usage(**{_TRAINING_UNIT: 1_000_000}), base_model(model))
    except (LookupError, TypeError, ValueError):
        return None
    return Decimal(result.total_price)


@functools.cache
def _genai() -> tuple[Any, Any, Any]:
    with warnings.catch_warnings():  # imported on first use: ~0.4 s
        warnings.simplefilter("ignore")
        from genai_prices import Usage, calc_price
        from genai_prices.data_units import unit_data
    return calc_price, Usage, unit_data
