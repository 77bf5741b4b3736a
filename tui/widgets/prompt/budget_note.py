"""The Prompt pane's budget words: the estimate's warning and the refusal, with its key."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.params import ChatRequest
    from tui.engine import Engine

OVER_BUDGET_KEY = "ctrl+o"
_KEY_HINT = f"{OVER_BUDGET_KEY} sends it anyway"


def in_console_words(message: str) -> str:
    """A budget refusal as the console says it: the key instead of the CLI option."""
    from core.budgets.guard import OVER_BUDGET_HINT

    return message.replace(OVER_BUDGET_HINT, _KEY_HINT)


def budget_note(engine: Engine, profile_name: str, request: ChatRequest) -> str:
    """` · over budget 'daily' (ctrl+o sends anyway)` when a budget would refuse the call,
    else empty (SQL and token counting: a thread worker)."""
    from core.budget_hook import is_free

    _, profile = engine.settings.resolve_profile(profile_name)
    hook = engine.client.budget
    if is_free(profile) or not hook.book.covers(profile_name, request.model):
        return ""  # the common case: one indexed read, no second token count
    estimate = hook.estimate(profile_name, profile, request)
    if estimate.refusal is None:
        return ""
    name = estimate.refusal.split("'")[1]
    return f" · OVER BUDGET '{name}': {OVER_BUDGET_KEY} sends anyway"
