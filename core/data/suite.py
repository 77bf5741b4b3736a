"""The held-out part of a split as an evaluation suite (JSONL, one case per line).

Kept to one small function so that its shape can follow the suite loader of `core.evals`:
`{"id", "messages": [every message but the last assistant one], "expected": <that message's
text>, "assert": [{"type": "similar", "value": <expected>, "threshold": 0.8}]}`.
"""

from __future__ import annotations

from typing import Any

from core.data.formats import CHAT, COMPLETION, PREFERENCE
from core.data.messages import content_text

SIMILAR_THRESHOLD = 0.8
_CASE_MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")
_CASE_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


def suite_case(obj: dict[str, Any], fmt: str, case_id: str) -> dict[str, Any] | None:
    """The evaluation case of a valid example, or None when it has no usable answer.

    The expected answer is the text of the example's last assistant message (for a
    preference example, its preferred output; for prompt/completion, the completion).
    Training-only keys (`weight`) are left out of the messages.
    """
    if fmt == COMPLETION:
        messages = [{"role": "user", "content": obj["prompt"]}]
        expected = obj["completion"]
    elif fmt == PREFERENCE:
        messages, expected = obj["input"]["messages"], _answer(obj["preferred_output"])
    elif fmt == CHAT:
        messages, expected = obj["messages"][:-1], _answer(obj["messages"])
    else:
        return None
    prompt = [_case_message(message) for message in messages]
    if not expected.strip() or not prompt or any(m["role"] not in _CASE_ROLES for m in prompt):
        return None
    return {
        "id": case_id,
        "messages": prompt,
        "expected": expected,
        "assert": [{"type": "similar", "value": expected, "threshold": SIMILAR_THRESHOLD}],
    }


def _answer(messages: list[dict[str, Any]]) -> str:
    return content_text(messages[-1].get("content")) if messages else ""


def _case_message(message: dict[str, Any]) -> dict[str, Any]:
    return {key: message[key] for key in _CASE_MESSAGE_KEYS if message.get(key) is not None}
