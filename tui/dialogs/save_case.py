"""The "save as eval case" dialog: a prompt sent from the Prompt pane, its answer as the
expected one (editable), and how answers will be checked, added to a suite file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, TextArea
from textual.worker import Worker, WorkerState

from core.errors import BadInput, TunedeckError
from core.evals.saving import CHECKS, NewCase, SavedCase, save_case, suggest_case_id
from tui.failures import notify_failure
from tui.text import inert, uninert
from tui.widgets.data.paths import PathSuggester, display_path
from tui.widgets.inert_text_area import InertTextArea

if TYPE_CHECKING:
    from core.params import ChatRequest

CHECK_CHOICES = [
    ("similar to the expected answer", "similar"),
    ("equals the expected answer", "equals"),
    ("contains it (any case)", "icontains"),
]
_SHOWN_CONTROL = re.compile(r"\\x([0-9a-f]{2})")


def expected_text(edited: str, answer: str) -> str:
    """The expected answer to save from the text edited in the dialog.

    The dialog shows the answer made inert (an escape sequence from a model must never reach
    the terminal: ESC is shown as the four characters `\\x1b`). Unedited, the answer is
    saved exactly as it came. Edited, the shown codes become the characters again, unless
    the answer itself held such codes as text (then the edited text is saved as shown).
    """
    shown = inert(answer)
    if edited == shown:
        return answer
    if shown == answer or _SHOWN_CONTROL.search(answer):
        return edited
    return uninert(edited)


class SaveCaseDialog(ModalScreen[SavedCase | None]):
    """Dismisses with where the case was saved, or None when cancelled. A case that cannot
    be saved is told in a notification, and the dialog stays open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]
    DEFAULT_CSS = """
    SaveCaseDialog { align: center middle; }
    SaveCaseDialog #case-box {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SaveCaseDialog Grid { grid-size: 2; grid-columns: 10 1fr; grid-rows: 1; grid-gutter: 0 1;
        height: auto; margin-top: 1; }
    SaveCaseDialog Grid > Label, SaveCaseDialog .field { color: $text-muted; }
    SaveCaseDialog Grid > Label { width: 100%; text-align: right; }
    SaveCaseDialog .field { margin-top: 1; }
    SaveCaseDialog #case-expected { height: 8; min-height: 3; }
    SaveCaseDialog #case-check-row { height: 1; margin-top: 1; }
    SaveCaseDialog #case-check { width: 34; }
    SaveCaseDialog #case-threshold-label { margin-left: 2; color: $text-muted; }
    SaveCaseDialog #case-threshold { width: 6; margin-left: 1; }
    SaveCaseDialog #case-critical { margin-left: 2; }
    SaveCaseDialog #case-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    SaveCaseDialog Button { margin-left: 2; }
    """

    def __init__(
        self, request: ChatRequest, answer: str, suite_path: Path, *, cursor_blink: bool = True
    ) -> None:
        super().__init__()
        self.request = request
        self.answer = answer
        self.suite_path = suite_path
        self.cursor_blink = cursor_blink
        prompt = request.messages[-1].content
        self.suggested_id = suggest_case_id(prompt if isinstance(prompt, str) else "")
        self._saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="case-box") as box:
            box.border_title = "Save as eval case"
            with Grid():
                yield Label("suite file")
                yield Input(
                    display_path(self.suite_path),
                    id="case-suite",
                    compact=True,
                    placeholder="a .jsonl or .yaml suite",
                    suggester=PathSuggester(),
                )
                yield Label("case id")
                yield Input(
                    self.suggested_id,
                    id="case-id",
                    compact=True,
                    placeholder="blank: made from the prompt",
                )
                yield Label("tags")
                yield Input("", id="case-tags", compact=True, placeholder="optional: a, b")
            yield Label("expected answer (edit it; enter is a new line)", classes="field")
            yield InertTextArea(
                inert(self.answer), id="case-expected", soft_wrap=True, tab_behavior="focus"
            )
            with Horizontal(id="case-check-row"):
                yield Select(
                    CHECK_CHOICES, value="similar", allow_blank=False, id="case-check", compact=True
                )
                yield Label("threshold", id="case-threshold-label")
                yield Input("0.8", id="case-threshold", compact=True)
                yield Checkbox("critical", id="case-critical", compact=True)
            with Horizontal(id="case-buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        if not self.cursor_blink:
            for widget in self.query("Input, TextArea"):
                widget.cursor_blink = False  # type: ignore[attr-defined]
        self.query_one("#case-expected", TextArea).focus()

    @on(Select.Changed, "#case-check")
    def _check_chosen(self, event: Select.Changed) -> None:
        similar = event.value == "similar"
        self.query_one("#case-threshold", Input).disabled = not similar
        self.query_one("#case-threshold-label", Label).disabled = not similar

    def new_case(self) -> tuple[Path, NewCase]:
        """The suite file and the case as the form holds them.

        Raises:
            BadInput: a field breaks its rule (the message names it).
        """
        typed_path = self.query_one("#case-suite", Input).value.strip()
        if not typed_path:
            raise BadInput("suite file: required (a .jsonl or .yaml file)")
        typed_id = self.query_one("#case-id", Input).value.strip()
        check = self.query_one("#case-check", Select).value
        tags = self.query_one("#case-tags", Input).value.split(",")
        case = NewCase(
            messages=self.request.messages,
            expected=expected_text(self.query_one("#case-expected", TextArea).text, self.answer),
            # The suggestion left as it was is made unique in the file; a typed id is kept.
            case_id=None if typed_id == self.suggested_id else typed_id or None,
            check=check if check in CHECKS else "similar",
            threshold=self._threshold() if check == "similar" else 0.8,
            critical=self.query_one("#case-critical", Checkbox).value,
            tags=[tag.strip() for tag in tags if tag.strip()],
            params=self.request.params,
        )
        return Path(typed_path).expanduser(), case

    def _threshold(self) -> float:
        text = self.query_one("#case-threshold", Input).value.strip()
        try:
            value = float(text)
        except ValueError:
            raise BadInput(f"threshold: {text!r} is not a number between 0 and 1") from None
        if not 0 < value <= 1:
            raise BadInput(f"threshold: {text} must be above 0 and at most 1")
        return value

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Save the case (the file work runs in a thread); a problem is notified."""
        if self._saving:
            return
        try:
            path, case = self.new_case()
        except BadInput as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self._saving = True
        self.save(path, case)

    @work(thread=True, exclusive=True, group="save-case", exit_on_error=False)
    def save(self, path: Path, case: NewCase) -> SavedCase:
        """Append the case to the suite file (thread worker)."""
        return save_case(path, case)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Saved: dismiss with where the case went. Not saved: say why, and stay open."""
        if event.state is WorkerState.SUCCESS:
            self.dismiss(event.worker.result)
        elif event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._saving = False
            error = event.worker.error
            if isinstance(error, TunedeckError):
                self.notify(str(error), severity="error", markup=False)
            else:
                notify_failure(self, event)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)
