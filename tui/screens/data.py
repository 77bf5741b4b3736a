"""The Data pane: check a training file, read its problems and examples, clean and split it,
and browse the dataset versions with their lineage.

File and SQLite work runs in thread workers; a check reports its progress to a field that a
timer repaints a few times a second, so a big file never floods the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher, DataTable, Input, Label, Static

from core.errors import BadInput
from storage.datasets import DatasetVersion, DatasetVersions
from tui.screens.base import PaneScreen
from tui.widgets.data.dialogs import CleanDialog, CleanRequest, SplitDialog, SplitRequest
from tui.widgets.data.example import ExampleView, TextView
from tui.widgets.data.paths import PathSuggester, display_path
from tui.widgets.data.problems import ProblemTable
from tui.widgets.data.progress import CheckProgress
from tui.widgets.data.summary import TokenHistogram, summary_text
from tui.widgets.data.versions import PAGE_SIZE, VersionTable, lineage_text

if TYPE_CHECKING:  # the engine (numpy, the tokenizer: ~1 s) is imported by the workers
    from core.data import CheckOptions, Problem, Progress
    from tui.widgets.data.jobs import Checked

REPAINT_EVERY = 0.2  # seconds between two repaints of a job's progress
CHECK_VIEW, VERSIONS_VIEW = "data-check-view", "data-versions-view"
Result = TypeVar("Result")


class DataScreen(PaneScreen):
    """Training files: the check's summary, histogram and problems; versions and lineage."""

    SUB_TITLE = "Data"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "focus_path", "Open"),
        Binding("slash", "focus_path", "Open", show=False, key_display="/"),
        Binding("k", "next_kind", "Kind"),
        Binding("right_square_bracket", "next_page", "Next page", key_display="]"),
        Binding("left_square_bracket", "previous_page", "Previous page", key_display="["),
        Binding("c", "clean", "Clean"),
        Binding("s", "split", "Split"),
        Binding("v", "toggle_versions", "Versions"),
        Binding("escape", "escape", "Cancel / back", show=False),
    ]
    """Read by the help screen and the command palette."""

    def __init__(self) -> None:
        super().__init__()
        self.checked: Checked | None = None
        self.path: Path | None = None
        """The file of the last check."""
        self.running: str | None = None
        """What job is going (`checking`, `cleaning`, `splitting`), None when none is."""
        self._cancel: threading.Event | None = None
        self._latest: Progress | None = None
        self._timer: Timer | None = None
        self._kind_at = -1  # index into the kinds found; -1: every kind

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="data-pane"):
            with Horizontal(id="data-bar"):
                yield Label("file ", id="data-path-label")
                yield Input(
                    placeholder="path of a JSONL training file (tab completes, enter checks)",
                    suggester=PathSuggester(),
                    id="data-path",
                    compact=True,
                )
            yield CheckProgress(id="data-progress")
            with ContentSwitcher(initial=CHECK_VIEW, id="data-views"):
                with Vertical(id=CHECK_VIEW):
                    with Horizontal(id="data-top"):
                        yield Static(_hint(), id="data-summary", markup=False)
                        yield TokenHistogram(id="data-histogram")
                    yield Label("", id="data-problems-bar", markup=False)
                    yield ProblemTable(id="data-problems")
                with Vertical(id=VERSIONS_VIEW):
                    yield VersionTable(id="data-versions")
                    yield Static("", id="data-lineage", markup=False)

    def on_mount(self) -> None:
        self.query_one(TokenHistogram).display = False
        self.load_versions()
        self.prepare()

    @work(thread=True, exclusive=True, group="data-prepare", exit_on_error=False)
    def prepare(self) -> None:
        """Import the engine and load the tokenizer while the user types a path (thread
        worker): done during a check, they would hold the interpreter for a second or two."""
        from core.data import DEFAULT_MODEL
        from core.data.counting import TokenCounter

        TokenCounter(DEFAULT_MODEL)

    @property
    def problems(self) -> ProblemTable:
        """The table of problems."""
        return self.query_one(ProblemTable)

    @property
    def versions(self) -> VersionTable:
        """The table of dataset versions."""
        return self.query_one(VersionTable)

    def focus_default(self) -> None:
        if self.query_one(ContentSwitcher).current == VERSIONS_VIEW:
            self.versions.focus()
        elif self.checked is None:
            self.query_one("#data-path", Input).focus()
        else:
            self.problems.focus()

    # -- keys ---------------------------------------------------------------------------------

    def action_focus_path(self) -> None:
        """Type the path of a file to check."""
        self.query_one(ContentSwitcher).current = CHECK_VIEW
        self.query_one("#data-path", Input).focus()

    def action_escape(self) -> None:
        """Cancel the job that is going, or leave the path field for the table."""
        if self._cancel is not None and self.running:
            self._cancel.set()
            return
        self.focus_default()

    def action_next_kind(self) -> None:
        """Show only the problems of the next kind found (after the last: every kind)."""
        if self.checked is None:
            return
        kinds = list(self.checked.report.problems.counts())
        self._kind_at = self._kind_at + 1 if self._kind_at + 1 < len(kinds) else -1
        self.show_kind(kinds[self._kind_at] if self._kind_at >= 0 else None)

    def show_kind(self, kind: str | None) -> None:
        """Show only the problems of `kind` (all when None)."""
        if self.checked is not None:
            kinds = list(self.checked.report.problems.counts())
            self._kind_at = kinds.index(kind) if kind in kinds else -1
            self.problems.load(self.checked.report.problems, [kind] if kind else [])
            self._show_position()

    def action_next_page(self) -> None:
        """The next page of problems or versions."""
        if self.query_one(ContentSwitcher).current == VERSIONS_VIEW:
            if len(self.versions.versions) == PAGE_SIZE:
                self.versions.pages.append(self.versions.versions[-1].id)
                self.load_versions(self.versions.pages[-1])
        else:
            self.problems.next_page()
            self._show_position()

    def action_previous_page(self) -> None:
        """The previous page of problems or versions."""
        if self.query_one(ContentSwitcher).current == VERSIONS_VIEW:
            if len(self.versions.pages) > 1:
                self.versions.pages.pop()
                self.load_versions(self.versions.pages[-1])
        else:
            self.problems.previous_page()
            self._show_position()

    def action_toggle_versions(self) -> None:
        """Switch between the open file's check and the dataset versions."""
        switcher = self.query_one(ContentSwitcher)
        switcher.current = CHECK_VIEW if switcher.current == VERSIONS_VIEW else VERSIONS_VIEW
        if switcher.current == VERSIONS_VIEW:
            self.load_versions(self.versions.pages[-1])
        self.focus_default()

    def action_clean(self) -> None:
        """Write the open file without invalid lines and duplicates (a dialog asks where)."""
        if self._ready_for_job():
            assert self.path is not None
            output = display_path(self.path.with_name(self.path.stem + ".clean.jsonl"))
            self.app.push_screen(CleanDialog(output), self._clean_asked)

    def action_split(self) -> None:
        """Split the open file into train and held-out parts (a dialog asks how)."""
        if self._ready_for_job():
            assert self.path is not None
            out_dir = display_path(self.path.with_name(self.path.stem + "-split"))
            self.app.push_screen(SplitDialog(out_dir), self._split_asked)

    def _ready_for_job(self) -> bool:
        if self.running:
            self.notify(f"wait: {self.running} is going (escape cancels it)", severity="warning")
            return False
        if self.path is None:
            self.notify("open a file first (o)", severity="warning")
            return False
        return True

    # -- the check ----------------------------------------------------------------------------

    @on(Input.Submitted, "#data-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        if not typed:
            self.notify("type the path of a JSONL file", severity="warning")
        elif self.running:
            self.notify(f"wait: {self.running} is going (escape cancels it)", severity="warning")
        else:
            self.start_job("checking", self.check, Path(typed).expanduser())

    def start_job(self, what: str, job: Callable[..., object], *args: object) -> None:
        """Run `job(*args, cancel_event)` as the pane's one job, its progress shown."""
        self.running, self._latest = what, None
        self._cancel = threading.Event()
        self.query_one(CheckProgress).start(what)
        self._timer = self.set_interval(REPAINT_EVERY, self._repaint)
        job(*args, self._cancel)

    def _progressed(self, progress: Progress) -> None:
        self._latest = progress  # called on the worker thread: the timer repaints it

    def _repaint(self) -> None:
        if self.running and self._latest is not None:
            self.query_one(CheckProgress).show(self.running, self._latest)

    def _job_ended(self) -> None:
        self.running = None
        if self._timer is not None:
            self._timer.stop()
        self.query_one(CheckProgress).finish()

    @work(thread=True, exclusive=True, group="data-job", exit_on_error=False)
    def check(self, path: Path, cancel: threading.Event) -> None:
        """Check `path` and record it (thread worker)."""
        from tui.widgets.data.jobs import run_check

        store = self.deck.engine.store
        self._guarded(
            lambda: run_check(store, path, _options(), self._progressed, cancel),
            lambda checked: self._checked(path, checked),
        )

    def _guarded(self, job: Callable[[], Result], then: Callable[[Result], None]) -> None:
        """Run `job` on this worker thread; its result, a cancel or bad input go to the pane."""
        from core.data import CheckCancelled

        try:
            result = job()
        except CheckCancelled:
            self.app.call_from_thread(self._failed, "cancelled", "warning")
        except BadInput as error:
            self.app.call_from_thread(self._failed, str(error), "error")
        except BaseException:
            self.app.call_from_thread(self._job_ended)
            raise
        else:
            self.app.call_from_thread(self._succeeded, then, result)

    def _failed(self, message: str, severity: str) -> None:
        what = self.running or "job"
        self._job_ended()
        self.notify(f"{what}: {message}", severity=severity, markup=False)  # type: ignore[arg-type]

    def _succeeded(self, then: Callable[[Result], None], result: Result) -> None:
        self._job_ended()
        then(result)
        self.load_versions(self.versions.pages[-1])

    def _checked(self, path: Path, checked: Checked) -> None:
        self.checked, self.path = checked, path
        report = checked.report
        self.query_one("#data-summary", Static).update(summary_text(report, display_path(path)))
        histogram = self.query_one(TokenHistogram)
        histogram.display = bool(report.summary.histogram)
        histogram.show(report.summary.histogram)
        self.query_one(ContentSwitcher).current = CHECK_VIEW
        self.show_kind(None)
        self.problems.focus()

    def _show_position(self) -> None:
        table = self.problems
        kind = table.kinds[0] if table.kinds else "all"
        words = f"{table.position()} · kind: {kind} (k)"
        if table.total > len(table.rows_shown):
            words += " · pages: [ ]"
        if self.checked is not None and self.checked.report.problems.truncated:
            words += " · more problems counted than listed"
        self.query_one("#data-problems-bar", Label).update(words)

    # -- one example --------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#data-problems")
    def _problem_selected(self) -> None:
        problem = self.problems.problem_at_cursor()
        if problem is not None and self.checked is not None:
            self.read_example(self.checked, problem)

    @work(thread=True, exclusive=True, group="data-example", exit_on_error=False)
    def read_example(self, checked: Checked, problem: Problem) -> None:
        """Read the problem's line from the file, at its offset (thread worker)."""
        try:
            data = checked.report.read_line(problem.line)
        except OSError as error:
            message = f"line {problem.line}: cannot be read: {error.strerror or error}"
            self.app.call_from_thread(self.notify, message, severity="error", markup=False)
            return
        self.app.call_from_thread(self.app.push_screen, ExampleView(problem, data))

    # -- clean and split ----------------------------------------------------------------------

    def _clean_asked(self, request: CleanRequest | None) -> None:
        if request is not None and self.path is not None:
            self.start_job("cleaning", self.clean, self.path, request)

    def _split_asked(self, request: SplitRequest | None) -> None:
        if request is not None and self.path is not None:
            self.start_job("splitting", self.split, self.path, request)

    @work(thread=True, exclusive=True, group="data-job", exit_on_error=False)
    def clean(self, path: Path, request: CleanRequest, cancel: threading.Event) -> None:
        """Clean `path` as `request` asks, and record the versions (thread worker)."""
        from tui.widgets.data.jobs import clean_outcome, run_clean

        store = self.deck.engine.store
        self._guarded(
            lambda: run_clean(store, path, request, _options(), self._progressed, cancel),
            lambda result: self._show_outcome("Clean", clean_outcome(result)),
        )

    @work(thread=True, exclusive=True, group="data-job", exit_on_error=False)
    def split(self, path: Path, request: SplitRequest, cancel: threading.Event) -> None:
        """Split `path` as `request` asks, and record the versions (thread worker)."""
        from tui.widgets.data.jobs import run_split, split_outcome

        store = self.deck.engine.store
        self._guarded(
            lambda: run_split(store, path, request, _options(), self._progressed, cancel),
            lambda result: self._show_outcome("Split", split_outcome(result)),
        )

    def _show_outcome(self, title: str, outcome: Text) -> None:
        self.app.push_screen(TextView(f"{title} done · the new versions are under v", outcome))

    # -- versions and lineage -----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="data-versions", exit_on_error=False)
    def load_versions(self, before_id: int | None = None) -> None:
        """Read a page of dataset versions, newest first (thread worker)."""
        page = DatasetVersions(self.deck.engine.store).page(PAGE_SIZE, before_id)
        self.app.call_from_thread(self.versions.show, page)

    @on(DataTable.RowHighlighted, "#data-versions")
    def _version_highlighted(self) -> None:
        version = self.versions.version_at_cursor()
        if version is not None:
            self.load_lineage(version.id)

    @work(thread=True, exclusive=True, group="data-lineage", exit_on_error=False)
    def load_lineage(self, version_id: int) -> None:
        """Read a version's parent chain and children (thread worker)."""
        versions = DatasetVersions(self.deck.engine.store)
        chain, children = versions.lineage(version_id), versions.children(version_id)
        self.app.call_from_thread(self._show_lineage, chain, children)

    def _show_lineage(self, chain: list[DatasetVersion], children: list[DatasetVersion]) -> None:
        self.query_one("#data-lineage", Static).update(lineage_text(chain, children))


def _options() -> CheckOptions:
    from core.data import DEFAULT_MODEL, CheckOptions

    return CheckOptions(model=DEFAULT_MODEL)


def _hint() -> str:
    return (
        "Type the path of a JSONL training file above and press enter to check it.\n"
        "o: open another file · k: filter problems by kind · enter: the example in full\n"
        "c: clean · s: split · v: dataset versions and lineage"
    )
