"""How the Usage pane writes numbers, times and untrusted one-line text."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from tui.text import inert


def count(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"


def tokens(value: int | None) -> str:
    """A token count short enough for a narrow column: `9,999`, `12.3k`, `4.56M`."""
    if value is None:
        return "-"
    if value < 10_000:
        return f"{value:,}"
    if value < 1_000_000:
        return f"{value / 1000:.1f}k"
    return f"{value / 1_000_000:.2f}M"


def local_time(moment: str, pattern: str = "%m-%d %H:%M") -> str:
    """A logged UTC ISO time in the user's local time."""
    try:
        return datetime.fromisoformat(moment).astimezone().strftime(pattern)
    except ValueError:
        return inert(moment)


def one_line(text: str, width: int) -> Text:
    """Untrusted text on one line, inert, cut to `width` characters (with an ellipsis)."""
    line = " ".join(inert(text).split())
    if len(line) > width:
        line = line[: width - 1] + "…"
    return Text(line, no_wrap=True)


def milliseconds(value: float | None) -> str:
    """A duration in ms as people read it: `850 ms`, `1.2 s`."""
    if value is None:
        return "-"
    return f"{value:,.0f} ms" if value < 1000 else f"{value / 1000:,.1f} s"
