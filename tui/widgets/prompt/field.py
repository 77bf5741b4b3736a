"""A compact one-line input whose typing repaints only itself."""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class FieldInput(Input):
    """A compact `Input` in a fixed-size box: a keystroke does not lay the screen out again.

    Textual's `Input` sets its virtual width to the length of its value at every keystroke, and
    a changed virtual size asks for a layout of the screen (measured: ~5-10 ms a key on the
    Prompt pane). The box of a single-line field never depends on its value: the text scrolls
    inside it, which needs the new virtual size but no layout.
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(
        self,
        value: str = "",
        *,
        placeholder: str = "",
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(value, placeholder=placeholder, id=id)
        # As `compact=True`, without restyling the field before it is even mounted.
        self.set_reactive(Input.compact, True)
        self.add_class("-textual-compact", update=False)
