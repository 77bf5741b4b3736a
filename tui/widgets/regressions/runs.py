"""The runs of the selected suite, newest first, paged from SQL by run id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text

from storage.eval_records import EvalRun
from tui.text import money
from tui.widgets.paging import Direction, PageRead
from tui.widgets.regressions.columns import FlexTable
from tui.widgets.regressions.figures import BASELINE_MARK, rate, run_status, score, started
from tui.widgets.usage.figures import one_line

if TYPE_CHECKING:
    from storage.evals import EvalStore

COLUMNS = (  # key, label, width (0: the model column takes what is left)
    ("flags", "", 3),
    ("id", "#", 5),
    ("model", "model", 0),
    ("started", "started", 11),
    ("rate", "pass", 7),
    ("score", "score", 5),
    ("cost", "cost", 8),
    ("status", "status", 11),
)


class RunTable(FlexTable[EvalRun]):
    """Runs of one suite (every version), newest first (see `PagedTable`). The flags column
    shows the runs marked A and B for a diff, and the pinned baselines (★)."""

    COLUMNS = COLUMNS
    RIGHT = frozenset({"id", "rate", "score", "cost"})
    FLEX_MIN = 8

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.suite_name: str | None = None
        """The suite listed (None: no suite, no rows). Set with `show_suite`."""
        self.read_evals: Callable[[], EvalStore] | None = None
        """Set by the pane before the first `show_suite`; called in the worker's thread."""
        self.marks: dict[int, str] = {}
        """Run id -> `A` or `B`."""

    def show_suite(self, name: str | None) -> None:
        """List the runs of suite `name` from the newest."""
        self.suite_name = name
        self.restart()

    def first_page_size(self) -> int:
        """How many runs the first page of a listing holds (see `PagedTable._page_size`)."""
        return self._page_size()

    def show_first_rows(self, name: str | None, rows: list[EvalRun], page_size: int) -> None:
        """List the runs of suite `name` from `rows`, its first runs (up to two pages of
        `page_size`: the window's room), read already (see `screenful`): as `show_suite`,
        without reading them."""
        self.suite_name = name
        self._generation += 1  # a page of the listing before, read meanwhile, is dropped
        self._reading.clear()
        self.loaded = False
        self.window.page_size = page_size
        self._page_read(PageRead(self._generation, None, None, rows))

    def row_key(self, row: EvalRun) -> str:
        return str(row.id)

    def row_cells(self, row: EvalRun) -> list[Text]:
        return cells(row, self.marks.get(row.id, ""), self.flex_width)

    def read_page(self, direction: Direction | None, anchor: EvalRun | None) -> list[EvalRun]:
        assert self.read_evals is not None, "set RunTable.read_evals first"
        if self.suite_name is None:
            return []
        evals, size = self.read_evals(), self.window.page_size
        if anchor is None:
            return evals.runs(self.suite_name, limit=size)
        if direction == "after":
            return evals.runs(self.suite_name, limit=size, before_id=anchor.id)
        return evals.runs(self.suite_name, limit=size, after_id=anchor.id)

    def run_at_cursor(self) -> EvalRun | None:
        """The run under the cursor, if any."""
        return self.row_at_cursor()

    def set_marks(self, marks: dict[int, str]) -> None:
        """Show the runs marked A and B."""
        changed = set(self.marks) | set(marks)
        self.marks = dict(marks)
        for run_id in changed:
            self._redraw_flags(run_id)

    def baseline_changed(self, run: EvalRun, pinned: bool) -> None:
        """`run` was pinned as its model's baseline (replacing any other), or unpinned: the
        rows held follow."""

        def follow(shown: EvalRun) -> EvalRun:
            if (shown.suite_name, shown.model) != (run.suite_name, run.model):
                return shown
            is_baseline = shown.id == run.id if pinned else shown.is_baseline and shown.id != run.id
            return replace(shown, is_baseline=is_baseline)

        window = self.window
        window.rows = [follow(shown) for shown in window.rows]
        for side in (window.after, window.before):
            if side.rows:
                side.rows = [follow(shown) for shown in side.rows]
        for shown in window.rows:
            if shown.model == run.model:
                self._redraw_flags(shown.id)

    def _redraw_flags(self, run_id: int) -> None:
        row = self.window.find(str(run_id))
        if row is not None and str(run_id) in self.rows:
            self.update_cell(str(run_id), "flags", flags(row, self.marks.get(run_id, "")))


def flags(run: EvalRun, mark: str) -> Text:
    """The mark (A or B) and the baseline star of a run."""
    text = Text(f"{mark or ' '} ", style="bold reverse" if mark else "")
    text.append(BASELINE_MARK if run.is_baseline else " ", style="bold yellow")
    return text


def cells(run: EvalRun, mark: str, model_width: int) -> list[Text]:
    """The row of a run; the model name is untrusted, shown inert on one line."""
    summary = run.summary
    return [
        flags(run, mark),
        Text(str(run.id), justify="right", style="dim"),
        one_line(run.model, model_width),
        Text(started(run.started_at)),
        pass_rate(run),
        Text(score(summary.mean_score) if summary else "-", justify="right"),
        Text(money(summary.cost_usd) if summary else "-", justify="right"),
        run_status(run.status),
    ]


PARTS = "○◔◑◕"
"""How much of a run that did not finish was recorded: under 1/8, 3/8, 5/8, then more."""


def pass_rate(run: EvalRun) -> Text:
    """The run's pass rate; for a run that recorded only part of its cases, with a mark of
    how much (`100.0%◑`: of about half its cases; `eval runs` says `of 40`). The rates
    line up, marked or not."""
    summary = run.summary
    shown = rate(summary.pass_rate) if summary else "-"
    text = Text(f"{shown:>6}")
    done, total = (summary.recorded if summary else 0), run.cases_total
    if summary is not None and run.status != "completed" and total and done < total:
        text.append(PARTS[min(len(PARTS) - 1, (8 * done // total + 1) // 2)], style="yellow")
    return text
