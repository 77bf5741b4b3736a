"""Printing for the command line: JSON for scripts, plain tables for people.

Text that came from a model or a user is printed as it is, never as Rich markup.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from rich.console import Console
from rich.table import Table
from rich.text import Text


def print_json(value: Any) -> None:
    """Print `value` as indented JSON (dataclasses and Decimals included)."""
    sys.stdout.write(json.dumps(value, indent=2, default=_jsonable, ensure_ascii=False) + "\n")


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_GAP = 2
"""Columns between two columns of a table."""
_FLEXIBLE_AT_LEAST = 4
"""A flexible column keeps at least this many characters (its header's, if shorter)."""
_FLEXIBLE_WANTED = 12
"""Optional columns are left out while a flexible column would get fewer characters than
this (or than its widest cell, if shorter)."""


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    flexible: Collection[str] = (),
    optional: Sequence[str] = (),
) -> None:
    """A plain table; every cell is shown as inert text.

    Without `flexible` columns, every column shrinks alike when the table is wider than the
    terminal. With them, the other columns keep their widest cell whole, and the `flexible`
    ones share the room left, their longer cells cut with an ellipsis; the `optional` columns
    (the least needed first) are left out first, one by one, while the table would still be
    wider than the terminal.
    """
    cells = [[Text("" if cell is None else _cell(cell)) for cell in row] for row in rows]
    console = Console(highlight=False, soft_wrap=False, width=_table_width())
    table = Table(box=None, pad_edge=False, header_style="bold")
    if not flexible:
        for index, header in enumerate(headers):
            table.add_column(Text(header), overflow="fold", no_wrap=index != len(headers) - 1)
        for row in cells:
            table.add_row(*row)
        console.print(table)
        return
    natural = [
        max([len(header), *(row[index].cell_len for row in cells)])
        for index, header in enumerate(headers)
    ]
    shown = _fitting_columns(headers, natural, flexible, optional, console.width)
    widths = _widths(headers, natural, flexible, shown, console.width)
    for index in shown:
        table.add_column(Text(headers[index]), no_wrap=True, width=widths[index])
    for row in cells:
        for index in shown:
            row[index].truncate(widths[index], overflow="ellipsis")
        table.add_row(*(row[index] for index in shown))
    console.print(table)


def _table_width() -> int | None:
    """The terminal's width (None: Rich asks it); piped, `COLUMNS` if set, else 160."""
    if sys.stdout.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else 160


def _least(header: str, flexible: Collection[str], natural: int, at_least: int) -> int:
    """The fewest characters a column is given: all of a fixed one, `at_least` of a flexible
    one (or its header's, or its widest cell's, whichever is in between)."""
    return min(natural, max(len(header), at_least)) if header in flexible else natural


def _fitting_columns(
    headers: Sequence[str],
    natural: Sequence[int],
    flexible: Collection[str],
    optional: Sequence[str],
    width: int,
) -> list[int]:
    """The indexes of the columns to show: all, less `optional` ones (in order) while the
    fixed columns whole and the flexible ones at `_FLEXIBLE_WANTED` would be wider than
    `width`."""
    shown = list(range(len(headers)))
    for name in optional:
        least = [_least(headers[i], flexible, natural[i], _FLEXIBLE_WANTED) for i in shown]
        if sum(least) + _GAP * (len(shown) - 1) <= width:
            break
        shown = [i for i in shown if headers[i] != name]
    return shown


def _widths(
    headers: Sequence[str],
    natural: Sequence[int],
    flexible: Collection[str],
    shown: Sequence[int],
    width: int,
) -> dict[int, int]:
    """Each shown column's width: a fixed one its natural width; the flexible ones share
    what is left, the narrower ones whole, the rest evenly."""
    widths = {i: natural[i] for i in shown if headers[i] not in flexible}
    room = width - sum(widths.values()) - _GAP * (len(shown) - 1)
    bending = sorted((i for i in shown if headers[i] in flexible), key=lambda i: natural[i])
    for count, index in enumerate(bending):
        share = room // (len(bending) - count)
        least = _least(headers[index], flexible, natural[index], _FLEXIBLE_AT_LEAST)
        widths[index] = max(min(natural[index], share), least)
        room -= widths[index]
    return widths


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def say(line: str) -> None:
    """A line for the person on stderr (figures, notices), kept out of piped output."""
    _to_stderr(line + "\n")


def _to_stderr(text: str, flush: bool = False) -> None:
    """Write to stderr; when its reader has gone (`... 2>&1 | head -1`), drop this and what
    follows instead of raising: a run must not die half-way for a closed pipe."""
    try:
        sys.stderr.write(text)
        if flush:
            sys.stderr.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stderr.fileno())  # the buffered text is flushed there
        os.close(devnull)


def millis(value: float | None) -> str:
    """A duration in ms or s, or `-`."""
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def local_time(stamp: str | None) -> str:
    """A logged UTC time as the user's local `YYYY-MM-DD HH:MM:SS`."""
    if not stamp:
        return "-"
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def excerpt(text: str, width: int = 60) -> str:
    """One line of at most `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class StderrLine:
    """One line on stderr that updates in place, at most every `interval` seconds, only when
    stderr is a terminal; erased on `clear()` and when its `with` block ends."""

    def __init__(self, interval: float, enabled: bool = True) -> None:
        self._interval = interval
        self._live = enabled and sys.stderr.isatty()
        self._shown = 0.0

    def show(self, text: Callable[[], str], *, now: bool = False) -> None:
        """Replace the line with `text()` (`now`: even within `interval` of the last); the
        text is made only when it is shown (progress comes once a result)."""
        if not self._live or (not now and time.monotonic() - self._shown < self._interval):
            return
        self._shown = time.monotonic()
        _to_stderr("\r\033[K" + text(), flush=True)

    def clear(self) -> None:
        """Erase the line, if one is shown."""
        if self._live and self._shown:
            _to_stderr("\r\033[K", flush=True)
            self._shown = 0.0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.clear()
