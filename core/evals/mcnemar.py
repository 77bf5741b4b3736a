"""McNemar's exact test on paired pass/fail outcomes, and how few flips it can judge."""

from __future__ import annotations

import math
from fractions import Fraction

_EXACT_LIMIT = 5_000
"""Up to this many discordant pairs the p-value is computed with exact integers."""


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for `b` and `c` discordant pairs.

    Under no change each discordant pair goes either way with probability 1/2, so the p-value
    is twice the binomial tail P(X <= min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1
    (as scipy's `binomtest(min(b, c), b + c).pvalue` and statsmodels' exact `mcnemar`).

    Raises:
        ValueError: a count is negative.
    """
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be 0 or more")
    n, k = b + c, min(b, c)
    if n == 0 or 2 * k >= n:
        return 1.0
    if n <= _EXACT_LIMIT:
        term = tail = 1  # C(n, 0), then C(n, i) = C(n, i - 1) * (n - i + 1) / i
        for i in range(1, k + 1):
            term = term * (n - i + 1) // i
            tail += term
        return min(1.0, float(Fraction(2 * tail, 2**n)))
    return min(1.0, 2 * _binomial_tail(n, k))


def least_p_value(flipped: int) -> float:
    """The least two-sided McNemar p-value possible with `flipped` discordant pairs: all of
    them one way, 2 / 2**flipped (1 for none). Below 6 it is 0.0625 or more: no drop of that
    few cases can be significant at 0.05."""
    return mcnemar_exact(flipped, 0)


def flips_needed(alpha: float) -> int | None:
    """The fewest discordant pairs, all one way, that McNemar's exact test calls significant
    at `alpha` (6 at 0.05); None when no count does (alpha 0 or less)."""
    if alpha <= 0:
        return None
    flipped = 1
    while least_p_value(flipped) >= alpha:
        flipped += 1
    return flipped


def _binomial_tail(n: int, k: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), k < n/2, in floating point (log-space start)."""
    log_term = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2)
    if log_term < -745:  # below the smallest float: the tail is 0 to double precision
        return 0.0
    term = math.exp(log_term)
    total = term
    for i in range(k, 0, -1):  # C(n, i-1) = C(n, i) * i / (n - i + 1)
        term *= i / (n - i + 1)
        total += term
        if term < total * 1e-17:
            break
    return total
