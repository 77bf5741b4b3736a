"""How the Regressions pane writes rates, scores, deltas, statuses and times."""

from __future__ import annotations

from rich.text import Text

from tui.text import money
from tui.widgets.usage.figures import local_time

RUN_STATUS_STYLES = {
    "completed": "",
    "running": "bold cyan",
    "interrupted": "yellow",
    "failed": "bold red",
}
RESULT_STYLES = {"pass": "green", "fail": "bold red", "error": "bold magenta"}
VERDICT_STYLES = {
    "regression": "bold white on red",
    "inconclusive": "bold black on yellow",
    "improved": "bold green",
    "unchanged": "bold",
    "no_baseline": "bold",
}
BASELINE_MARK = "★"


def rate(value: float | None) -> str:
    """A pass rate (0..1) as a percentage: `87.5%`; `-` when there is none."""
    return "-" if value is None else f"{value:.1%}"


def score(value: float | None) -> str:
    """A mean score (0..1) with three decimals; `-` when there is none."""
    return "-" if value is None else f"{value:.3f}"


def points(delta: float | None) -> str:
    """A change of pass rate in percentage points: `+2.5 pts`, `-10.0 pts`."""
    return "-" if delta is None else f"{delta * 100:+.1f} pts"


def signed(delta: float | None, unit: str = "", decimals: int = 3) -> str:
    """A signed change: `+0.125`, `-40 ms`; one that rounds to zero has no sign (`0 ms`)."""
    if delta is None:
        return "-"
    if round(delta, decimals) == 0:
        return f"{0:,.{decimals}f}{unit}"
    return f"{delta:+,.{decimals}f}{unit}"


def money_delta(delta: float | None) -> str:
    """A signed change of cost: `+$0.0012`, `-$0.3`, `$0`."""
    if delta is None:
        return "unknown"
    shown = money(abs(delta))
    return shown if delta == 0 else ("+" if delta > 0 else "-") + shown


def number(value: float | None) -> str:
    """A quantity rounded to a whole number: `1,240`; `-` when there is none."""
    return "-" if value is None else f"{value:,.0f}"


def ms(value: float | None) -> str:
    """Milliseconds, rounded: `740 ms`."""
    return "-" if value is None else f"{value:,.0f} ms"


def started(moment: str) -> str:
    """A run's start in local time, short: `11-28 12:00`."""
    return local_time(moment, "%m-%d %H:%M")


def day(moment: str | None) -> str:
    """A local date, short: `11-28`; `-` when there is none."""
    return "-" if moment is None else local_time(moment, "%m-%d")


def version(value: str) -> str:
    """A suite version (a SHA-256) cut to what people compare: 7 hex digits."""
    return value[:7]


def run_status(status: str) -> Text:
    """A run's status, coloured."""
    return Text(status, style=RUN_STATUS_STYLES.get(status, ""))


def result_status(status: str) -> Text:
    """A case result's status, coloured."""
    return Text(status, style=RESULT_STYLES.get(status, ""))
