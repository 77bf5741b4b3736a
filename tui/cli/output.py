"""Printing for the command line: JSON for scripts, plain tables for people.

Text that came from a model or a user is printed as it is, never as Rich markup.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
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


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain table; every cell is shown as inert text."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for index, header in enumerate(headers):
        last = index == len(headers) - 1
        table.add_column(Text(header), overflow="fold", no_wrap=not last)
    for row in rows:
        table.add_row(*(Text("" if cell is None else _cell(cell)) for cell in row))
    width = None if sys.stdout.isatty() else 160
    Console(highlight=False, soft_wrap=False, width=width).print(table)


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def say(line: str) -> None:
    """A line for the person on stderr (figures, notices), kept out of piped output."""
    sys.stderr.write(line + "\n")


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
        sys.stderr.write("\r\033[K" + text())
        sys.stderr.flush()

    def clear(self) -> None:
        """Erase the line, if one is shown."""
        if self._live and self._shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
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
