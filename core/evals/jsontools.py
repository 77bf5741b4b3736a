"""JSON in model answers: parse a whole answer, find JSON inside prose, follow a field path.

Answers can be megabytes of arbitrary text: finding JSON inside one is bounded (a budget of
characters the decoder may scan in all, and of start positions), never quadratic.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

MAX_JSON_STARTS = 1_000
"""At most this many `{` or `[` positions are tried as the start of a JSON value."""
MAX_FENCED_BLOCKS = 100
"""At most this many fenced code blocks are tried as JSON."""
SCAN_BUDGET = 8_000_000
"""Characters the decoder may scan in all while looking for JSON inside an answer."""

_DECODER = json.JSONDecoder()
_START = re.compile(r"[\[{]")
# A fence line on its own; blocks are consecutive pairs (a lazy `.*?` body would be quadratic).
_FENCE_LINE = re.compile(r"^[ \t]*```[ \t]*(?:json|JSON)?[ \t]*$", re.MULTILINE)
_PATH_STEP = re.compile(r"(?:^|\.)([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


class NotJson(ValueError):
    """The text is not JSON; the message says why (first problem, with its position)."""


def parse_json(text: str) -> Any:
    """Parse `text` as exactly one JSON value (surrounding whitespace allowed).

    Raises:
        NotJson: with the decoder's reason, line and column.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise NotJson(f"{error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise NotJson("nested too deeply") from None


def json_values_in(text: str) -> Iterator[Any]:
    """Yield the JSON objects and arrays found in `text`, in order of their start.

    The whole text is tried first, then fenced code blocks, then each `{` or `[` (within the
    MAX_JSON_STARTS and SCAN_BUDGET bounds). A value found is not searched again for values
    nested inside it.
    """
    try:
        whole = json.loads(text)
    except (ValueError, RecursionError):
        pass
    else:
        if isinstance(whole, dict | list):
            yield whole
            return
    for body in _fenced_blocks(text):
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict | list):
            yield value
    yield from _embedded_values(text)


def _fenced_blocks(text: str) -> Iterator[str]:
    lines = _FENCE_LINE.finditer(text)
    pairs = zip(lines, lines, strict=False)
    for opening, closing in itertools.islice(pairs, MAX_FENCED_BLOCKS):
        body = text[opening.end() : closing.start()]
        if body.strip():
            yield body


def _embedded_values(text: str) -> Iterator[Any]:
    budget, position, starts = SCAN_BUDGET, 0, 0
    while starts < MAX_JSON_STARTS and budget > 0:
        match = _START.search(text, position)
        if match is None:
            return
        starts += 1
        start = match.start()
        try:
            value, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as error:
            budget -= max(error.pos - start, 1)
            position = start + 1
        except RecursionError:
            budget -= 100_000  # hostile nesting: its neighbours nest as deep
            position = start + 1
        else:
            budget -= end - start
            position = end
            yield value


def parse_path(path: str) -> list[str | int]:
    """Split a field path like `answer.items[0].name` (or `answer.items.0.name`) into steps.

    Raises:
        ValueError: the path is empty or malformed.
    """
    steps: list[str | int] = []
    position = 0
    for match in _PATH_STEP.finditer(path):
        if match.start() != position:
            break
        key, index = match.group(1), match.group(2)
        steps.append(int(index) if index is not None else key)
        position = match.end()
    if not steps or position != len(path):
        raise ValueError(f"{path!r} is not a field path (like answer.items[0].name)")
    return steps


def follow_path(value: Any, steps: list[str | int]) -> Any:
    """The value at `steps` inside `value`.

    A numeric key also indexes a list (`items.0`).

    Raises:
        KeyError: with the first step that is missing, as a readable path.
    """
    walked = ""
    for step in steps:
        found = _step_into(value, step)
        walked += f"[{step}]" if isinstance(step, int) else (f".{step}" if walked else step)
        if found is _MISSING:
            raise KeyError(walked)
        value = found
    return value


def _step_into(value: Any, step: str | int) -> Any:
    if isinstance(value, dict):
        return value.get(str(step), _MISSING)
    if isinstance(value, list):
        index = step if isinstance(step, int) else int(step) if step.isdigit() else None
        if index is not None and index < len(value):
            return value[index]
    return _MISSING


def same_json(left: Any, right: Any) -> bool:
    """Deep equality of JSON values where 1 == 1.0 but True is not 1."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    return type(left) is type(right) and bool(left == right)
