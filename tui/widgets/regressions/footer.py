"""A footer that shows only the keys that fit whole: help first, then the screen's own."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets._footer import FooterKey

from tui.widgets.footer import SteadyFooter

HELP_ACTION = "help"
"""The app's key that lists every key (the help screen): the last key a footer hides."""


class FittingFooter(SteadyFooter):
    """`SteadyFooter`, but a key that would be cut at the right edge is hidden instead: help
    (`?`, which lists every key) stays, then the screen's own keys, in their order, then the
    app's (at 80 columns the Regressions pane's footer read `n New ru`)."""

    def on_resize(self, event: events.Resize) -> None:
        self.fit()

    async def recompose(self) -> None:
        await super().recompose()
        self.fit()

    def fit(self) -> None:
        """Show the keys that fit in the footer's width, by priority (`_priority`)."""
        width = self.size.width
        if not width:
            return  # not laid out yet (a view built ahead): at its first Resize
        keys = list(self.query_children(FooterKey))
        palette = [key for key in keys if key.has_class("-command-palette")]
        room = width - sum(_width(key) for key in palette)
        shown: set[FooterKey] = set()
        for key in sorted((k for k in keys if k not in palette), key=self._priority):
            if _width(key) <= room:
                shown.add(key)
                room -= _width(key)
            else:
                room = 0  # later keys neither: no gap where a key went
        for key in keys:
            if key not in palette and key.display != (key in shown):
                key.display = key in shown  # each change lays the footer out again

    def _priority(self, key: FooterKey) -> int:
        """0: help (it lists every key); 1: the screen's own keys; 2: the app's others (the
        sort keeps the order within each)."""
        own = {b.action for b in type(self.screen).BINDINGS if isinstance(b, Binding)}
        return 0 if key.action == HELP_ACTION else 1 if key.action in own else 2


def _width(key: FooterKey) -> int:
    """The cells `key` takes on the footer's line (hidden or not), measured once."""
    width = getattr(key, "_fitting_width", None)
    if width is None:
        width = key.render().cell_len + key.styles.gutter.width + key.styles.margin.width
        key._fitting_width = width  # type: ignore[attr-defined]
    return width
