"""Pre-flight cost of a chat call: what to reserve against the budgets before sending it.

Input tokens are counted as the log would (tiktoken, chat overheads, tool definitions). Output
tokens are bounded by the request's `max_tokens` when it sets one; otherwise they come from
history, the 95th percentile of the completion tokens of the model's last answered calls; with
no history, `DEFAULT_OUTPUT_TOKENS`. The price is `price_of`, the source of the logged costs,
so a reservation and the cost that settles it agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.params import ChatRequest
from core.prices import price_of
from core.settings import Profile
from core.tokens import count_messages
from storage.budgets import BudgetBook
from storage.records import Usage
from storage.store import Store

DEFAULT_OUTPUT_TOKENS = 1024
"""Output tokens assumed for a request without `max_tokens` to a model without history."""
HISTORY_CALLS = 200
"""How many of the model's last answered calls the output estimate looks at."""


@dataclass(frozen=True)
class Preflight:
    """The estimated cost of one call, and what it rests on."""

    prompt_tokens: int
    output_tokens: int
    output_from: str
    """`max_tokens`, `history` or `default`."""
    cost_usd: Decimal | None
    """None when the model has no known price; 0 on a local endpoint."""


def preflight(request: ChatRequest, profile: Profile, store: Store | None = None) -> Preflight:
    """Estimate the cost of sending `request` on `profile` (an upper bound when the request
    sets `max_tokens`); `store` gives the model's history of output lengths."""
    prompt = count_messages(request.api_messages(), request.model, request.params.tools).tokens
    output, source = _output_tokens(request, store)
    usage = Usage(prompt_tokens=prompt, completion_tokens=output, estimated=True)
    return Preflight(prompt, output, source, price_of(request.model, usage, profile))


def _output_tokens(request: ChatRequest, store: Store | None) -> tuple[int, str]:
    if request.params.max_tokens:
        return request.params.max_tokens, "max_tokens"
    typical = BudgetBook(store).typical_output(request.model, HISTORY_CALLS) if store else None
    if typical is not None:
        return typical, "history"
    return DEFAULT_OUTPUT_TOKENS, "default"
