"""The Jinja2 environment that renders promptfoo's nunjucks templates (filters and tags).

A sandbox (suites are user files: no way to Python internals), autoescape off and nunjucks'
white space (`trim_blocks` and `lstrip_blocks` off, the trailing newline kept). A variable that
is missing is refused when it is printed, iterated or looked into; a test of it (`{% if x %}`)
is false, as nunjucks has it, so an optional var works. Output values are written as in a
plain `{{ name }}` (see `core.evals.template`). nunjucks' filters that Jinja2 lacks or writes
otherwise are added (`dump`, `nl2br`, `round`, ...), and promptfoo's own `load` (JSON.parse).
The globals are nunjucks' own (`range`, `cycler`, `joiner`), and the work of one render is
bounded (`core.evals.nunjucks_limits`): a bound passed is a `LimitExceeded` naming it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache, wraps
from typing import Any

from jinja2 import StrictUndefined, Template, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing

from core.evals import nunjucks_limits as limits
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


class _BoundedCode(CodeGenerator):
    """Jinja2's code, with each loop's items counted and each `~` measured."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        counted = nodes.EnvironmentAttribute("counted_items", lineno=node.lineno)
        node.iter = nodes.Call(counted, [node.iter], [], None, None, lineno=node.lineno)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile or frame.eval_ctx.autoescape:
            super().visit_Concat(node, frame)
            return
        self.write("environment.joined((")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write("))")


class NunjucksEnvironment(ImmutableSandboxedEnvironment):
    """Jinja2's sandbox (vars read, never changed: a case cannot leak into the next one),
    reading fields as nunjucks does (a dict's key before its methods, `.length` of a text or a
    list), with the work of a render bounded: loops, calls, `*`, `**`, `+`, `~`, and `%` the
    remainder of two numbers only, as in nunjucks."""

    code_generator_class = _BoundedCode
    intercepted_binops = frozenset({"*", "**", "+", "%"})
    counted_items = staticmethod(limits.counted)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        if attribute == "length" and isinstance(obj, str | list | tuple):
            return len(obj)
        if isinstance(obj, str) and attribute in limits.FORMAT_METHODS:
            return self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            limits.check_repeat(left, right)
        elif operator == "**":
            limits.check_power(left, right)
        elif operator == "+":
            limits.check_sum(left, right)
        elif isinstance(left, str):
            raise ValueError(
                "'%' on a text: in nunjucks '%' is the remainder of two numbers, not formatting"
            )
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if __obj is limits.counted:  # a loop's items (`_BoundedCode`)
            return limits.counted(*args)
        limits.spend_steps()
        receiver = getattr(__obj, "__self__", None)
        if isinstance(receiver, str):
            limits.check_text_method(receiver, __obj.__name__, args)
        return limits.charged(super().call(__context, __obj, *args, **kwargs))

    @staticmethod
    def joined(parts: Iterable[Any]) -> str:
        """`a ~ b`: the parts as text, joined, their size counted."""
        texts = [str(part) for part in parts]
        limits.spend_work(sum(map(len, texts)))
        return "".join(texts)

    @staticmethod
    def concat(parts: Iterable[str]) -> str:
        """A macro's or a `{% set %}` block's text: measured before it is joined."""
        texts = list(parts)
        limits.spend_work(sum(map(len, texts)))
        return "".join(texts)


def _finalize(value: Any) -> Any:
    if isinstance(value, Undefined):
        return value
    text = as_text(value)
    limits.spend_work(len(text))
    return text


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
    texts = [written(item) for item in items]
    limits.spend_work(sum(map(len, texts)) + len(separator) * len(texts))
    return separator.join(texts)


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


class Cycler:
    """nunjucks' `cycler(a, b, ...)`: `next()` gives the items in turn; `current` is the last
    one given (none before the first `next()`); `reset()` starts again."""

    def __init__(self, *items: Any) -> None:
        self._items = items
        self._index = -1
        self.current: Any = None

    def next(self) -> Any:
        self._index = (self._index + 1) % len(self._items) if self._items else -1
        self.current = self._items[self._index] if self._items else None
        return self.current

    def reset(self) -> None:
        self._index = -1
        self.current = None


class Joiner:
    """nunjucks' `joiner(separator)`: calling it gives nothing the first time, then the
    separator (`,` by default)."""

    def __init__(self, separator: str = ",") -> None:
        self._separator = separator or ","
        self._first = True

    def __call__(self) -> str:
        was_first, self._first = self._first, False
        return "" if was_first else self._separator


def _measured(name: str, filter_: Callable[..., Any]) -> Callable[..., Any]:
    """`filter_`, its result counted as work (and checked first when it can grow)."""
    check = limits.FILTER_CHECKS.get(name)
    skip = 1 if hasattr(filter_, "jinja_pass_arg") else 0  # a context or environment first

    @wraps(filter_)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if check is not None:
            check(*args[skip:], **kwargs)
        result = filter_(*args, **kwargs)
        if isinstance(result, str | list | tuple | dict):
            limits.spend_work(len(result))
        return result

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
    del filters["format"]  # Python's `%` formatting: not in nunjucks, and widths unbounded
    for name, filter_ in filters.items():
        filters[name] = _measured(name, filter_)
    environment.globals.clear()  # Jinja2's: `lipsum`, `namespace`, `dict` are not nunjucks'
    environment.globals.update(range=limits.nunjucks_range, cycler=Cycler, joiner=Joiner)
    return environment


ENVIRONMENT = _environment()


def render_bounded(template: Template, variables: Mapping[str, Any]) -> str:
    """`template` rendered with `variables`, within the limits of one render.

    Raises:
        LimitExceeded: the render went beyond a limit (`core.evals.nunjucks_limits`).
    """
    with limits.OneRender():
        context = template.new_context(dict(variables))
        try:
            # Each part is either the template's own text or a value counted as work: the
            # list is bounded before it is measured and joined.
            parts = list(template.root_render_func(context))
        except Exception:
            template.environment.handle_exception()
    limits.check_output(sum(map(len, parts)))
    return "".join(parts)


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
