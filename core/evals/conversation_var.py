"""`_conversation`, promptfoo's variable of a conversation's earlier turns: its name, which
prompt templates read it, the shape of one earlier turn, and what to say when a template
cannot read that shape (`core.evals.conversations` runs the turns)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from core.evals.template import TemplateError, variables_in
from core.params import Message

CONVERSATION = "_conversation"
"""The variable holding a conversation's earlier turns, `{prompt, input, output}` each."""

PLACEHOLDER_ANSWER = "an earlier answer"
"""The answer of the made-up earlier turn a template is tried with when its suite loads."""

_INPUT_AS_LIST = re.compile(r"\b(\w+)\.input(?:\s*\[[^\]]*\]|\.\w+)+")
"""An expression reading a turn's `input` as a list of messages (`c.input[c.input.length -
1].content`, as promptfoo's own example once did): it is the last message's text."""


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


def earlier_turn(body: list[Message], output: str, *, chat: bool) -> dict[str, Any]:
    """One earlier turn as `_conversation` holds it, as promptfoo's evaluator builds it
    (`updateConversationHistory`): `prompt` the rendered prompt (a chat prompt's messages,
    a text prompt's text: `renderedJson || renderedPrompt`), `input` the last message's
    content (the message itself when its content is empty), `output` the answer.

    Args:
        body: the turn's rendered messages (without a system prompt the suite added).
        output: the turn's answer.
        chat: whether the prompt is a chat (JSON or YAML messages), not a text.
    """
    messages = [message.as_api() for message in body]
    if not chat and len(body) == 1 and isinstance(body[0].content, str):
        return {"prompt": body[0].content, "input": body[0].content, "output": output}
    last = messages[-1] if messages else {}
    return {"prompt": messages, "input": last.get("content") or last, "output": output}


def turn_problem(error: TemplateError, texts: tuple[str, ...], turns: int) -> str:
    """What to tell the user when a template does not render with `turns` earlier turns:
    first an expression that misreads `input` when there is one (else the shape of a turn),
    then the error itself."""
    detail = f"rendered with {turns} earlier turn(s) in {CONVERSATION}, {error}"
    for text in texts:
        found = _INPUT_AS_LIST.search(text)
        if found is not None:
            return (
                f"prompt: `{found.group(0)}` reads an earlier turn's input as a list of"
                " messages, but in promptfoo `input` is the last message's text (a string):"
                f" write {{{{ {found.group(1)}.input }}}}; {detail}"
            )
    return (
        "prompt: does not render with an earlier turn, each {prompt, input, output}: prompt"
        " the rendered prompt (a chat's messages, or a text), input the last message's text,"
        f" output the answer; {detail}"
    )
