"""What one render of a nunjucks template may do, so that a shared suite cannot freeze the
console or fill the memory (templates render on the caller's thread, for every case).

Counted in one render: loop items, `range` items and calls (`MAX_STEPS`); the characters
(or items) made by operators, filters, calls and `{{ }}` writes (`MAX_WORK`); the rendered text
(`MAX_OUTPUT`). A repetition (`'=' * 80`) may make up to `MAX_REPEAT`, a power up to
`MAX_POWER_BITS` bits (a JavaScript number stops at 2**1024). Each is checked before the value
is built wherever its size is known in advance, so a refusal is quick.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sized
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

MAX_STEPS = 1_000_000
MAX_WORK = 100_000_000
MAX_OUTPUT = 10_000_000
MAX_REPEAT = 1_000_000
MAX_POWER_BITS = 1024


class LimitExceeded(ValueError):
    """A render went beyond one of the limits; the message names it."""


@dataclass
class Budget:
    """What one render has spent so far."""

    steps: int = 0
    work: int = 0


_CURRENT: ContextVar[Budget | None] = ContextVar("nunjucks_budget", default=None)


class OneRender:
    """`with OneRender():` a fresh budget for the render that runs inside the block."""

    def __enter__(self) -> Budget:
        budget = Budget()
        self._token = _CURRENT.set(budget)
        return budget

    def __exit__(self, *_: object) -> None:
        _CURRENT.reset(self._token)


def spend_steps(count: int = 1) -> None:
    """Count loop items, range items or calls.

    Raises:
        LimitExceeded: the render went beyond `MAX_STEPS`.
    """
    budget = _CURRENT.get()
    if budget is None:
        return
    budget.steps += count
    if budget.steps > MAX_STEPS:
        raise LimitExceeded(
            f"the template does more than {MAX_STEPS:,} loop items or calls in one render"
        )


def spend_work(size: int) -> None:
    """Count the characters (or items) of a value about to be made.

    Raises:
        LimitExceeded: the render went beyond `MAX_WORK`.
    """
    budget = _CURRENT.get()
    if budget is None:
        return
    budget.work += size
    if budget.work > MAX_WORK:
        raise LimitExceeded(
            f"the template builds more than {MAX_WORK:,} characters of text in one render"
        )


def size_of(value: Any) -> int:
    """The characters of a text, the items of a list or dict, else 0."""
    return len(value) if isinstance(value, str | list | tuple | dict) else 0


def charged(value: Any) -> Any:
    """`value`, its size counted as work."""
    spend_work(size_of(value))
    return value


def counted(iterable: Iterable[Any]) -> Iterable[Any]:
    """The items of a `{% for %}` loop, each counted as a step (all at once for a list)."""
    if isinstance(iterable, Sized):
        spend_steps(len(iterable))
        return iterable
    return _counted_one_by_one(iterable)


def _counted_one_by_one(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        spend_steps()
        yield item


def check_output(length: int) -> None:
    """Refuse a rendered text longer than `MAX_OUTPUT`."""
    if length > MAX_OUTPUT:
        raise LimitExceeded(f"the rendered text is longer than {MAX_OUTPUT:,} characters")


def nunjucks_range(start: float, stop: float | None = None, step: float | None = None) -> list[Any]:
    """nunjucks' `range`: a list (`range(3)`, `range(1, 7, 2)`; a step of 0 counts as 1),
    its items counted as steps.

    Raises:
        LimitExceeded: more items than the render has steps left.
    """
    if stop is None:
        start, stop, step = 0, start, 1
    elif not step:
        step = 1
    spend_steps(max(0, math.ceil((stop - start) / step)))
    if all(isinstance(number, int) for number in (start, stop, step)):
        return list(range(int(start), int(stop), int(step)))
    items: list[Any] = []
    number = start
    while number < stop if step > 0 else number > stop:
        items.append(int(number) if float(number).is_integer() else number)  # 1, not 1.0 (JS)
        number += step  # added up as nunjucks does, so the same rounding
    return items


def check_repeat(left: Any, right: Any) -> None:
    """Refuse `text * n` or `list * n` making more than `MAX_REPEAT`, and a product of two
    whole numbers wider than `MAX_POWER_BITS`."""
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(times, int):
            made = len(sequence) * max(times, 0)
            if made > MAX_REPEAT:
                raise LimitExceeded(f"a repetition would make {made:,} (limit {MAX_REPEAT:,})")
            spend_work(made)
            return
    if _whole(left) and _whole(right) and left.bit_length() + right.bit_length() > MAX_POWER_BITS:
        raise LimitExceeded(f"a product is beyond 2**{MAX_POWER_BITS} (JavaScript's numbers)")


def check_power(base: Any, exponent: Any) -> None:
    """Refuse a whole-number power beyond 2**`MAX_POWER_BITS`, where JavaScript's numbers end."""
    if not (_whole(base) and _whole(exponent) and abs(base) > 1 and exponent > 0):
        return
    if exponent * math.log2(abs(base)) > MAX_POWER_BITS:
        raise LimitExceeded(f"a power is beyond 2**{MAX_POWER_BITS} (JavaScript's numbers)")


def check_sum(left: Any, right: Any) -> None:
    """Count the text or list a `+` or `~` makes."""
    spend_work(size_of(left) + size_of(right))


def check_width(width: Any) -> None:
    """Refuse a padding or indent width above `MAX_REPEAT`."""
    if _whole(width) and width > MAX_REPEAT:
        raise LimitExceeded(f"a width of {width:,} is above the limit of {MAX_REPEAT:,}")


def check_replace(text: Any, old: Any, new: Any) -> None:
    """Count the text a replace makes (each of `old` in `text` by `new`) before making it."""
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        found = text.count(old) if old else len(text) + 1
        spend_work(len(text) + found * len(new))


# Text methods that take a width (a padding) or are Python's formatting, unbounded and not
# in JavaScript.
WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
FORMAT_METHODS = frozenset({"format", "format_map"})


def check_text_method(text: str, name: str, args: tuple[Any, ...]) -> None:
    """Measure what a text method would make, before it makes it."""
    if name in WIDTH_METHODS and args and isinstance(args[0], int):
        check_width(args[0])
        times = text.count("\t") if name == "expandtabs" else 1
        spend_work(len(text) + args[0] * times)
    elif name == "replace" and len(args) >= 2:
        check_replace(text, args[0], args[1])
    elif name == "join" and args and isinstance(args[0], list | tuple):
        spend_work(len(text) * len(args[0]))


def _check_center(text: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    check_width(width)
    spend_work(width if isinstance(width, int) else 0)


def _check_indent(text: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    if isinstance(text, str):
        step = width if isinstance(width, int) else len(str(width))
        check_width(step)
        spend_work(len(text) + step * (text.count("\n") + 1))


def _check_count(value: Any, count: Any = 1, *_: Any, **__: Any) -> None:
    check_width(count)


def _check_replace(text: Any, old: Any = "", new: Any = "", *_: Any, **__: Any) -> None:
    check_replace(text, old, new)


def _check_wordwrap(text: Any, width: Any = 79, *args: Any, **kwargs: Any) -> None:
    wrap = kwargs.get("wrapstring") or (args[1] if len(args) > 1 else None) or "\n"
    if isinstance(text, str) and isinstance(width, int) and isinstance(wrap, str):
        spend_work(len(text) + (len(text) // max(width, 1) + 1) * len(wrap))


# Filters that can make much more than they are given: what they would make is measured first.
FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": _check_center,
    "indent": _check_indent,
    "batch": _check_count,
    "slice": _check_count,
    "replace": _check_replace,
    "wordwrap": _check_wordwrap,
}


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
