"""The run started from the pane: a progress bar and its counts, repainted a few times a second."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar

from tui.text import inert, money


@dataclass(frozen=True)
class RunFigures:
    """How far a run is: results recorded of those planned, by outcome, and the cost so far."""

    suite: str
    model: str
    done: int
    total: int
    passed: int = 0
    failed: int = 0
    errored: int = 0
    cost_usd: float | None = 0.0
    run_id: int | None = None


class RunProgress(Vertical):
    """Hidden until a run starts; `show` sets the bar (first line) and the counts (second),
    made the first time (a progress bar is ~15-20 ms of the pane's first frame)."""

    DEFAULT_CSS = """
    RunProgress { height: 2; padding: 0 1; display: none; }
    RunProgress.-running { display: block; }
    RunProgress ProgressBar { width: 1fr; }
    RunProgress Bar { width: 1fr; }
    RunProgress #run-counts { width: 1fr; height: 1; }
    """

    def show(self, figures: RunFigures) -> None:
        """Show where the run is (and the widget, if it was hidden)."""
        self.add_class("-running")
        if not self.query(ProgressBar):
            self.mount(ProgressBar(show_eta=False, id="run-bar"), Label("", id="run-counts"))
        self.query_one(ProgressBar).update(total=max(figures.total, 1), progress=figures.done)
        self.query_one("#run-counts", Label).update(describe(figures))

    def finish(self) -> None:
        """Hide the widget: no run is going."""
        self.remove_class("-running")


def describe(figures: RunFigures) -> Text:
    """`#41 qa · gpt-4.1 · 120/200 · 100 pass · 18 fail · 2 error · $0.012`."""
    text = Text()
    if figures.run_id is not None:
        text.append(f"#{figures.run_id} ", style="bold")
    text.append(f"{inert(figures.suite)} · {inert(figures.model)} · ")
    text.append(f"{figures.done:,}/{figures.total:,}", style="bold")
    text.append(f" · {figures.passed:,} pass", style="green")
    text.append(f" · {figures.failed:,} fail", style="red" if figures.failed else "")
    text.append(f" · {figures.errored:,} error", style="magenta" if figures.errored else "")
    text.append(f" · {money(figures.cost_usd)}")
    return text
