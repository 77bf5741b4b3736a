"""The parameters form: validated as you type, the rule shown inline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label

from tui.widgets.prompt.field import FieldInput

if TYPE_CHECKING:
    from textual.widget import AwaitMount

    from core.params import RequestParams

FIELDS = [
    ("temperature", "temp", "0"),
    ("max_tokens", "max tok", "512"),
    ("top_p", "top_p", ""),
    ("seed", "seed", ""),
]


class ParamsForm(Vertical):
    """Sampling parameters; `params` holds the last valid set, `error` the rule broken.

    The fields are mounted by `build`, which the pane calls after the console's first frame:
    four inputs are a quarter of the pane's cost to build (measured: ~150k Python calls of
    ~630k). Until then the form keeps their room, and `params` are the defaults.
    """

    DEFAULT_CSS = """
    ParamsForm {
        height: auto; layout: grid; grid-size: 2; grid-columns: 8 1fr; grid-rows: 1 1 1 1 auto;
    }
    ParamsForm.-pending { height: 5; }
    ParamsForm Label { color: $text-muted; }
    ParamsForm #param-error { column-span: 2; color: $error; height: auto; }
    """

    @dataclass
    class Changed(Message):
        """The parameters changed; `error` is None when they are valid."""

        form: ParamsForm
        error: str | None

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="-pending")
        self._params: RequestParams | None = None
        self._read_yet = False  # the fields are validated when first needed, not at start
        self.error: str | None = None
        self._values = {name: default for name, _, default in FIELDS}

    @property
    def params(self) -> RequestParams | None:
        """The parameters as typed, or None while they break a rule (see `error`)."""
        if not self._read_yet:
            self._params, self.error = self._read()
            self._read_yet = True
        return self._params

    def compose(self) -> ComposeResult:
        return ()  # the fields come with `build`

    def build(self, *, cursor_blink: bool = True) -> AwaitMount:
        """Mount the fields (once)."""
        self.remove_class("-pending")
        widgets: list[Label | FieldInput] = []
        for name, label, default in FIELDS:
            field = FieldInput(default, id=f"param-{name}", placeholder="default")
            field.cursor_blink = cursor_blink
            widgets += [Label(label), field]
        widgets.append(Label(self.error or "", id="param-error", markup=False))
        return self.mount_all(widgets)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        name = (event.input.id or "").removeprefix("param-")
        if self._values.get(name) == event.value:
            return  # a field reporting the value it was mounted with
        self._values[name] = event.value
        self._params, self.error = self._read()
        self._read_yet = True
        self.query_one("#param-error", Label).update(self.error or "")
        self.post_message(self.Changed(self, self.error))

    def _read(self) -> tuple[RequestParams | None, str | None]:
        from pydantic import ValidationError

        from core.params import RequestParams
        from core.validation import describe_errors

        raw: dict[str, Any] = {}
        for name, _, default in FIELDS:
            fields = self.query(f"#param-{name}").results(Input)
            value = next((field.value for field in fields), default).strip()
            if value:
                raw[name] = value
        try:
            return RequestParams.model_validate(raw), None
        except ValidationError as error:
            return None, describe_errors(error)
