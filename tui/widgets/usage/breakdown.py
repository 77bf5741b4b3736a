"""Totals of the last 30 days broken down by model, by profile or by day (`b` cycles)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from storage.records import UsageRow
from tui.text import money
from tui.widgets.usage.figures import count, one_line, tokens

COLUMNS = (  # label, key, width: fixed, so a new breakdown never shifts the columns
    ("calls", "calls", 6),
    ("tokens", "tokens", 7),
    ("cost", "cost", 8),
    ("unpriced", "unpriced", 8),
    ("errors", "errors", 6),
)
NAME_WIDTH = 16
TITLES = {"model": "by model", "profile": "by profile", "day": "by day"}


class UsageBreakdown(DataTable[Text]):
    """A small table of `UsageRow`s; its border title says what it is broken down by."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, show_cursor=False, **kwargs)

    def show(self, by: str, rows: list[UsageRow], days: int = 30) -> None:
        """Show `rows` (groups of `by`)."""
        self.border_title = f"{TITLES.get(by, by)} · last {days} days"
        self.border_subtitle = "b cycles"
        self.clear(columns=True)
        self.add_column(by, key="name", width=NAME_WIDTH)
        for label, key, width in COLUMNS:
            self.add_column(label, key=key, width=width)
        for row in rows:
            self.add_row(*cells(row), key=row.group)
        if not rows:
            self.add_row(Text("no calls", style="dim"), *(Text("") for _ in COLUMNS))


def cells(row: UsageRow) -> list[Text]:
    """The cells of one group's row (the group is untrusted: a model or profile name)."""
    return [
        one_line(row.group, NAME_WIDTH),
        Text(count(row.calls), justify="right"),
        Text(tokens(row.prompt_tokens + row.completion_tokens), justify="right"),
        Text(money(row.cost_usd), justify="right"),
        Text(
            count(row.unpriced_calls), justify="right", style="yellow" if row.unpriced_calls else ""
        ),
        Text(count(row.errors), justify="right", style="red" if row.errors else ""),
    ]
