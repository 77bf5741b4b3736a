"""How far a check (or the check inside a clean or split) is: bytes read of the file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

if TYPE_CHECKING:  # the engine is imported off the event loop, by the pane's workers
    from core.data import Progress

PHASES = {"reading": "reading", "duplicates": "finding duplicates", "done": "done"}


class CheckProgress(Horizontal):
    """Hidden until a job starts; `show` moves the bar and says what is being done."""

    DEFAULT_CSS = """
    CheckProgress { height: 1; display: none; }
    CheckProgress.-running { display: block; }
    CheckProgress ProgressBar { width: 40; }
    CheckProgress Bar { width: 1fr; }
    CheckProgress #progress-words { width: 1fr; height: 1; }
    """

    def compose(self) -> ComposeResult:
        yield ProgressBar(show_eta=False, id="progress-bar")
        yield Label("", id="progress-words", markup=False)

    def start(self, what: str) -> None:
        """Show the widget for a new job."""
        self.add_class("-running")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one("#progress-words", Label).update(f"{what}… (escape cancels)")

    def show(self, what: str, progress: Progress) -> None:
        """Show where the job is."""
        self.query_one(ProgressBar).update(
            total=max(progress.total_bytes, 1), progress=progress.bytes_read
        )
        phase = PHASES.get(progress.phase, progress.phase)
        words = f"{what}: {phase} · {progress.lines:,} lines · {progress.examples:,} examples"
        self.query_one("#progress-words", Label).update(words + "  (escape cancels)")

    def finish(self) -> None:
        """Hide the widget: no job is going."""
        self.remove_class("-running")
