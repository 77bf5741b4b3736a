"""The three training-file formats: detection, validation, and what each example is made of.

- chat: `{"messages": [{"role", "content", "name"?, "weight"?, "tool_calls"?}], "tools"?}`
- preference: `{"input": {"messages": [...], "tools"?}, "preferred_output": [assistant message],
  "non_preferred_output": [assistant message]}`
- completion (legacy): `{"prompt": "...", "completion": "..."}`

An object that fails validation gives its problems and no `Example`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.data.messages import MessageCheck, check_messages
from core.data.problems import Problem

CHAT, PREFERENCE, COMPLETION = "chat", "preference", "completion"
FORMATS = (CHAT, PREFERENCE, COMPLETION)
_FORMAT_NAMES = {CHAT: "a chat", PREFERENCE: "a preference", COMPLETION: "a prompt/completion"}


@dataclass(slots=True)
class Example:
    """A valid example, reduced to what the checks need.

    Attributes:
        line: 1-based line number.
        offset: byte offset of the line in the file.
        parts: its messages grouped into conversations that are tokenized as such (messages
            not trained on, then the trained ones); bare texts when `plain`.
        sequences: which parts form each sequence the model trains on; the example's token
            count is that of its longest sequence (a preference example has two).
        trained: the parts trained on (assistant messages whose weight is not 0).
        messages: how many messages the example has.
        plain: the parts are bare texts without chat framing (prompt/completion).
        tools: tool definitions sent with the example, if any.
        texts: `(where, role, text)` of every string checked for safety and hashed.
        answer: the final assistant text ("" when there is none).
        answer_where: where that text is.
        answer_text: index in `texts` of the answer's text, None when it has none.
        key: the value of the stratification key, when one is asked for.
    """

    line: int
    offset: int
    parts: list[list[dict[str, Any]]]
    sequences: tuple[tuple[int, ...], ...]
    trained: tuple[int, ...]
    messages: int
    plain: bool = False
    tools: list[Any] | None = None
    texts: list[tuple[str, str, str]] = field(default_factory=list)
    answer: str = ""
    answer_where: str = ""
    answer_text: int | None = None
    key: str | None = None


def detect(obj: dict[str, Any]) -> str | None:
    """The format an object looks like, from its keys; None when it looks like none."""
    if "messages" in obj:
        return CHAT
    if "input" in obj and ("preferred_output" in obj or "non_preferred_output" in obj):
        return PREFERENCE
    if "prompt" in obj or "completion" in obj:
        return COMPLETION
    return None


def validate(
    obj: dict[str, Any], fmt: str, line: int, offset: int
) -> tuple[Example | None, list[Problem]]:
    """Check one parsed object against the file's format `fmt`."""
    looks = detect(obj)
    if looks is not None and looks != fmt:
        message = f"{_FORMAT_NAMES[looks]} example in {_FORMAT_NAMES[fmt]} file"
        return None, [Problem(line, "wrong_format", message)]
    if fmt == CHAT:
        return _chat(obj, line, offset)
    if fmt == PREFERENCE:
        return _preference(obj, line, offset)
    return _completion(obj, line, offset)


def key_value(obj: dict[str, Any], path: str) -> str | None:
    """The value at a dotted `path` (`metadata.topic`) as text; None when absent."""
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _tools(obj: dict[str, Any], where: str, line: int) -> tuple[list[Any] | None, list[Problem]]:
    tools = obj.get("tools")
    if tools is None:
        return None, []
    if not isinstance(tools, list) or not all(_is_tool(tool) for tool in tools):
        message = "tools must be a list of function definitions with a name"
        return None, [Problem(line, "bad_tool_calls", message, where)]
    return tools or None, []


def _is_tool(tool: Any) -> bool:
    """A function definition shaped as the token counter reads it."""
    if not isinstance(tool, dict):
        return False
    function = tool.get("function", tool)
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        return False
    if not isinstance(function.get("description", ""), str):
        return False
    parameters = function.get("parameters") or {}
    properties = parameters.get("properties") or {} if isinstance(parameters, dict) else None
    if not isinstance(properties, dict):
        return False
    return all(_is_property(prop) for prop in properties.values())


def _is_property(prop: Any) -> bool:
    return (
        isinstance(prop, dict)
        and isinstance(prop.get("description", ""), str)
        and isinstance(prop.get("enum", []), list)
    )


def _chat(obj: dict[str, Any], line: int, offset: int) -> tuple[Example | None, list[Problem]]:
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        return None, [Problem(line, "missing_messages", 'missing or empty "messages" list')]
    check = check_messages(messages, "messages", line)
    tools, tool_problems = _tools(obj, "tools", line)
    problems = check.problems + tool_problems + _assistant_order(check, line)
    if problems:
        return None, problems
    trained = set(check.trained)
    parts = [
        [message for i, message in enumerate(messages) if i not in trained],
        [messages[i] for i in check.trained],
    ]
    return Example(
        line,
        offset,
        parts,
        ((0, 1),),
        (1,),
        len(messages),
        tools=tools,
        texts=check.texts,
        answer=check.answer,
        answer_where=check.answer_where,
        answer_text=check.answer_text,
    ), []


def _assistant_order(check: MessageCheck, line: int) -> list[Problem]:
    if not check.roles or check.problems:
        return []
    if "assistant" not in check.roles:
        return [Problem(line, "no_assistant", "no assistant message to learn from")]
    if check.roles[-1] != "assistant":
        last = len(check.roles) - 1
        message = f"the last message is from '{check.roles[-1]}', not the assistant"
        return [Problem(line, "assistant_not_last", message, f"messages[{last}]")]
    return []


def _preference(
    obj: dict[str, Any], line: int, offset: int
) -> tuple[Example | None, list[Problem]]:
    source = obj.get("input")
    messages = source.get("messages") if isinstance(source, dict) else None
    if not isinstance(messages, list) or not messages:
        return None, [Problem(line, "missing_messages", 'missing or empty "input.messages" list')]
    assert isinstance(source, dict)
    check = check_messages(messages, "input.messages", line)
    tools, problems = _tools(source, "input.tools", line)
    problems = check.problems + problems
    outputs = []
    for name in ("preferred_output", "non_preferred_output"):
        output, output_problems = _preference_output(obj.get(name), name, line)
        outputs.append(output)
        problems += output_problems
    if problems:
        return None, problems
    preferred, rejected = outputs[0].texts, outputs[1].texts
    parts = [messages, obj["preferred_output"], obj["non_preferred_output"]]
    return Example(
        line,
        offset,
        parts,
        ((0, 1), (0, 2)),
        (1, 2),
        sum(map(len, parts)),
        tools=tools,
        texts=check.texts + preferred + rejected,
        answer=outputs[0].answer,
        answer_where=outputs[0].answer_where,
        answer_text=None
        if outputs[0].answer_text is None
        else len(check.texts) + outputs[0].answer_text,
    ), []


def _preference_output(value: Any, name: str, line: int) -> tuple[MessageCheck, list[Problem]]:
    if not isinstance(value, list) or not value:
        return MessageCheck(), [Problem(line, "no_assistant", f'missing or empty "{name}" list')]
    check = check_messages(value, name, line)
    if check.problems:
        return check, check.problems
    if any(role != "assistant" for role in check.roles):
        return check, [Problem(line, "no_assistant", f"{name} must hold assistant messages", name)]
    return check, []


def _completion(
    obj: dict[str, Any], line: int, offset: int
) -> tuple[Example | None, list[Problem]]:
    problems = []
    for name in ("prompt", "completion"):
        value = obj.get(name)
        if value is None:
            problems.append(Problem(line, "missing_content", f'missing "{name}"', name))
        elif not isinstance(value, str):
            problems.append(Problem(line, "bad_message", f'"{name}" must be a string', name))
        elif name == "completion" and not value.strip():
            problems.append(Problem(line, "missing_content", 'empty "completion"', name))
    if problems:
        return None, problems
    prompt, completion = obj["prompt"], obj["completion"]
    return Example(
        line,
        offset,
        [[{"content": prompt}], [{"content": completion}]],
        ((0, 1),),
        (1,),
        2,
        plain=True,
        texts=[("prompt", "user", prompt), ("completion", "assistant", completion)],
        answer=completion,
        answer_where="completion",
        answer_text=1,
    ), []
