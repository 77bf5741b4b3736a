"""One example in full, read from the file at its line, with the flagged text marked.

Model and user text is shown inert: escape sequences and markup are visible, never interpreted.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.text import inert

if TYPE_CHECKING:  # the engine is imported off the event loop, by the pane's workers
    from core.data.problems import Problem

FLAG_STYLE = "bold reverse red"
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def field_at(obj: Any, where: str) -> Any:
    """The value at `where` (`messages[2].content`) in `obj`, or None when it is not there."""
    value = obj
    for name, index in _PART.findall(where):
        if name and isinstance(value, dict):
            value = value.get(name)
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return None
    return value


def flagged(text: str, span: tuple[int, int] | None) -> Text:
    """`text` shown inert, with the characters of `span` marked."""
    if span is None:
        return Text(inert(text))
    start, end = span
    shown = Text(inert(text[:start]))
    shown.append(inert(text[start:end]), style=FLAG_STYLE)
    shown.append(inert(text[end:]))
    return shown


def example_text(problem: Problem, data: bytes | None) -> Text:
    """What the example view shows: the flagged field first, then the whole line."""
    if data is None:
        return Text("this line cannot be shown: it is too long to read safely, or gone")
    line = data.decode("utf-8", errors="replace")
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return Text(inert(line))
    shown = Text()
    value = field_at(obj, problem.where) if problem.where else None
    if isinstance(value, str):
        shown.append(f"{problem.where}:\n", style="bold")
        shown.append_text(flagged(value, problem.span))
        shown.append("\n\nthe whole example:\n", style="bold")
    shown.append(inert(json.dumps(obj, indent=2, ensure_ascii=False)))
    return shown


class TextView(ModalScreen[None]):
    """A title and a text in a scrollable box; escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    TextView { align: center middle; }
    TextView > Vertical {
        width: 90%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    TextView #view-title { height: auto; width: 1fr; text-style: bold; }
    TextView VerticalScroll { height: 1fr; }
    """

    def __init__(self, title: str, text: Text) -> None:
        super().__init__()
        self.title_line = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(inert(self.title_line), id="view-title", markup=False)
            with VerticalScroll():
                yield Static(self.text, id="view-text", markup=False)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()


class ExampleView(TextView):
    """The example of a problem's line, in full, its flagged text marked; escape closes."""

    def __init__(self, problem: Problem, data: bytes | None) -> None:
        title = f"line {problem.line} · {problem.kind} · {problem.message}"
        super().__init__(title, example_text(problem, data))
        self.problem = problem
