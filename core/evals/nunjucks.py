"""The Jinja2 environment that renders promptfoo's nunjucks templates (filters and tags).

A sandbox (suites are user files: no way to Python internals), autoescape off and nunjucks'
white space (`trim_blocks` and `lstrip_blocks` off, the trailing newline kept). A variable that
is missing is refused when it is printed, iterated or looked into; a test of it (`{% if x %}`)
is false, as nunjucks has it, so an optional var works. Output values are written as in a
plain `{{ name }}` (see `core.evals.template`). nunjucks' filters that Jinja2 lacks or writes
otherwise are added (`dump`, `nl2br`, `round`, ...), and promptfoo's own `load` (JSON.parse).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, meta, nodes
from jinja2.runtime import Undefined
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from core.evals.template import as_text, short


class MissingValue(StrictUndefined):
    """A missing variable or field: an error when used, false when tested (nunjucks)."""

    __slots__ = ()

    def __bool__(self) -> bool:  # type: ignore[override]
        return False

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        name = self._undefined_name
        if self._undefined_obj is missing:
            return f"variable {name!r} is not defined"
        return f"{name!r} is not in {short(as_text_safely(self._undefined_obj))}"


def as_text_safely(value: Any) -> str:
    """`as_text`, or the type's name for a value JSON cannot write."""
    try:
        return as_text(value)
    except (TypeError, ValueError):
        return type(value).__name__


class NunjucksEnvironment(SandboxedEnvironment):
    """Jinja2's sandbox, reading fields as nunjucks does: a dict's key before its methods,
    and `.length` of a text or a list."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        if attribute == "length" and isinstance(obj, str | list | tuple):
            return len(obj)
        return super().getattr(obj, attribute)


def _finalize(value: Any) -> Any:
    return value if isinstance(value, Undefined) else as_text(value)


def _defined(value: Any) -> Any:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


def written(value: Any) -> str:
    """nunjucks' `string`: the value as a prompt writes it (a missing one refused)."""
    return as_text(_defined(value))


def dump(value: Any, spaces: int | None = None) -> str:
    """nunjucks' `dump`: JSON.stringify (compact, or indented by `spaces`)."""
    value = _defined(value)
    if spaces:
        return json.dumps(value, ensure_ascii=False, indent=spaces)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load(text: Any) -> Any:
    """promptfoo's `load`: JSON.parse of a text."""
    text = _defined(text)
    if not isinstance(text, str):
        raise ValueError(f"load takes a JSON text, not {type(text).__name__}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"load: invalid JSON ({error.msg}) in {short(text)!r}") from None


def nunjucks_round(value: float, precision: int = 0, method: str = "common") -> float | int:
    """nunjucks' `round`: half up (`common`), `ceil` or `floor`; a whole number is written
    without `.0`, as JavaScript writes it."""
    factor = 10**precision
    rounders: dict[str, Callable[[float], float]] = {
        "ceil": math.ceil,
        "floor": math.floor,
        "common": lambda number: math.floor(number + 0.5),
    }
    result = rounders.get(method, rounders["common"])(float(value) * factor) / factor
    return int(result) if result.is_integer() else result


def nl2br(text: Any) -> str:
    """nunjucks' `nl2br`: a `<br />` before each line break."""
    return "" if text is None else re.sub(r"\r\n|\n", "<br />\n", str(_defined(text)))


def join(items: Iterable[Any], separator: str = "", attribute: str | None = None) -> str:
    """nunjucks' `join`, each item written as in a prompt (`true`, not `True`)."""
    items = _defined(items)
    if attribute is not None:
        items = (item.get(attribute) if isinstance(item, Mapping) else None for item in items)
    return separator.join(written(item) for item in items)


def truncate(text: Any, length: int = 255, killwords: bool = False, end: str | None = "...") -> str:
    """nunjucks' `truncate`: cut at the last space before `length` (or at `length` with
    `killwords`), then add `end`, not counted in `length`."""
    whole = "" if text is None else str(_defined(text))
    if len(whole) <= length:
        return whole
    space = whole.rfind(" ", 0, length + 1)
    cut = length if killwords or space < 0 else space
    return whole[:cut] + ("..." if end is None else end)


def _blank_none(filter_: Callable[..., Any]) -> Callable[..., Any]:
    """A text filter taking None as the empty text, as nunjucks' `normalize` does."""

    def wrapped(value: Any, *args: Any) -> Any:
        return filter_("" if value is None else value, *args)

    return wrapped


def _environment() -> NunjucksEnvironment:
    environment = NunjucksEnvironment(
        undefined=MissingValue,
        autoescape=False,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
        cache_size=0,  # `compiled` keeps its own cache
    )
    filters = environment.filters
    for name in ("upper", "lower", "capitalize", "title", "trim", "striptags", "wordcount"):
        filters[name] = _blank_none(filters[name])
    filters.update(
        dump=dump,
        load=load,
        round=nunjucks_round,
        nl2br=nl2br,
        join=join,
        truncate=truncate,
        string=written,
    )
    return environment


ENVIRONMENT = _environment()


@lru_cache(maxsize=1024)
def compiled(template: str) -> Template:
    """`template` compiled (cached: a suite renders the same few templates for every case).

    Raises:
        jinja2.TemplateSyntaxError: the template is not valid.
    """
    return ENVIRONMENT.from_string(template)


@lru_cache(maxsize=1024)
def top_level_names(template: str) -> tuple[str, ...]:
    """The variables `template` reads from its context, in order of first use: not its loop
    variables, `{% set %}` names or the environment's globals (`range`, ...).

    Raises:
        jinja2.TemplateSyntaxError: the template is not valid.
    """
    tree = ENVIRONMENT.parse(template)
    undeclared = meta.find_undeclared_variables(tree) - set(ENVIRONMENT.globals)
    names: dict[str, None] = {}
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name in undeclared:
            names.setdefault(node.name)
    return tuple(names)
