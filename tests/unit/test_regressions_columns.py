"""The Regressions tables' cells: made when first read, and one-line cells rendered as Rich
renders them."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets.data_table import ColumnKey

from tui.widgets.regressions.lazy_cells import LazyCells
from tui.widgets.regressions.quick_cells import _rich_text_line, _text_line

CONSOLE = Console(width=80, color_system="truecolor", force_terminal=True)


def simplified(segments: list[Segment]) -> list[tuple[str, Style | None]]:
    """The segments merged where their styles are equal (as a Strip simplifies them)."""
    merged: list[tuple[str, Style | None]] = []
    for text, style, _ in Segment.simplify(segments):
        merged.append((text, None if style is not None and style == Style.null() else style))
    return merged


CELLS = [
    Text("c-berlin"),
    Text("c-berlin", style="bold red"),
    Text("pass", style=Style(color="green", bold=True)),
    Text("0.85", justify="right"),
    Text("0.85  ", justify="right", style="dim"),
    Text("   ", justify="right"),
    Text("every result", justify="left", style="italic"),
    Text("東京 tokyo", style="bold"),
    Text("a long answer that will not fit in the column at all", style="cyan"),
    Text("a long answer", overflow="ellipsis", justify="left"),
    Text.assemble(("▼ ", "bold red"), ("broke", "red")),
]


@pytest.mark.parametrize("cell", CELLS, ids=[cell.plain or "blank" for cell in CELLS])
@pytest.mark.parametrize("width", [1, 4, 8, 12, 30])
def test_a_cell_renders_as_rich_renders_it(cell: Text, width: int) -> None:
    fast = _text_line(cell, width, CONSOLE)
    assert simplified(fast) == simplified(_rich_text_line(cell, width, CONSOLE))
    assert Segment.get_line_length(fast) == width


def test_cells_are_made_once_when_first_read_and_a_cell_set_before_is_kept() -> None:
    made: list[int] = []
    columns = (ColumnKey("a"), ColumnKey("b"))

    def make() -> list[str]:
        made.append(1)
        return ["first", "second"]

    cells = LazyCells(columns, make)
    assert not cells.made() and not made
    cells[ColumnKey("b")] = "set before"  # as DataTable.update_cell does
    assert cells[ColumnKey("a")] == "first"
    assert cells[ColumnKey("b")] == "set before"
    assert set(cells.values()) == {"set before", "first"}
    assert cells.get(ColumnKey("a")) == "first" and len(cells) == 2 and made == [1]
    with pytest.raises(KeyError):
        cells[ColumnKey("c")]


def test_cells_read_by_iteration_are_made() -> None:
    cells = LazyCells((ColumnKey("a"),), lambda: ["only"])
    assert list(cells) == [ColumnKey("a")] and dict(cells.items()) == {ColumnKey("a"): "only"}


def test_a_row_of_the_wrong_length_is_refused_when_read_every_time() -> None:
    cells = LazyCells((ColumnKey("a"), ColumnKey("b")), lambda: ["only one"])
    for _ in range(2):  # not left half made, to fail later with a KeyError
        with pytest.raises(ValueError):
            cells[ColumnKey("a")]
    assert not cells.made()


def test_a_column_removed_from_a_row_never_drawn_is_removed() -> None:
    columns = (ColumnKey("a"), ColumnKey("b"))
    for remove in ("del", "pop"):
        cells = LazyCells(columns, lambda: ["first", "second"])
        if remove == "del":
            del cells[ColumnKey("a")]  # as DataTable.remove_column does
        else:
            assert cells.pop(ColumnKey("a")) == "first"
        assert cells.copy() == {ColumnKey("b"): "second"}
