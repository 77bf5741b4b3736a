"""The dialogs that start a clean or a split of the open file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label

from tui.widgets.data.paths import PathSuggester

Request = TypeVar("Request")


@dataclass(frozen=True)
class CleanRequest:
    """Write the file without invalid lines and exact (and optionally near) duplicates."""

    output: Path
    near_duplicates: bool


@dataclass(frozen=True)
class SplitRequest:
    """Split the file into `train.jsonl` and `heldout.jsonl` in `out_dir`."""

    out_dir: Path
    holdout: float
    seed: int
    stratify_by: str | None
    suite_name: str | None
    move_leaks: bool


class DataDialog(ModalScreen[Request | None], Generic[Request]):
    """A form: enter starts (when every field keeps its rule), escape cancels."""

    TITLE = ""
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    DataDialog { align: center middle; }
    DataDialog #data-dialog {
        width: 76; max-width: 100%; height: auto; border: thick $primary; background: $surface;
        padding: 0 1;
    }
    DataDialog Grid { grid-size: 2; grid-columns: 14 1fr; grid-rows: 1; grid-gutter: 1 1;
        height: auto; margin-top: 1; }
    DataDialog Grid > Label { width: 100%; text-align: right; color: $text-muted; }
    DataDialog #dialog-error { color: $error; height: auto; margin-top: 1; }
    DataDialog #dialog-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    DataDialog Button { margin-left: 2; }
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="data-dialog") as box:
            box.border_title = self.TITLE
            with Grid():
                yield from self.fields()
            yield Label("", id="dialog-error", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Start (enter)", id="start", variant="primary")

    def fields(self) -> ComposeResult:
        """Label and field pairs of the form."""
        yield from ()

    def on_mount(self) -> None:
        fields = self.query(Input)
        if fields:
            fields.first().focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        """Check the fields; start, or show the first problem."""
        try:
            request = self.request()
        except ValueError as problem:
            self.query_one("#dialog-error", Label).update(str(problem))
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without doing anything."""
        self.dismiss(None)

    def request(self) -> Request:
        """The fields as a request (ValueError names the field that breaks its rule)."""
        raise NotImplementedError

    def text(self, selector: str) -> str:
        """The stripped value of an input."""
        return self.query_one(selector, Input).value.strip()


class CleanDialog(DataDialog[CleanRequest]):
    """Asks where to write the cleaned file, and whether to drop near-duplicates."""

    TITLE = "Clean"

    def __init__(self, output: str) -> None:
        super().__init__()
        self.output = output

    def fields(self) -> ComposeResult:
        yield Label("output file")
        yield Input(self.output, id="clean-output", suggester=PathSuggester(), compact=True)
        yield Label("near dups")
        yield Checkbox("also drop near-duplicates", id="clean-near", compact=True)

    def request(self) -> CleanRequest:
        output = self.text("#clean-output")
        if not output:
            raise ValueError("output file: required")
        near = self.query_one("#clean-near", Checkbox).value
        return CleanRequest(Path(output).expanduser(), near)


class SplitDialog(DataDialog[SplitRequest]):
    """Asks the output directory, held-out fraction, seed, stratify key and suite name."""

    TITLE = "Split"

    def __init__(self, out_dir: str) -> None:
        super().__init__()
        self.out_dir = out_dir

    def fields(self) -> ComposeResult:
        yield Label("output dir")
        yield Input(self.out_dir, id="split-dir", suggester=PathSuggester(), compact=True)
        yield Label("holdout")
        yield Input("0.1", id="split-holdout", compact=True)
        yield Label("seed")
        yield Input("0", id="split-seed", compact=True)
        yield Label("stratify by")
        yield Input(placeholder="optional: a key, a.b.c", id="split-stratify", compact=True)
        yield Label("as suite")
        yield Input(placeholder="optional: a suite name", id="split-suite", compact=True)
        yield Label("leaks")
        yield Checkbox("move leaked examples to train", id="split-move", compact=True)

    def request(self) -> SplitRequest:
        out_dir = self.text("#split-dir")
        if not out_dir:
            raise ValueError("output dir: required")
        return SplitRequest(
            out_dir=Path(out_dir).expanduser(),
            holdout=self._holdout(),
            seed=self._seed(),
            stratify_by=self.text("#split-stratify") or None,
            suite_name=self.text("#split-suite") or None,
            move_leaks=self.query_one("#split-move", Checkbox).value,
        )

    def _holdout(self) -> float:
        try:
            holdout = float(self.text("#split-holdout"))
        except ValueError:
            holdout = -1.0
        if not 0 < holdout < 1:
            raise ValueError("holdout: a fraction above 0 and below 1, e.g. 0.1")
        return holdout

    def _seed(self) -> int:
        text = self.text("#split-seed")
        if not text.lstrip("-").isdigit():
            raise ValueError("seed: a whole number")
        return int(text)
