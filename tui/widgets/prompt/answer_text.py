"""A growing answer, soft-wrapped, that re-wraps only its last line as text streams in.

A `Static` re-wraps and re-renders its whole text at every update: with a long answer that
is tens of milliseconds a repaint, on the event loop, while the user types. This widget keeps
the wrapped rows and renders only the rows on screen (the line API, as Textual's `Log`).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.content import Content
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from tui.text import inert


def wrap(line: str, width: int) -> list[str]:
    """`line` soft-wrapped at `width` cells as a `Static` would: at spaces, long words folded."""
    if not line or width < 1:
        return [line]
    return [row.plain for row in Content(line).wrap(width)]


class AnswerText(ScrollView):
    """Plain, inert text that grows at its end; follows the end unless scrolled up."""

    DEFAULT_CSS = """
    AnswerText { height: 1fr; overflow-x: hidden; overflow-y: auto; }
    """

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self._lines: list[str] = [""]  # the text made inert, split at newlines
        self._rows: list[str] = []  # `_lines` wrapped at `_width`
        self._last_rows = 0  # how many of `_rows` wrap the last line (it may still grow)
        self._width = 0
        self._strips: dict[int, Strip] = {}  # rendered rows, by row
        self._style = Style()
        self._content_width = 0

    @property
    def text(self) -> str:
        """The text shown (escape sequences and control characters made visible)."""
        return "\n".join(self._lines)

    @property
    def rows(self) -> list[str]:
        """The text as wrapped on screen, one string a row."""
        return self._rows

    def clear(self) -> None:
        """Show nothing."""
        self._lines = [""]
        self._rewrap_all()

    def write(self, piece: str) -> None:
        """Add `piece` at the end; only the rows of the last line are wrapped again."""
        if not piece:
            return
        following = self.is_vertical_scroll_end
        first, *rest = inert(piece).split("\n")
        self._lines[-1] += first
        self._lines.extend(rest)
        start = len(self._rows) - self._last_rows
        for row in range(start, len(self._rows)):
            self._strips.pop(row, None)
        del self._rows[start:]
        self._wrap_from(len(self._lines) - 1 - len(rest))
        self._changed(follow=following)

    def on_resize(self) -> None:
        self._fit_width()

    def watch_show_vertical_scrollbar(self) -> None:
        # The scrollbar takes columns from the text: wrap again, once the layout is done.
        self.call_after_refresh(self._fit_width)

    def _fit_width(self) -> None:
        if self.scrollable_content_region.width != self._width:
            self._rewrap_all()

    def _rewrap_all(self) -> None:
        self._width = self.scrollable_content_region.width
        self._rows = []
        self._wrap_from(0)
        self._strips.clear()
        self._changed(follow=True)

    def _wrap_from(self, first_line: int) -> None:
        """Append the rows of `_lines[first_line:]` to `_rows`."""
        for line in self._lines[first_line:]:
            wrapped = wrap(line, self._width)
            self._rows.extend(wrapped)
        self._last_rows = len(wrapped)

    def _changed(self, *, follow: bool) -> None:
        self.virtual_size = Size(self._width, len(self._rows))
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        # The style walks the ancestors' backgrounds: once a repaint, not once a row. Rows are
        # cached with their style (a theme change need not restyle this widget's own rules).
        style = self.rich_style
        if style != self._style:
            self._style = style
            self._strips.clear()
        self._content_width = self.scrollable_content_region.width
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        _, scroll_y = self.scroll_offset
        row = scroll_y + y
        width, style = self._content_width, self._style
        if row >= len(self._rows):
            return Strip.blank(width, style)
        return self._strip(row, style).crop_extend(0, width, style).apply_offsets(0, row)

    def _strip(self, row: int, style: Style) -> Strip:
        selection = self.text_selection
        cached = self._strips.get(row) if selection is None else None
        if cached is not None:
            return cached
        text = self._rows[row]
        if selection is None or (span := selection.get_span(row)) is None:
            strip = Strip([Segment(text, style)], cell_len(text))
            self._strips[row] = strip
            return strip
        start, end = span
        line = Text(text, style=style, no_wrap=True, end="")
        selected = self.screen.get_component_rich_style("screen--selection")
        line.stylize(selected, start, len(text) if end == -1 else end)
        return Strip(line.render(self.app.console), cell_len(text))

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract("\n".join(self._rows)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self._strips.clear()
        self.refresh()
