"""Token statistics (exact order statistics), histogram, outliers, epochs and cost."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from core.data.stats import (
    default_epochs,
    estimate_cost,
    histogram,
    outliers,
    token_stats,
)


@given(st.lists(st.integers(0, 2**31), min_size=1, max_size=300))
def test_percentiles_are_true_nearest_rank_order_statistics(values: list[int]) -> None:
    stats = token_stats(np.array(values, dtype=np.uint32))
    ordered = sorted(values)
    assert stats is not None
    assert (stats.min, stats.max, stats.total) == (ordered[0], ordered[-1], sum(values))
    assert stats.p5 == ordered[math.ceil(0.05 * len(values)) - 1]
    assert stats.p95 == ordered[math.ceil(0.95 * len(values)) - 1]
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    assert stats.median == median
    assert stats.mean == sum(values) / len(values)


def test_no_examples_have_no_statistics() -> None:
    assert token_stats(np.empty(0, dtype=np.uint32)) is None
    assert histogram(np.empty(0, dtype=np.uint32)) == []


@given(st.lists(st.integers(0, 100_000), min_size=1, max_size=200))
def test_histogram_bins_are_powers_of_two_and_count_everything(values: list[int]) -> None:
    bins = histogram(np.array(values, dtype=np.uint32))
    assert sum(b.count for b in bins) == len(values)
    assert all(b.low < b.high for b in bins)
    assert all(a.high == b.low for a, b in itertools.pairwise(bins))
    assert bins[0].low <= min(values) and max(values) < bins[-1].high


def test_outliers_are_far_from_the_median_on_a_log_scale() -> None:
    rng = np.random.default_rng(0)
    tokens = rng.integers(80, 160, 200).astype(np.uint32)
    tokens[5], tokens[9] = 4, 9000
    short, long, median = outliers(tokens)
    assert (short, long) == ([5], [9])
    assert 80 <= median <= 160
    assert outliers(tokens[:10]) == ([], [], float(np.median(tokens[:10])))  # too few to judge


def test_epochs_follow_the_common_heuristic() -> None:
    assert [default_epochs(n) for n in (1, 10, 33, 34, 100, 8333, 8334, 12_500, 30_000)] == [
        25,
        10,
        3,
        3,
        3,
        3,
        2,
        2,
        1,
    ]


def test_billed_tokens_are_capped_at_the_context_and_priced_only_when_known() -> None:
    tokens = np.array([100, 5000, 300], dtype=np.uint32)
    unknown = estimate_cost(tokens, 1000, None)
    assert (unknown.epochs, unknown.billed_tokens, unknown.cost_usd) == (25, 25 * 1400, None)
    priced = estimate_cost(tokens, None, Decimal("3.00"), epochs=2)
    assert priced.billed_tokens == 2 * 5400
    assert priced.cost_usd == Decimal("3.00") * 10_800 / 1_000_000
