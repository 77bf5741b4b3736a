"""The training contexts table and the training price (unknown while genai-prices has none)."""

from __future__ import annotations

from core.data.contexts import base_model, training_context, training_price_per_million


def test_fine_tuned_and_undated_names_map_to_their_base_model() -> None:
    assert base_model("ft:gpt-4o-mini-2024-07-18:acme::abc123") == "gpt-4o-mini-2024-07-18"
    assert base_model("gpt-4o-mini") == "gpt-4o-mini-2024-07-18"
    assert training_context("ft:gpt-3.5-turbo-0613:acme::x") == 4_096
    assert training_context("gpt-3.5-turbo") == 16_385
    assert training_context("gpt-4.1") == 65_536
    assert training_context("llama-3-8b") is None


def test_the_training_price_is_unknown_without_a_training_unit_in_genai_prices() -> None:
    from genai_prices.data_units import unit_data

    assert not any("train" in unit for unit in unit_data)  # so no price can be found there
    assert training_price_per_million("gpt-4o-mini") is None
