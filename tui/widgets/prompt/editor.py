"""The prompt editor: multi-line, with history on up/down at its first and last lines."""

from __future__ import annotations

from textual import events

from tui.widgets.inert_text_area import InertTextArea


class PromptEditor(InertTextArea):
    """A TextArea that recalls earlier prompts with up (on the first line) and down (last)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.prompt_history: list[str] = []
        self._position: int | None = None  # index into history while browsing it
        self._draft = ""

    def remember(self, prompt: str) -> None:
        """Add a sent prompt to the end of the history (no immediate duplicates)."""
        if prompt.strip() and (not self.prompt_history or self.prompt_history[-1] != prompt):
            self.prompt_history.append(prompt)
        self._position = None

    async def _on_key(self, event: events.Key) -> None:
        row = self.cursor_location[0]
        if event.key == "up" and row == 0 and self.prompt_history:
            event.prevent_default()
            event.stop()
            self._recall(-1)
            return
        if (
            event.key == "down"
            and row == self.document.line_count - 1
            and self._position is not None
        ):
            event.prevent_default()
            event.stop()
            self._recall(+1)
            return
        await super()._on_key(event)

    def _recall(self, step: int) -> None:
        if self._position is None:
            self._draft = self.text
            self._position = len(self.prompt_history)
        self._position = max(0, self._position + step)
        if self._position >= len(self.prompt_history):
            self._position = None
            self.load_text(self._draft)
        else:
            self.load_text(self.prompt_history[self._position])
        self.move_cursor(self.document.end)
