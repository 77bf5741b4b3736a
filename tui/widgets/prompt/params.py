"""The parameters form: validated as you type, the rule shown inline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label

from core.params import RequestParams
from core.validation import describe_errors

FIELDS = [
    ("temperature", "temp", "0"),
    ("max_tokens", "max tok", "512"),
    ("top_p", "top_p", ""),
    ("seed", "seed", ""),
]


class ParamsForm(Vertical):
    """Sampling parameters; `params` holds the last valid set, `error` the rule broken."""

    DEFAULT_CSS = """
    ParamsForm { height: auto; }
    ParamsForm Horizontal { height: 1; }
    ParamsForm Label { width: 8; color: $text-muted; }
    ParamsForm Input { width: 1fr; }
    ParamsForm #param-error { width: 1fr; color: $error; height: auto; }
    """

    @dataclass
    class Changed(Message):
        """The parameters changed; `error` is None when they are valid."""

        form: ParamsForm
        error: str | None

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.params: RequestParams | None = RequestParams(temperature=0, max_tokens=512)
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        for name, label, default in FIELDS:
            with Horizontal():
                yield Label(label)
                yield Input(default, id=f"param-{name}", compact=True, placeholder="default")
        yield Label("", id="param-error", markup=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.params, self.error = self._read()
        self.query_one("#param-error", Label).update(self.error or "")
        self.post_message(self.Changed(self, self.error))

    def _read(self) -> tuple[RequestParams | None, str | None]:
        raw: dict[str, Any] = {}
        for name, _, _ in FIELDS:
            value = self.query_one(f"#param-{name}", Input).value.strip()
            if value:
                raw[name] = value
        try:
            return RequestParams.model_validate(raw), None
        except ValidationError as error:
            return None, describe_errors(error)
