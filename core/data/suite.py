"""The held-out part of a split as an evaluation suite (JSONL, one case per line).

Its shape follows the suite loader of `core.evals`: a header line `{"suite": {"name": NAME}}`
(the suite is named as the user named it), then one case a line: `{"id", "messages": [every
message but the last assistant one], "expected": <that message's text>, "assert": [{"type":
"similar", "value": <expected>, "threshold": 0.8}]}`.

A case's id is `NAME-` and 8 hex digits of the hash of its messages (the hash the suite loader
derives for a case without an id, `core.evals.caseids`), not its line: a split of an edited
source (a line prepended, examples moved) gives each example the id it had, so runs on the
two suites pair each example with itself. Examples with the same messages get `-2`, `-3`, ...
in file order.
"""

from __future__ import annotations

from typing import Any

from core.data.formats import CHAT, COMPLETION, PREFERENCE
from core.data.messages import content_text
from core.evals.caseids import content_id

SIMILAR_THRESHOLD = 0.8
_CASE_MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")
_CASE_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


def suite_header(name: str) -> dict[str, Any]:
    """The first line of the suite: its name."""
    return {"suite": {"name": name}}


class CaseIds:
    """The ids of a suite's cases, in file order: `NAME-<hash of the messages>`, made unique."""

    def __init__(self, name: str) -> None:
        self._prefix = f"{name}-"
        self._taken: set[str] = set()

    def next(self, messages: list[dict[str, Any]]) -> str:
        """The id of the next case, whose input is `messages`."""
        base = content_id(self._prefix, {"messages": messages})
        identifier, number = base, 1
        while identifier in self._taken:
            number += 1
            identifier = f"{base}-{number}"
        self._taken.add(identifier)
        return identifier


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
