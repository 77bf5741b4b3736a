"""Totals for today, 7 days and 30 days: calls, tokens, cost (unpriced calls counted), errors,
cache savings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from storage.records import UsageRow
from tui.text import money
from tui.widgets.usage.figures import count, tokens

HEADERS = ("", "calls", "in tok", "out tok", "cost", "unpriced", "errors", "hits", "saved")


class UsageTotals(Static):
    """A small table, one row per period; `show()` fills it."""

    def on_mount(self) -> None:
        self.update(Text("loading totals…", style="dim"))

    def show(self, rows: list[UsageRow]) -> None:
        """Show the totals of each period (`UsageRow.group` is the period's name)."""
        table = Table(box=None, pad_edge=False, expand=False, header_style="bold")
        for index, header in enumerate(HEADERS):
            table.add_column(header, justify="left" if index == 0 else "right", no_wrap=True)
        for row in rows:
            table.add_row(*cells(row))
        self.update(table)


def cells(row: UsageRow) -> list[Text]:
    """The cells of one period's row."""
    unpriced = Text(count(row.unpriced_calls), style="bold yellow" if row.unpriced_calls else "")
    return [
        Text(row.group, style="bold"),
        Text(count(row.calls)),
        Text(tokens(row.prompt_tokens)),
        Text(tokens(row.completion_tokens)),
        Text(money(row.cost_usd) + ("+" if row.unpriced_calls else "")),
        unpriced,
        Text(count(row.errors), style="bold red" if row.errors else ""),
        Text(count(row.cache_hits)),
        Text(money(row.cost_saved_usd)),
    ]
