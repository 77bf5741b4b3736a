"""The dialog that starts a run: suite file, model, profile, concurrency and baseline.

Each field is checked when the user asks to start; the first problem is shown under the fields
(naming the field and the rule) and the dialog stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

MAX_CONCURRENCY = 256


@dataclass(frozen=True)
class RunRequest:
    """What the user asked to run."""

    suite_path: Path
    model: str
    profile: str
    concurrency: int
    baseline: int | str | None = None
    """A run id, a model (its pinned or latest completed run), or None."""


@dataclass(frozen=True)
class RunDefaults:
    """What the dialog starts with."""

    suite_path: str
    model: str
    profile: str
    profiles: list[str]
    concurrency: int = 8
    baseline: str = ""


class StartRunDialog(ModalScreen[RunRequest | None]):
    """Dismisses with a `RunRequest`, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    StartRunDialog { align: center middle; }
    StartRunDialog #start-box {
        width: 76; max-width: 100%; height: auto; border: thick $primary; background: $surface;
        padding: 0 1;
    }
    StartRunDialog Grid { grid-size: 2; grid-columns: 13 1fr; grid-rows: 1; grid-gutter: 1 1;
        height: auto; margin-top: 1; }
    StartRunDialog Grid > Label { width: 100%; text-align: right; color: $text-muted; }
    StartRunDialog #start-error { color: $error; height: auto; margin-top: 1; }
    StartRunDialog #start-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    StartRunDialog Button { margin-left: 2; }
    """

    def __init__(self, defaults: RunDefaults) -> None:
        super().__init__()
        self.defaults = defaults

    def compose(self) -> ComposeResult:
        d = self.defaults
        with Vertical(id="start-box") as box:
            box.border_title = "Run a suite"
            with Grid():
                yield Label("suite file")
                yield Input(d.suite_path, placeholder="path to a suite (.yaml, .jsonl)",
                            id="start-path", compact=True)  # fmt: skip
                yield Label("model")
                yield Input(d.model, placeholder="model name", id="start-model", compact=True)
                yield Label("profile")
                options = [(name, name) for name in d.profiles]
                yield Select(options, value=d.profile, allow_blank=False, id="start-profile",
                             compact=True)  # fmt: skip
                yield Label("concurrency")
                yield Input(str(d.concurrency), type="integer", id="start-concurrency",
                            compact=True)  # fmt: skip
                yield Label("baseline")
                yield Input(d.baseline, placeholder="optional: a run id or a model",
                            id="start-baseline", compact=True)  # fmt: skip
            yield Label("", id="start-error", markup=False)
            with Horizontal(id="start-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Start (enter)", id="start", variant="primary")

    def on_mount(self) -> None:
        field = "#start-path" if not self.defaults.suite_path else "#start-model"
        self.query_one(field, Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_start(self) -> None:
        """Check the fields; start the run, or show the first problem."""
        try:
            request = self.request()
        except ValueError as problem:
            self.query_one("#start-error", Label).update(str(problem))
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        """Close without running anything."""
        self.dismiss(None)

    def request(self) -> RunRequest:
        """The fields as a request.

        Raises:
            ValueError: a field breaks its rule (the message names it).
        """
        path = Path(self._text("#start-path")).expanduser()
        if not path.is_file():
            raise ValueError(f"suite file: {path} is not a file")
        model = self._text("#start-model")
        if not model:
            raise ValueError("model: required")
        profile = self.query_one("#start-profile", Select).value
        if not isinstance(profile, str):
            raise ValueError("profile: choose one")
        return RunRequest(path, model, profile, self._concurrency(), self._baseline())

    def _concurrency(self) -> int:
        text = self._text("#start-concurrency")
        if not text.isdigit() or not 1 <= int(text) <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency: a whole number from 1 to {MAX_CONCURRENCY}")
        return int(text)

    def _baseline(self) -> int | str | None:
        text = self._text("#start-baseline")
        if not text:
            return None
        return int(text) if text.isdigit() else text

    def _text(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()
