"""Custom scorers named by import path in the eval tests (tests.unit.evals.scorer_examples:...)."""

from __future__ import annotations

import asyncio
from typing import Any

from core.evals.scorers import Score


def mentions_city(output: str, context: dict[str, Any]) -> bool:
    """Passes when the output names the case's `city` var."""
    return str(context["vars"]["city"]).lower() in output.lower()


def length_ratio(output: str, context: dict[str, Any]) -> float:
    """A score: the output's length against the assertion's config `target`."""
    return min(len(output) / context["config"]["target"], 1.0)


def graded(output: str, context: dict[str, Any]) -> dict[str, Any]:
    """promptfoo's GradingResult shape."""
    return {"pass": "yes" in output, "score": 0.7, "reason": f"case {context['test']['id']}"}


def as_score(output: str, context: dict[str, Any]) -> Score:
    """A Score object."""
    return Score(passed=True, score=0.25, reason="quarter")


async def slow_but_async(output: str, context: dict[str, Any]) -> bool:
    """An async scorer is awaited."""
    await asyncio.sleep(0)
    return output == "ok"


def broken(output: str, context: dict[str, Any]) -> bool:
    """Raises: the assertion fails with the exception as its reason."""
    raise ZeroDivisionError("the scorer divided by zero")


def odd(output: str, context: dict[str, Any]) -> object:
    """Returns something that is no verdict."""
    return ["not", "a", "verdict"]


NOT_A_FUNCTION = 3
