"""DataTables whose one-line text cells are rendered straight into the lines DataTable would
make of them (~2.5x faster than through Rich: most of a frame of new rows), and whose styles
worked out from the CSS for every line are kept (see `QuickCells`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeGuard

from rich.cells import cell_len
from rich.console import Console
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import _EMPTY_TEXT


class QuickCells(DataTable[Text]):
    """A DataTable that renders its cells as DataTable does, faster (DataTable internals,
    Textual 8): one-line text cells and column labels straight into segments, row styles
    and the table's style kept while they stay."""

    _lines_style: Style | None = None
    """The table's style while its lines are rendered (see `rich_style`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._row_styles: dict[tuple[object, ...], Style] = {}
        """Row styles by kind of row, style and pseudo-classes (see `_get_row_style`)."""
        self._header_cells: dict[tuple[object, ...], list[list[Segment]]] = {}
        """Header cells rendered, by column, label, width and style (see `_header_cell`)."""

    def notify_style_update(self) -> None:
        self._row_styles.clear()
        self._header_cells.clear()
        super().notify_style_update()

    @property
    def rich_style(self) -> Style:
        """The table's style; while its lines are rendered, the one worked out at the start
        (DataTable asks for it again for every line: ~0.1 ms each, from the CSS)."""
        style = self._lines_style
        return super().rich_style if style is None else style

    def render_lines(self, crop: Region) -> list[Strip]:
        self._lines_style = super().rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._lines_style = None

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        """DataTable's, kept: Textual works it out from the CSS for every line it draws
        (~0.1 ms each, a few ms of a frame of new rows); it changes with the styles (a
        theme, see `notify_style_update`) and the table's pseudo-classes (focus) only."""
        kind = (row_index == -1, row_index < self.fixed_rows, row_index % 2, self.zebra_stripes)
        key = (*kind, base_style, self._pseudo_class_state)
        style = self._row_styles.get(key)
        if style is None:
            style = self._row_styles[key] = super()._get_row_style(row_index, base_style)
        return style

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """DataTable's, but a body cell of one line of text is rendered straight into the
        same segments (~2.5x faster: no Rich Padding, Styled and render_lines around it;
        most of a frame of new rows)."""
        args = (row_index, column_index, base_style, width, cursor, hover)
        if row_index == -1 and column_index >= 0 and self.header_height == 1:
            return self._header_cell(*args)
        if row_index < 0 or column_index < 0 or self.fixed_rows or self.fixed_columns:
            return super()._render_cell(*args)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return super()._render_cell(*args)
        cache_key = (
            *(row_key, column_key, base_style, cursor, hover),
            *(self._show_hover_cursor, self._update_count, self._pseudo_class_state),
        )  # as DataTable's
        lines = self._cell_render_cache.get(cache_key)
        if lines is None:
            cell = self._data[row_key][column_key]
            if _plain_line(cell) and self.rows[row_key].height == 1:
                lines = self._text_cell(cell, *args)
            lines = lines or super()._render_cell(*args)
            self._cell_render_cache[cache_key] = lines
        return lines

    def _header_cell(
        self,
        row: int,
        column: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """A column's label, as `_render_cell` renders it, kept while the labels, widths and
        styles stay (DataTable renders the header again whenever a row changes: ~2 ms of a
        frame of new rows, through Rich)."""
        label = self.ordered_columns[column].label
        if not _plain_line(label):
            return super()._render_cell(row, column, base_style, width, cursor, hover)
        key = (
            *(column, label.plain, label.justify, width, base_style, cursor, hover),
            *(self._show_hover_cursor, self._pseudo_class_state),
        )
        lines = self._header_cells.get(key)
        if lines is None:
            if label.plain:  # an empty label is not rendered as an empty body cell is
                lines = self._text_cell(label, row, column, base_style, width, cursor, hover, True)
            lines = lines or super()._render_cell(row, column, base_style, width, cursor, hover)
            if len(self._header_cells) > HEADER_CELLS:
                self._header_cells.clear()
            self._header_cells[key] = lines
        return lines

    def _text_cell(
        self,
        cell: Text,
        row: int,
        column: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
        header: bool = False,
    ) -> list[list[Segment]] | None:
        """`cell` (one line of text, see `_plain_line`, in a row one line high) as
        `DataTable._render_cell` renders it (None: too narrow for its padding); `header`:
        a column's label."""
        pad = self.cell_padding
        inner = width - 2 * pad
        if inner <= 0:
            return None
        component_style, post_style = self._get_styles_to_render_cell(
            header,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre_style = base_style + _cell_meta(row, column) + component_style
        if cell.plain:
            space = Segment(" " * pad, _NULL)
            line = [space, *_text_line(cell, inner, self.app.console), space]
        else:
            line = self._empty_line(width)
        return [list(Segment.apply_style(line, pre_style, post_style))]

    def _empty_line(self, width: int) -> list[Segment]:
        """An empty cell, as DataTable renders it (its text, whatever its style, replaced by
        one empty text), rendered once per width."""
        key = (width, self.cell_padding)
        line = _EMPTY_LINES.get(key)
        if line is None:
            options = self.app.console_options.update_dimensions(width, 1)
            padded = Padding(_EMPTY_TEXT, (0, self.cell_padding))
            line = self.app.console.render_lines(padded, options.update(no_wrap=True))[0]
            _EMPTY_LINES[key] = line
        return line


@lru_cache(maxsize=8192)
def _cell_meta(row: int, column: int) -> Style:
    """The style carrying a cell's place, as DataTable gives it (made once: Rich's sums of
    styles are cached by style, and a cell's is then found again the next time)."""
    return Style.from_meta({"row": row, "column": column})


_NULL = Style.null()
HEADER_CELLS = 256
"""Header cells kept at most (a few a column: its widths, the cursor and hover over it)."""
_EMPTY_LINES: dict[tuple[int, int], list[Segment]] = {}
"""Empty cells rendered by Rich, by width and padding."""
TEXT_JUSTIFY = frozenset({"default", "left", "right"})


def _plain_line(cell: object) -> TypeGuard[Text]:
    """Whether `cell` is text on one line, without tabs, justified as `TEXT_JUSTIFY` says."""
    return (
        isinstance(cell, Text)
        # an empty one (of any style) DataTable renders as one empty text: `_empty_line`
        and "\n" not in cell.plain
        and "\t" not in cell.plain
        and (cell.justify or "default") in TEXT_JUSTIFY
    )


def _text_line(cell: Text, width: int, console: Console) -> list[Segment]:
    """`cell` on one line of `width` cells, as `Text.__rich_console__` (no wrap) and
    `Console.render_lines` (padded) make it: made here for a text of one style that fits
    (most cells; ~4x faster than through Rich, see `_rich_text_line`)."""
    if cell.spans:
        return _rich_text_line(cell, width, console)
    plain = cell.plain.rstrip() if cell.justify == "right" else cell.plain
    gap = width - cell_len(plain)
    if gap < 0:
        return _rich_text_line(cell, width, console)
    # Rich renders the text's own style as a span over it all, padding included (if any).
    style = console.get_style(cell.style, default=_NULL) if cell.style else None
    if cell.justify == "left":
        return [Segment(plain + " " * gap, style)]
    if cell.justify == "right":
        return [Segment(" " * gap + plain, style)]
    return [Segment(plain, style), Segment(" " * gap, _NULL)] if gap else [Segment(plain, style)]


def _rich_text_line(cell: Text, width: int, console: Console) -> list[Segment]:
    """`_text_line`, through Rich: any text (of one line)."""
    overflow = cell.overflow or "fold"
    text = cell.copy()
    if cell.justify == "left":
        text.truncate(width, overflow=overflow, pad=True)
    elif cell.justify == "right":
        text.rstrip()
        text.truncate(width, overflow=overflow)
        text.pad_left(width - text.cell_len)
    text.truncate(width, overflow=overflow)
    segments = list(Text("\n").join([text]).render(console))
    return Segment.adjust_line_length(segments, width, style=_NULL, pad=True)
