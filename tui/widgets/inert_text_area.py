"""A TextArea that never draws a control character to the terminal."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import TextArea

from tui.text import CONTROL_CHARACTERS


class InertTextArea(TextArea):
    """A TextArea whose text may hold escape sequences (pasted, or a prompt recalled from the
    log) without the terminal acting on them: its text stays as given (a prompt is sent as
    pasted), but its lines are drawn without control characters. They take no cell on screen
    (Rich counts them zero wide), so leaving them out moves nothing: cursor, selection and
    wrapping stay where the TextArea puts them."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if not any(CONTROL_CHARACTERS.search(segment.text) for segment in strip):
            return strip
        segments = [
            Segment(CONTROL_CHARACTERS.sub("", text), style, control)
            for text, style, control in strip
        ]
        return Strip(segments, strip.cell_length)
