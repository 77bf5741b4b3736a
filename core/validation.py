"""Turn pydantic validation errors into one line a user understands."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

_RULES = {
    "less_than_equal": "must be at most {le}",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be greater than {gt}",
    "less_than": "must be less than {lt}",
    "extra_forbidden": "is not a known setting",
    "missing": "is required",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "decimal_parsing": "must be a number",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "too_long": "may hold at most {max_length} items",
    "literal_error": "must be one of {expected}",
}


def describe_errors(error: ValidationError) -> str:
    """The first problem of a validation error as `field.path: rule` (no input values).

    Input values are left out on purpose: a misplaced API key must not be echoed.
    """
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "value"
    template = _RULES.get(first["type"])
    context = {key: _number(value) for key, value in (first.get("ctx") or {}).items()}
    if template is not None:
        try:
            rule = template.format(**context)
        except KeyError:
            rule = first["msg"]
    else:
        rule = re.sub(r"^Value error, ", "", first["msg"])
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{field}: {rule}{suffix}"


def _number(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def line_of_key(path: Path, loc: tuple[str, ...]) -> int | None:
    """Best-effort line number of a dotted key in a TOML file, for error messages."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for depth in range(len(loc) - 1, -1, -1):
        found = _key_line(lines, loc[:depth], loc[depth])
        if found:
            return found
    for depth in range(len(loc), 0, -1):
        found = _header_line(lines, loc[:depth])
        if found:
            return found
    return None


def _header_line(lines: list[str], table: tuple[str, ...]) -> int | None:
    header = "[" + ".".join(table) + "]"
    for number, raw in enumerate(lines, start=1):
        if raw.split("#")[0].replace(" ", "") == header:
            return number
    return None


def _key_line(lines: list[str], table: tuple[str, ...], key: str) -> int | None:
    start = 0
    if table:
        header = _header_line(lines, table)
        if header is None:
            return None
        start = header
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number in range(start, len(lines)):
        if lines[number].lstrip().startswith("["):
            return None
        if pattern.match(lines[number]):
            return number + 1
    return None
