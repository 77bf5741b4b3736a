"""Statistics of a dataset's token counts: exact percentiles, a histogram, outliers, and the
estimated cost of training on it.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

# The epoch heuristic of OpenAI's fine-tuning (as in its data-preparation cookbook): 3 epochs,
# adjusted so that epochs x examples lands in [100, 25,000], and kept within [1, 25].
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES = 100, 25_000
MIN_EPOCHS, MAX_EPOCHS = 1, 25
# Modified z-score (Iglewicz and Hoaglin) of log token counts above which an example is an
# outlier; on a log scale, so "3x the typical length" and "a third of it" weigh the same.
OUTLIER_Z = 3.5
MIN_EXAMPLES_FOR_OUTLIERS = 20
_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class TokenStats:
    """Tokens per example: exact order statistics (p5/p95 by the nearest-rank method)."""

    count: int
    total: int
    min: int
    max: int
    mean: float
    median: float
    p5: int
    p95: int


@dataclass(frozen=True, slots=True)
class HistogramBin:
    """Examples with `low <= tokens < high`."""

    low: int
    high: int
    count: int


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """What training on the dataset would bill.

    Attributes:
        epochs: passes over the data (given, or from the heuristic).
        billed_tokens: epochs x the sum of per-example tokens, each capped at the context.
        price_per_million: USD per million training tokens, None when unknown.
        cost_usd: billed_tokens x price, None when the price is unknown.
    """

    epochs: int
    billed_tokens: int
    price_per_million: Decimal | None
    cost_usd: Decimal | None


def as_numpy(values: array[int]) -> npt.NDArray[np.uint32]:
    """A zero-copy numpy view of an `array('I')`."""
    return np.frombuffer(values, dtype=np.uint32) if len(values) else np.empty(0, np.uint32)


def token_stats(tokens: npt.NDArray[np.uint32]) -> TokenStats | None:
    """Exact statistics of per-example token counts; None for no examples."""
    count = len(tokens)
    if not count:
        return None
    ordered = np.sort(tokens)
    total = int(ordered.sum(dtype=np.uint64))
    return TokenStats(
        count=count,
        total=total,
        min=int(ordered[0]),
        max=int(ordered[-1]),
        mean=total / count,
        median=float(np.median(ordered)),
        p5=_nearest_rank(ordered, 5),
        p95=_nearest_rank(ordered, 95),
    )


def _nearest_rank(ordered: npt.NDArray[np.uint32], percent: int) -> int:
    rank = max(1, math.ceil(percent * len(ordered) / 100))
    return int(ordered[rank - 1])


def histogram(tokens: npt.NDArray[np.uint32]) -> list[HistogramBin]:
    """Examples per power-of-two range of tokens ([16, 32), [32, 64), ...), empty ends cut."""
    if not len(tokens):
        return []
    low = max(1, int(tokens.min()))
    high = int(tokens.max()) + 1
    edges = [0] if low <= 1 else []
    edge = 1 << (low.bit_length() - 1)
    while edge < high:
        edges.append(edge)
        edge <<= 1
    edges.append(edge)
    counts, _ = np.histogram(tokens, bins=np.array(edges, dtype=np.float64))
    return [
        HistogramBin(edges[i], edges[i + 1], int(count)) for i, count in enumerate(counts.tolist())
    ]


def outliers(tokens: npt.NDArray[np.uint32]) -> tuple[list[int], list[int], float]:
    """Indexes of unusually short and unusually long examples, and the median token count."""
    if len(tokens) < MIN_EXAMPLES_FOR_OUTLIERS:
        return [], [], float(np.median(tokens)) if len(tokens) else 0.0
    logs = np.log(np.maximum(tokens, 1).astype(np.float64))
    center = float(np.median(logs))
    spread = float(np.median(np.abs(logs - center)))
    median = float(np.median(tokens))
    if spread == 0:
        return [], [], median
    scores = 0.6745 * (logs - center) / spread
    short = np.flatnonzero(scores < -OUTLIER_Z).tolist()
    long = np.flatnonzero(scores > OUTLIER_Z).tolist()
    return short, long, median


def default_epochs(examples: int) -> int:
    """Epochs the common heuristic chooses for a dataset of `examples`."""
    if examples <= 0:
        return TARGET_EPOCHS
    if examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_EPOCHS, max(MIN_EPOCHS, MIN_TARGET_EXAMPLES // examples))
    if examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_EPOCHS, MAX_TARGET_EXAMPLES // examples)
    return TARGET_EPOCHS


def estimate_cost(
    tokens: npt.NDArray[np.uint32],
    context: int | None,
    price_per_million: Decimal | None,
    epochs: int | None = None,
) -> CostEstimate:
    """Billed tokens and cost of training on examples of `tokens` (capped at `context`)."""
    chosen = epochs if epochs is not None else default_epochs(len(tokens))
    capped = tokens if context is None else np.minimum(tokens, context)
    billed = chosen * int(capped.sum(dtype=np.uint64))
    cost = None if price_per_million is None else billed * price_per_million / _MILLION
    return CostEstimate(chosen, billed, price_per_million, cost)
