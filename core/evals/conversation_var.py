"""`_conversation`, promptfoo's variable of a conversation's earlier turns: its name, and
which prompt templates read it (`core.evals.conversations` runs the turns)."""

from __future__ import annotations

from functools import lru_cache

from core.evals.template import TemplateError, variables_in

CONVERSATION = "_conversation"
"""The variable holding a conversation's earlier turns, `{prompt, input, output}` each."""


@lru_cache(maxsize=256)
def texts_read_conversation(texts: tuple[str, ...]) -> bool:
    """Whether any of a prompt's template `texts` reads `_conversation` (an invalid one
    does not: it is refused where it is read)."""
    for text in texts:
        if CONVERSATION not in text:
            continue
        try:
            if CONVERSATION in variables_in(text):
                return True
        except TemplateError:
            continue
    return False
