"""The help screen: every key binding of the pane it was opened from."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

GLOBAL_KEYS = [
    ("1 / alt+1 / f2", "Prompt pane"),
    ("2 / alt+2 / f3", "Cache pane"),
    ("3 / alt+3 / f4", "Usage pane"),
    ("4 / alt+4 / f5", "Regressions pane"),
    ("5 / alt+5 / f6", "Data pane"),
    ("ctrl+p", "Command palette: every action"),
    ("? / f1", "This help"),
    ("ctrl+q", "Quit"),
]


class HelpScreen(ModalScreen[None]):
    """Lists the global keys and those of the current pane."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; max-height: 90%; height: auto; border: thick $primary; background: $surface;
        padding: 0 1;
    }
    HelpScreen DataTable { height: auto; }
    """

    def __init__(self, pane: str, pane_keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.pane = pane
        self.pane_keys = pane_keys

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label("[b]tunedeck keys[/b] (escape closes)")
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_column("key", key="key")
            table.add_column("action", key="action")
            for key, action in GLOBAL_KEYS:
                table.add_row(key, action)
            for key, action in self.pane_keys:
                table.add_row(key, f"{self.pane}: {action}")
            yield table
