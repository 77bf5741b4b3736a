"""Prompt templates as promptfoo writes them: nunjucks, rendered with Jinja2.

A template made only of `{{ name }}`, `{{ name.field }}`, `{{ name[0] }}` placeholders (and
`{# comments #}`, removed) takes a fast path of its own; anything else (filters such as
`{{ x | dump }}`, tags such as `{% if %}` and `{% for %}`, expressions) is rendered by the
sandboxed Jinja2 environment of `core.evals.nunjucks`. Either way a value is written the same:
a string as is; None as nothing; a number or a boolean as JSON (`3`, `true`); a list or a dict
as compact JSON. Rendered prompts feed cache keys and case ids: keep that writing stable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

# Linear: the lazy body cannot cross a closing brace pair, and each `{{` is tried once.
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_TAG = re.compile(r"\{%.*?%\}", re.DOTALL)
_NAME = r"[^\W\d]\w*"  # an identifier, Unicode letters included
_PATH = re.compile(rf"{_NAME}(?:\.(?:{_NAME}|\d+)|\[\d+\])*")
_HEAD = re.compile(r"[.\[]")
_STEP = re.compile(rf"\.({_NAME}|\d+)|\[(\d+)\]")


class TemplateError(ValueError):
    """A template cannot be rendered: invalid syntax, a missing variable, a failed filter."""


class _NotPlain(Exception):
    """The template is more than plain placeholders: Jinja2 renders it."""


def has_placeholders(text: str) -> bool:
    """Whether `text` contains anything the template language would interpret."""
    return "{{" in text or "{%" in text or "{#" in text


def variables_in(template: str) -> list[str]:
    """Names of the top-level variables a template uses, in order of first use (not the
    names its loops or `{% set %}` define).

    Raises:
        TemplateError: the template's syntax is invalid.
    """
    try:
        expressions = _plain_expressions(template)
    except _NotPlain:
        import jinja2  # ~60 ms: only for templates that need it

        from core.evals.nunjucks import top_level_names

        try:
            return list(top_level_names(template))
        except jinja2.TemplateSyntaxError as error:
            raise _syntax_error(error) from None
    names: list[str] = []
    for expression in expressions:
        name = _HEAD.split(expression, maxsplit=1)[0]
        if name not in names:
            names.append(name)
    return names


def render(template: str, variables: Mapping[str, Any]) -> str:
    """Render `template` with `variables`.

    Raises:
        TemplateError: a variable (or a field of one) is missing, the syntax is invalid, or a
            filter fails (`load` of a text that is not JSON, ...).
    """
    if not has_placeholders(template):
        return template
    try:
        return _render_plain(template, variables)
    except _NotPlain:
        return _render_jinja(template, variables)


def _render_plain(template: str, variables: Mapping[str, Any]) -> str:
    stripped = _COMMENT.sub("", template)
    if _TAG.search(stripped):
        raise _NotPlain

    def substitute(match: re.Match[str]) -> str:
        return as_text(_lookup(_plain(match.group(1)), variables))

    return _PLACEHOLDER.sub(substitute, stripped)


def _plain_expressions(template: str) -> list[str]:
    stripped = _COMMENT.sub("", template)
    if _TAG.search(stripped):
        raise _NotPlain
    return [_plain(match.group(1)) for match in _PLACEHOLDER.finditer(stripped)]


def _plain(raw: str) -> str:
    expression = raw.strip()
    if not _PATH.fullmatch(expression):
        raise _NotPlain
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
        elif key == "length" and isinstance(value, str | list):
            value = len(value)  # JavaScript's `.length`, as nunjucks reads it
        else:
            raise TemplateError(f"{expression!r}: {step.group(0)!r} is not in variable {name!r}")
    return value


def as_text(value: Any) -> str:
    """How a value is written in a prompt: a string as is, nothing for None, else compact
    JSON (`3`, `true`, `[1,2]`, `{"k":"v"}`)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if type(value) is int:
        return str(value)  # what json.dumps writes, ~10x quicker (a loop's index)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def short(text: str, limit: int = 40) -> str:
    """`text` on one line, cut to `limit` characters, for a message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _render_jinja(template: str, variables: Mapping[str, Any]) -> str:
    import jinja2  # ~60 ms: only for templates that need it

    from core.evals.nunjucks import compiled, render_bounded

    try:
        compiled_template = compiled(template)
    except jinja2.TemplateSyntaxError as error:
        raise _syntax_error(error) from None
    try:
        return render_bounded(compiled_template, variables)
    except Exception as error:  # a user's template: any failure is the template's fault
        raise _render_error(error, template) from None


def _syntax_error(error: jinja2.TemplateSyntaxError) -> TemplateError:
    where = f" at line {error.lineno}" if error.lineno else ""
    return TemplateError(f"invalid template{where}: {' '.join(str(error.message).split())}")


def _render_error(error: Exception, template: str) -> TemplateError:
    reason = " ".join(str(error).split()) or type(error).__name__
    import jinja2

    if not isinstance(error, jinja2.TemplateError | ValueError):
        reason = f"{type(error).__name__}: {reason}"
    line = _template_line(error.__traceback__)
    if line is not None and "\n" in template.strip():
        reason += f" (template line {line})"
    return TemplateError(reason)


def _template_line(trace: TracebackType | None) -> int | None:
    """The template's line where rendering failed: Jinja2 rewrites its frames to point there."""
    line = None
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line
