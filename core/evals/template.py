"""Prompt templates with promptfoo/nunjucks-style `{{ var }}` placeholders.

Supported: `{{ name }}`, `{{ name.field }}` and `{{ name[0] }}` (dicts and lists in vars), and
`{# comments #}` (removed). Not supported, refused with the feature named: filters
(`{{ name | upper }}`), tags (`{% if %}`, `{% for %}`), and any other expression. A string var is
inserted as is; a number or a boolean as JSON (`3`, `true`); a list or a dict as compact JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# Linear: the lazy body cannot cross a closing brace pair, and each `{{` is tried once.
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_TAG = re.compile(r"\{%.*?%\}", re.DOTALL)
_NAME = r"[^\W\d]\w*"  # an identifier, Unicode letters included
_PATH = re.compile(rf"{_NAME}(?:\.(?:{_NAME}|\d+)|\[\d+\])*")
_HEAD = re.compile(r"[.\[]")
_STEP = re.compile(rf"\.({_NAME}|\d+)|\[(\d+)\]")


class TemplateError(ValueError):
    """A template cannot be rendered: an unsupported feature or a missing variable."""


def has_placeholders(text: str) -> bool:
    """Whether `text` contains anything the template language would interpret."""
    return "{{" in text or "{%" in text or "{#" in text


def variables_in(template: str) -> list[str]:
    """Names of the top-level variables a template uses, in order of first use.

    Raises:
        TemplateError: the template uses a filter, a tag or an expression.
    """
    names: list[str] = []
    for expression in _expressions(template):
        name = _HEAD.split(expression, maxsplit=1)[0]
        if name not in names:
            names.append(name)
    return names


def render(template: str, variables: Mapping[str, Any]) -> str:
    """Render `template` with `variables`.

    Raises:
        TemplateError: a variable (or a field of one) is missing, or the template uses an
            unsupported feature.
    """
    if not has_placeholders(template):
        return template
    template = _COMMENT.sub("", template)
    _refuse_tags(template)

    def substitute(match: re.Match[str]) -> str:
        return _as_text(_lookup(_expression(match.group(1)), variables))

    return _PLACEHOLDER.sub(substitute, template)


def _expressions(template: str) -> list[str]:
    template = _COMMENT.sub("", template)
    _refuse_tags(template)
    return [_expression(match.group(1)) for match in _PLACEHOLDER.finditer(template)]


def _refuse_tags(template: str) -> None:
    tag = _TAG.search(template)
    if tag:
        raise TemplateError(f"template tags like {_short(tag.group(0))} are not supported")


def _expression(raw: str) -> str:
    expression = raw.strip()
    if "|" in expression:
        raise TemplateError(f"template filters like {{{{ {_short(raw)} }}}} are not supported")
    if not _PATH.fullmatch(expression):
        raise TemplateError(
            f"{{{{ {_short(raw)} }}}} is not a variable (expressions are not supported)"
        )
    return expression


def _lookup(expression: str, variables: Mapping[str, Any]) -> Any:
    name = _HEAD.split(expression, maxsplit=1)[0]
    if name not in variables:
        raise TemplateError(f"variable {name!r} is not defined")
    value = variables[name]
    for step in _STEP.finditer(expression, len(name)):
        key, index = step.group(1), step.group(2)
        if key is not None and key.isdigit() and isinstance(value, list):
            key, index = None, key  # `items.0` indexes a list, as nunjucks does
        if key is not None and isinstance(value, Mapping) and key in value:
            value = value[key]
        elif index is not None and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            raise TemplateError(f"{expression!r}: {step.group(0)!r} is not in variable {name!r}")
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
