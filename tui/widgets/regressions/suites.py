"""The suites on the left: name, newest version, runs and the day of the last run."""

from __future__ import annotations

from typing import Any

from rich.console import JustifyMethod
from rich.text import Text
from textual import events

from storage.eval_records import SuiteListing
from tui.widgets.regressions.figures import day, version
from tui.widgets.regressions.quick_cells import QuickCells
from tui.widgets.usage.figures import one_line

COLUMNS = (  # key, label, width: fixed, so a new listing never shifts the columns
    ("name", "suite", 13),
    ("version", "version", 7),
    ("runs", "runs", 5),
    ("last", "last", 5),
)


class SuiteTable(QuickCells):
    """Every suite name (a few dozen at most: the whole list is shown), keyed by name; its
    cells rendered straight (`QuickCells`: a screen of suites ~25 -> ~8 ms of a frame)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.suites: list[SuiteListing] = []

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            justify: JustifyMethod = "right" if key == "runs" else "left"
            self.add_column(Text(label, justify=justify), key=key, width=width)
        self.border_title = "suites"

    def show(self, suites: list[SuiteListing], selected: str | None) -> None:
        """List `suites`; the cursor goes to `selected` if it is there, else to the first."""
        self.suites = suites
        self.clear()
        for suite in suites:
            self.add_row(*cells(suite), key=suite.name)
        names = [suite.name for suite in suites]
        if selected in names:
            self.move_cursor(row=names.index(selected), scroll=True)

    def on_resize(self, event: events.Resize) -> None:
        # A smaller box (a narrower or shorter terminal) keeps the selected suite in view:
        # the runs listed are its runs.
        self.call_after_refresh(self.scroll_to_cursor)

    def scroll_to_cursor(self) -> None:
        """Scroll the suite under the cursor into view."""
        if self.row_count:
            self.move_cursor(row=self.cursor_row, animate=False, scroll=True)

    def suite_at_cursor(self) -> SuiteListing | None:
        """The suite under the cursor, if any."""
        if not self.suites or not 0 <= self.cursor_row < len(self.suites):
            return None
        return self.suites[self.cursor_row]


def cells(suite: SuiteListing) -> list[Text]:
    """The row of one suite; its name came from a file: shown inert."""
    return [
        one_line(suite.name, COLUMNS[0][2]),
        Text(version(suite.latest_version), style="dim"),
        Text(f"{suite.run_count:,}", justify="right"),
        Text(day(suite.last_run_at)),
    ]
