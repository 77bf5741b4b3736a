"""A footer that rebuilds its keys only when the keys to show change."""

from __future__ import annotations

from typing import Any

from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class SteadyFooter(Footer):
    """Textual's `Footer`, but a change of focus or of the screen stack that leaves the same
    keys to show does not rebuild it.

    Textual's footer composes nothing at first, then removes and mounts all its keys again
    whenever its screen's bindings may have changed, even while the screen is covered: a view
    of the Regressions pane pushed over it made the pane's footer and its own rebuild five
    times in their first 150 ms (focus, screen suspended and resumed...), ~35-60 ms each at
    a load of 2, while the rows the view waited for queued behind. This one composes its keys
    with its screen, and again only when they differ.
    """

    def __init__(self) -> None:
        super().__init__()
        self._composed: tuple[Any, ...] | None = None
        """What the keys on show were composed from (None: nothing composed yet)."""

    def compose(self):  # type: ignore[no-untyped-def]  # Footer's own is untyped
        self.set_reactive(Footer._bindings_ready, True)  # the screen's are, as it composes
        self._composed = self._keys_to_show()
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                # As the key's binding to the footer's `compact` sets it as it mounts, but
                # at once: the key is not restyled twice (~1 ms each).
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    async def recompose(self) -> None:
        if self._composed is not None and self._keys_to_show() == self._composed:
            return
        await super().recompose()

    def _keys_to_show(self) -> tuple[Any, ...] | None:
        """Everything `Footer.compose` builds the keys from (None before it is mounted)."""
        if not self.is_attached:
            return None
        active = self.screen.active_bindings
        shown = tuple(
            (binding, enabled, tooltip)
            for _, binding, enabled, tooltip in active.values()
            if binding.show
        )
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        return (shown, palette, self.show_command_palette, self.combine_groups)
