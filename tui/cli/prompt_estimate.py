"""`tunedeck prompt --estimate`: what a prompt would cost and which budgets it would touch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.budgets.periods import period_words
from core.budgets.rules import usd
from tui.cli.output import print_json

if TYPE_CHECKING:
    from core.budget_hook import CallEstimate

_OUTPUT_FROM = {
    "max_tokens": "at most {n} output tokens (max_tokens)",
    "history": "about {n} output tokens (95th percentile of the model's recent answers)",
    "default": "about {n} output tokens (assumed: no max_tokens, no history)",
}


def print_estimate(profile: str, model: str, estimate: CallEstimate, as_json: bool) -> None:
    """Print the estimate on stdout, as lines for people or as JSON."""
    if as_json:
        print_json(estimate_json(profile, model, estimate))
        return
    for line in estimate_lines(profile, model, estimate):
        print(line)


def estimate_lines(profile: str, model: str, estimate: CallEstimate) -> list[str]:
    """The estimate, one fact a line: tokens and cost, each budget, then the verdict."""
    first = estimate.preflight
    cost = "unknown cost (no price for this model)"
    if first.cost_usd is not None:
        cost = usd(first.cost_usd)
    output = _OUTPUT_FROM[first.output_from].format(n=first.output_tokens)
    lines = [f"{profile}/{model}: {first.prompt_tokens} input tokens, {output}: {cost}"]
    for standing in estimate.standings:
        budget = standing.budget
        held = f" ({usd(standing.reserved_usd)} held)" if standing.reserved_usd else ""
        lines.append(
            f"budget '{budget.name}' ({budget.scope}): {usd(standing.spent_usd)}{held} "
            f"of {usd(budget.limit_usd)} {period_words(budget.period)}"
        )
    if not estimate.standings:
        lines.append("no budget covers this call")
    if estimate.refusal:
        lines.append(f"would be refused: {estimate.refusal}")
    return lines


def estimate_json(profile: str, model: str, estimate: CallEstimate) -> dict[str, Any]:
    """The estimate as a JSON object for scripts."""
    first = estimate.preflight
    return {
        "profile": profile,
        "model": model,
        "input_tokens": first.prompt_tokens,
        "output_tokens": first.output_tokens,
        "output_from": first.output_from,
        "cost_usd": None if first.cost_usd is None else float(first.cost_usd),
        "budgets": [
            {
                "name": s.budget.name,
                "scope": s.budget.scope,
                "period": s.budget.period,
                "limit_usd": s.budget.limit_usd,
                "spent_usd": s.spent_usd,
                "reserved_usd": s.reserved_usd,
            }
            for s in estimate.standings
        ],
        "refused": estimate.refusal,
    }
