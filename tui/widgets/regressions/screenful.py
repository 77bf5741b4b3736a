"""What the Regressions pane shows at once, read in one go: its suites, the first runs of the
suite it shows and that suite's pass-rate history (the pane's worker then draws its chart, off
the event loop: `chart.draw_chart`).

Read in one thread worker, these arrive together: read one after another by workers that
each start the next from the event loop, they reached the screen ~100-150 ms later (each hop
waits for the loop, busy with the pane's first frames, then for the interpreter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storage.eval_records import EvalRun, HistoryPoint, SuiteListing
from tui.widgets.regressions.chart import ChartPlace

if TYPE_CHECKING:
    from storage.evals import EvalStore


@dataclass(frozen=True)
class ScreenfulPlan:
    """What the pane knew when it asked for a screenful (read on the event loop)."""

    shown: str | None
    """The suite whose runs are listed (None: none yet)."""
    keep_runs: bool
    """Whether the runs listed stay if that suite is still there (the user scrolled them)."""
    wanted: str | None
    """A suite to show if it is listed (a run of it was just recorded)."""
    chart: ChartPlace | None
    """Where the chart is drawn (None: not laid out yet, or hidden: drawn when shown by its
    widget)."""
    page_size: int
    """Runs in a page of the runs table: two are read, as many as its window holds (read
    one at a time, the second slides in after the first is drawn, and every cell on screen
    is drawn again: ~25 ms of a frame, for ~7 ms more of SQL in the worker)."""


@dataclass(frozen=True)
class Screenful:
    """The suites, the suite chosen to show, its first runs (two pages; None: the runs listed
    stay) and its pass-rate history."""

    suites: list[SuiteListing]
    suite: str | None
    runs: list[EvalRun] | None
    history: dict[str, list[HistoryPoint]] = field(default_factory=dict)


def choose_suite(names: list[str], shown: str | None, wanted: str | None) -> str | None:
    """The suite to show: `wanted` if listed, else the one shown if still listed, else the
    first."""
    if wanted in names:
        return wanted
    return shown if shown in names else (names[0] if names else None)


def read_screenful(evals: EvalStore, plan: ScreenfulPlan) -> Screenful:
    """Read a screenful of the pane (in a thread); runs left `running` by a dead process are
    marked interrupted first."""
    evals.mark_interrupted_dead_runs()
    suites = evals.suites()
    suite = choose_suite([listing.name for listing in suites], plan.shown, plan.wanted)
    keep = suite == plan.shown and plan.keep_runs
    runs = [] if suite is None else None if keep else evals.runs(suite, limit=2 * plan.page_size)
    history = evals.pass_rate_history(suite) if suite else {}
    return Screenful(suites, suite, runs, history)
