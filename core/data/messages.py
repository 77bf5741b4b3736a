"""Validation of chat messages, as OpenAI's fine-tuning format defines them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from core.data.problems import Problem

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call"}
)
_PART_TYPES = frozenset({"text", "image_url", "input_audio", "file"})


@dataclass(slots=True)
class MessageCheck:
    """What checking a list of messages found.

    Attributes:
        problems: format problems, empty when every message is valid.
        roles: the role of each message (as far as they were readable).
        trained: indexes of assistant messages trained on (weight absent or 1).
        texts: `(where, role, text)` of every string worth scanning.
        answer: the text of the last assistant message.
        answer_where: where that text is (`messages[3].content`).
        answer_text: index in `texts` of that text (its last part), None when it has none.
    """

    problems: list[Problem] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    trained: list[int] = field(default_factory=list)
    texts: list[tuple[str, str, str]] = field(default_factory=list)
    answer: str = ""
    answer_where: str = ""
    answer_text: int | None = None


def check_messages(messages: list[Any], prefix: str, line: int) -> MessageCheck:
    """Validate every message of `messages`; `prefix` names the list (`messages`)."""
    check = MessageCheck()
    for index, message in enumerate(messages):
        if _plain(message):  # the common case, validated in one test (a third of the time)
            _add_plain(check, message["role"], message["content"], f"{prefix}[{index}]", index)
            continue
        where = f"{prefix}[{index}]"
        if not isinstance(message, dict):
            check.problems.append(Problem(line, "bad_message", f"{where} is not an object", where))
            continue
        role = _role(message, where, line, check.problems)
        check.roles.append(role)
        _keys(message, where, line, check.problems)
        texts_before = len(check.texts)
        _content(message, role, where, line, check)
        _extras(message, role, where, line, check.problems)
        if role == "assistant":
            if message.get("weight", 1) != 0:
                check.trained.append(index)
            check.answer = content_text(message.get("content"))
            check.answer_where = f"{where}.content"
            added = len(check.texts) > texts_before
            check.answer_text = len(check.texts) - 1 if added else None
            _tool_call_texts(message, where, check.texts)
    return check


def _plain(message: Any) -> bool:
    """A valid message of only a known role and a non-blank string content."""
    return (
        type(message) is dict
        and len(message) == 2
        and type(message.get("role")) is str
        and message["role"] in ROLES
        and type(message.get("content")) is str
        and message["content"] != ""
        and not message["content"].isspace()  # as `not content.strip()`, without a copy
    )


def _add_plain(check: MessageCheck, role: str, content: str, where: str, index: int) -> None:
    """Record a `_plain` message, as the general path does."""
    check.roles.append(role)
    check.texts.append((f"{where}.content", role, content))
    if role == "assistant":
        check.trained.append(index)
        check.answer = content
        check.answer_where = f"{where}.content"
        check.answer_text = len(check.texts) - 1


def content_text(content: Any) -> str:
    """The text of a message's content: the string, or its text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"] for part in content if isinstance(part, dict) and "text" in part
        )
    return ""


def _role(message: dict[str, Any], where: str, line: int, problems: list[Problem]) -> str:
    role = message.get("role")
    if not isinstance(role, str):
        problems.append(Problem(line, "unknown_role", f"{where} has no role", f"{where}.role"))
        return ""
    if role not in ROLES:
        problems.append(
            Problem(line, "unknown_role", f"unknown role {role[:40]!r} in {where}", f"{where}.role")
        )
    return role


def _keys(message: dict[str, Any], where: str, line: int, problems: list[Problem]) -> None:
    for key in message:
        if key not in MESSAGE_KEYS:
            problems.append(
                Problem(line, "unknown_key", f"unknown key {key[:40]!r} in {where}", where)
            )


def _content(
    message: dict[str, Any], role: str, where: str, line: int, check: MessageCheck
) -> None:
    content = message.get("content")
    calls = message.get("tool_calls") or message.get("function_call")
    problems = check.problems
    if content is None:
        if not (role == "assistant" and calls):
            problems.append(Problem(line, "missing_content", f"{where} has no content", where))
        return
    if isinstance(content, str):
        if not content.strip() and not calls:
            problems.append(Problem(line, "missing_content", f"{where} has empty content", where))
        check.texts.append((f"{where}.content", role, content))
        return
    if not isinstance(content, list) or not content:
        message_text = f"{where}.content must be a string or a non-empty list of parts"
        problems.append(Problem(line, "bad_message", message_text, f"{where}.content"))
        return
    for index, part in enumerate(content):
        part_where = f"{where}.content[{index}]"
        if not _valid_part(part):
            problems.append(
                Problem(
                    line, "bad_message", f"{part_where} is not a valid content part", part_where
                )
            )
        elif part["type"] == "text":
            check.texts.append((f"{part_where}.text", role, part["text"]))


def _valid_part(part: Any) -> bool:
    if not isinstance(part, dict) or part.get("type") not in _PART_TYPES:
        return False
    return part["type"] != "text" or isinstance(part.get("text"), str)


def _extras(
    message: dict[str, Any], role: str, where: str, line: int, problems: list[Problem]
) -> None:
    for key in ("name", "tool_call_id"):
        if key in message and not isinstance(message[key], str):
            problems.append(Problem(line, "bad_message", f"{where}.{key} must be a string", where))
    if "weight" in message:
        weight = message["weight"]
        valid = type(weight) in (int, float) and not math.isnan(weight) and weight in (0, 1)
        if not valid or role != "assistant":
            why = "must be 0 or 1" if not valid else "is only allowed on assistant messages"
            problems.append(Problem(line, "bad_weight", f"{where}.weight {why}", f"{where}.weight"))
    if "tool_calls" in message and not _valid_tool_calls(message["tool_calls"], role):
        text = f"{where}.tool_calls must be assistant function calls with a name and arguments"
        problems.append(Problem(line, "bad_tool_calls", text, f"{where}.tool_calls"))
    if "function_call" in message and not _valid_function(message["function_call"]):
        text = f"{where}.function_call must have a name and string arguments"
        problems.append(Problem(line, "bad_tool_calls", text, f"{where}.function_call"))


def _valid_tool_calls(calls: Any, role: str) -> bool:
    if role != "assistant" or not isinstance(calls, list) or not calls:
        return False
    return all(isinstance(call, dict) and _valid_function(call.get("function")) for call in calls)


def _valid_function(function: Any) -> bool:
    return (
        isinstance(function, dict)
        and isinstance(function.get("name"), str)
        and isinstance(function.get("arguments", ""), str)
    )


def _tool_call_texts(
    message: dict[str, Any], where: str, texts: list[tuple[str, str, str]]
) -> None:
    calls = message.get("tool_calls")
    if isinstance(calls, list) and _valid_tool_calls(calls, "assistant"):
        for index, call in enumerate(calls):
            arguments = call["function"].get("arguments")
            if arguments:
                texts.append(
                    (f"{where}.tool_calls[{index}].function.arguments", "assistant", arguments)
                )
