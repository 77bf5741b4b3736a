"""The Regressions pane on a large evaluation history: opening it, a page of runs, a run's
results and a page of them, the diff of two runs.

Run: python tests/bench/bench_regressions_pane.py [--quick] [--runs N] [--keep-db] [--views]
[--opening] [--samples N]. Not collected by pytest.

The issue's target: with 10,000 runs and 2,000,000 case results in the database, opening the
pane and scrolling take under 100 ms.

The databases are made by tests/bench/bench_eval_store.py's generator (`build`: suites of one
to three versions, six models, 200 results a run, ~5% of runs interrupted or failed, one pinned
baseline per suite and model), written straight into a data directory as its `tunedeck.db`.
The large one has 10,000 runs of 20 suites (2,000,000 results: 500 runs a suite); the baseline
one 600 runs of 2 suites (120,000 results: 300 runs a suite, so that its runs too span pages
and slide the table's window), measured in the same process, the same way. With --keep-db
both stay in the system temporary folder for the next run.

On each database, the console headless at 120x36 under Pilot, as the pane tests build it
(`TunedeckApp(..., warm_up=False, cursor_blink=False)`, animations off, the Cache and Usage
panes built ahead as usual), keys posted as the terminal driver posts them, conditions polled
every ~1 ms (see bench_panes.py for why), frames timed by `bench_panes.Probe`:
a) Opening: a fresh console on the Prompt pane, its start-up done (and the Regressions pane
   built ahead, in the background after the first frame, as the console does); alt+4. Timed
   from the key: the pane's first frame (built ahead, its suites, runs and chart are in it).
   Then the same with the pane built on the key (not built ahead: a user faster than the
   pre-build): the first frame, the suites listed, the first page of runs of the first suite in
   the table and on screen, the pass-rate chart drawn and on screen, everything on screen (and
   the CPU time to it), and the event loop's longest stall between the first frame and that
   one (polled every ~1 ms: what a key typed while the pane fills waits for). --opening: part
   a only.

   Five consoles each.
b) A page of runs: pagedown in the runs table (the first suite's runs), 30 times, waiting for
   the app in between: key to the frame that shows it; a key after which the window slid (a
   page read ahead added, the farthest dropped: every visible cell is rendered again) also to
   the frame after the slide; the pages' SQL in their worker.
c) A run's results: enter on a run (its 200 results, keyset-paged from SQL), to the results on
   screen: the first frame of the view that draws rows of its table (a frame drawn right after
   rows went in may not draw them yet); then pagedown through them (10 keys), each to its
   frame. Five runs, after a first one on its own: the first opening finds the view built
   ahead (tui/widgets/regressions/ahead.py), and the console keeps it for the next ones
   (tui/widgets/regressions/reuse.py).
d) A diff: `c` on a run (compared with its model's pinned baseline: 200 paired cases), to the
   summary and cases on screen (likewise); the highlighted case's two answers come in after
   that frame (tui/widgets/regressions/diff.py): to the frame that shows them. Five runs,
   after a first one on its own.
e) The first opening of each view (enter, then `c`, on another run) in fresh consoles: with
   the views built ahead (waited for), and built on the key (the build ahead off: a user
   faster than it). Timed from the key: the view's first frame (built on the key, it shows
   its titles, headers and a line saying what is being read, then fills from a worker), the
   frame where its rows (and the diff's summary) are on screen, and the event loop's longest
   stall between the two (polled every ~1 ms). And, in fresh consoles
   (the garbage collector paused at start, then frozen, as the launcher does), the event
   loop's longest stall while the views are built ahead (from its first step to the last;
   polled every ~1 ms): what a key typed then waits for, beyond its own handling.
Wall times grow with the load of a shared machine; the CPU time of this process from the key
to the frame grows much less, and is given beside them. The load average is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # for tests.*

from textual.pilot import Pilot

from core.settings import DATABASE_FILE, load_settings
from tests.bench import bench_eval_store as generator
from tests.bench.bench_eval_store import CASES, SUITES
from tests.bench.bench_panes import (
    Probe,
    Results,
    add,
    ms,
    poll,
    post_key,
    report,
    settle,
    timed,
    wait_started,
)
from tui.app import TunedeckApp
from tui.engine import Engine
from tui.screens.prebuild import is_built
from tui.widgets.paging import PagedTable
from tui.widgets.regressions.ahead import ViewsAhead

SIZE = (120, 36)
PANE_MS = 100.0
BASELINE_RUNS = 600
BASELINE_SUITES = 2  # 300 runs a suite: enough to page through the runs, window slides included
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class RegressionsProbe(Probe):
    """`bench_panes.Probe`, marking what the Regressions pane and its views show, and the
    process's CPU time at the end of every frame: on a shared machine the wall time of a key
    grows with the load, its CPU time much less."""

    MARKED = (
        ("tui.screens.regressions", "RegressionsScreen", "_show_suites", "suites"),
        ("tui.screens.regressions", "RegressionsScreen", "_show_history", "chart"),
        ("tui.widgets.regressions.runs", "RunTable", "_show_window", "runs rows"),
        ("tui.widgets.regressions.runs", "RunTable", "_apply_slide", "runs slide"),
        ("tui.widgets.regressions.results", "ResultTable", "_show_window", "results rows"),
        ("tui.widgets.regressions.results", "ResultTable", "_apply_slide", "results slide"),
        ("tui.widgets.regressions.diff", "RunDiffScreen", "_show", "diff"),
        ("tui.widgets.regressions.diff", "RunDiffScreen", "_show_due_outputs", "diff answers"),
        ("tui.widgets.regressions.cases", "DiffCaseTable", "_show_window", "diff rows"),
        ("tui.widgets.regressions.ahead", "ViewsAhead", "_advance", "views step"),
    )

    def install(self) -> None:
        super().install()
        from textual.screen import Screen

        from tui.widgets.regressions.columns import FlexTable

        refresh, frames, self.cpu = Screen._compositor_refresh, self.frames, {}
        cpu = self.cpu
        render_lines, self.painted = FlexTable.render_lines, {}
        painted: dict[str, list[float]] = self.painted

        def compositor_refresh(screen: Screen[object]) -> None:
            before = len(frames)
            refresh(screen)
            if len(frames) > before:
                cpu[frames[-1][1]] = time.process_time()

        def render_lines_noted(table: FlexTable[Any], crop: Any) -> Any:
            strips = render_lines(table, crop)
            if table.row_count and table.screen.is_current:  # a frame, with rows
                painted.setdefault(type(table).__name__, []).append(time.perf_counter())
            return strips

        setattr(Screen, "_compositor_refresh", compositor_refresh)  # noqa: B010
        setattr(FlexTable, "render_lines", render_lines_noted)  # noqa: B010

    async def painted_frame(self, table: str, moment: float, screen: object) -> float:
        """The end of the first frame of `screen` that drew rows of a table of class `table`
        after `moment`: a frame drawn after rows went in may not draw them yet (DataTable
        takes its new size in idle time)."""

        def found() -> float | None:
            for painted in self.painted.get(table, []):
                for start, end, shown in self.frames:
                    if moment <= painted and start <= painted <= end and shown is screen:
                        return end
            return None

        await poll(lambda: found() is not None, 10.0)
        return found() or 0.0

    def cpu_ms(self, since: float, frame_end: float) -> float:
        """CPU milliseconds of this process from `since` (`time.process_time()`) to the end of
        the frame that ended at `frame_end` (perf_counter)."""
        return ms(self.cpu[frame_end] - since)


def prepared(folder: Path, runs: int, suites: int, keep: bool) -> Path:
    """A data directory whose database holds `runs` runs of `suites` suites (kept from an
    earlier run, with --keep-db)."""
    root = Path(tempfile.gettempdir()) / "tunedeck-bench-regressions" if keep else folder
    home = root / f"runs-{runs}-suites-{suites}"
    database = home / DATABASE_FILE
    if keep and database.exists():
        print(f"  reusing {database}")
        return home
    home.mkdir(parents=True, exist_ok=True)
    for stale in home.glob(f"{DATABASE_FILE}*"):
        stale.unlink()
    generator.SUITES = suites  # the generator spreads the runs over its module's SUITES
    try:
        generator.build(database, runs)
    finally:
        generator.SUITES = SUITES
    return home


def make_app(
    home: Path,
    probe: Probe,
    *,
    prebuild: bool = True,
    views_ahead: bool = True,
    collector_paused: bool = False,
) -> TunedeckApp:
    """A console on the database in `home`, its store opened first (as the pane tests do);
    without `prebuild`, the Regressions pane is not built ahead; without `views_ahead`, nor
    are its views; `collector_paused`: the garbage collector off until the first frame, then
    its start-up objects frozen, as the launcher and the app do (else a full collection may
    fall in what is measured: ~0.3-0.5 s here)."""
    ViewsAhead.ENABLED = views_ahead
    engine = Engine(load_settings(home))
    engine.store  # noqa: B018 - open it here: workers must not race to open it
    if collector_paused:
        gc.disable()
    app = TunedeckApp(
        engine,
        clock=lambda: NOW,
        warm_up=False,
        cursor_blink=False,
        collector_paused=collector_paused,
    )
    app.animation_level = "none"
    if not prebuild:
        app.PREBUILT_PANES = tuple(p for p in app.PREBUILT_PANES if p != "regressions")
    probe.frames.clear()
    probe.layouts.clear()
    probe.styling.clear()
    probe.encode_frames(app)
    return app


async def frame_of(probe: Probe, name: str, seen: int) -> tuple[float, float]:
    """When `name` was shown the (`seen` + 1)th time, and the end of the frame after it."""
    shown = await probe.shown(name, seen)
    return shown, await probe.frame_after(shown)


# -- a) opening -------------------------------------------------------------------------------


async def started(pilot: Pilot[None], *, prebuilt: bool) -> None:
    """Wait for the console's start-up work and its panes built ahead and rendered off screen
    (this one too if `prebuilt`)."""
    app = pilot.app
    if prebuilt:
        await poll(lambda: is_built(app, "regressions"), 60.0)
        await settle(pilot)
        await poll(lambda: app._screen_stacks["regressions"][0].rendered_ahead, 60.0)
        await views_built(app)
    await wait_started(pilot, prebuilt=True)


async def views_built(app: TunedeckApp) -> None:
    """Wait for the Regressions pane's views built ahead (if they are)."""
    from tui.screens.regressions import RegressionsScreen

    await poll(lambda: "regressions" in app._screen_stacks, 60.0)
    pane = app._screen_stacks["regressions"][0]
    assert isinstance(pane, RegressionsScreen)
    if ViewsAhead.ENABLED:
        await poll(lambda: pane.views_ahead.done, 60.0)


async def open_once(home: Path, probe: RegressionsProbe, prebuilt: bool) -> dict[str, float]:
    """Open the pane in a fresh console: ms from alt+4 to each stage (`cpu`: CPU ms to the
    pane's first frame)."""
    app = make_app(home, probe, prebuild=prebuilt)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, prebuilt=prebuilt)
        first = app.screen
        counts = {name: probe.count(name) for name in ("suites", "runs rows", "chart")}
        gaps: list[tuple[float, float]] = []
        watching = asyncio.create_task(loop_gaps(gaps))
        cpu = time.process_time()
        begun = post_key(app, "alt+4")
        await poll(lambda: app.screen is not first)
        pane_frame = await probe.frame_after(begun, app.screen)
        stages = {"first frame": pane_frame}
        if not prebuilt:
            stages["suites"] = await probe.shown("suites", counts["suites"])
            for name, stage in (("runs rows", "rows"), ("chart", "chart")):
                stages[stage], stages[f"{stage} frame"] = await frame_of(probe, name, counts[name])
            done = max(stages["suites"], stages["rows"], stages["chart"])
            stages["all"] = await probe.frame_after(done)
        watching.cancel()
        filling = [gap for at, gap in gaps if pane_frame <= at <= stages.get("all", 0.0)]
        await settle(pilot)
        if prebuilt:
            assert probe.count("runs rows") == counts["runs rows"], "the pane read its runs again"
    app.engine.close()
    figures = {stage: ms(moment - begun) for stage, moment in stages.items()}
    # What a key typed while the pane fills waits for (see `open_view`).
    filled = (
        {}
        if prebuilt
        else {
            "fill stall": max(filling or [0.0]),
            "cpu all": probe.cpu_ms(cpu, stages["all"]),
        }
    )
    return figures | {"cpu": probe.cpu_ms(cpu, pane_frame)} | filled


async def opening(home: Path, probe: RegressionsProbe, results: Results, samples: int) -> None:
    for prebuilt in (True, False):
        times: dict[str, list[float]] = {}
        for _ in range(samples):
            for stage, value in (await open_once(home, probe, prebuilt)).items():
                times.setdefault(stage, []).append(value)
        how = "built ahead" if prebuilt else "built on the key"
        title = f"a) open the pane (alt+4, {how}):"
        what = "runs and chart in it" if prebuilt else "of the pane"
        add(results, f"{title} first frame, {what}", times["first frame"], PANE_MS)
        add(results, f"{title}   CPU time to that frame", times["cpu"], PANE_MS)
        if prebuilt:
            continue
        add(results, f"{title} suites listed", times["suites"])
        add(results, f"{title} runs in the table", times["rows"])
        add(results, f"{title} runs on screen (frame)", times["rows frame"], PANE_MS)
        add(results, f"{title} chart drawn", times["chart"])
        add(results, f"{title} chart on screen (frame)", times["chart frame"], PANE_MS)
        add(results, f"{title} everything on screen (frame)", times["all"], PANE_MS)
        add(results, f"{title}   CPU time to everything on screen", times["cpu all"])
        stall = f"{title}   longest event-loop stall between the two frames"
        add(results, stall, times["fill stall"], 50.0)


# -- b, c) paging ------------------------------------------------------------------------------


@dataclass
class Pages:
    """What pressing pagedown measured: wall and CPU ms to the frame showing each key, and,
    for the keys after which the window slid (in idle time), wall ms to the slide's frame."""

    keys: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    slid: list[float] = field(default_factory=list)


async def page_down(
    pilot: Pilot[None], probe: RegressionsProbe, table: PagedTable[Any], slide: str, presses: int
) -> Pages:
    """Press pagedown up to `presses` times in the focused `table` (less at its end)."""
    app = pilot.app
    pages = Pages()
    for _ in range(presses):
        await settle(pilot)
        seen, cursor = probe.count(slide), table.cursor_row
        cpu = time.process_time()
        begun = post_key(app, "pagedown")
        try:
            moved = await poll(partial(lambda row: table.cursor_row != row, cursor), 2.0)
        except TimeoutError:
            break  # the end of the listing
        frame = await probe.frame_after(moved)
        pages.keys.append(ms(frame - begun))
        pages.cpu.append(probe.cpu_ms(cpu, frame))
        await settle(pilot)
        if probe.count(slide) > seen:
            pages.slid.append(ms(await probe.frame_after(probe.marks[slide][seen]) - begun))
    return pages


async def runs_paging(
    pilot: Pilot[None], probe: RegressionsProbe, results: Results, presses: int
) -> None:
    from tui.screens.regressions import RegressionsScreen
    from tui.widgets.regressions.runs import RunTable

    screen = pilot.app.screen
    assert isinstance(screen, RegressionsScreen)
    table = screen.query_one(RunTable)
    sql: list[float] = []
    timed(screen.evals, "runs", sql)
    table.focus()
    pages = await page_down(pilot, probe, table, "runs slide", presses)
    title = "b) runs table:"
    add(results, f"{title} pagedown, to the frame showing it", pages.keys, PANE_MS)
    add(results, f"{title}   CPU time to that frame", pages.cpu, PANE_MS)
    # Idle-time work after the key's own frame (tui/widgets/paging.py): not waited on.
    add(results, f"{title} slide after a pagedown (idle), key to its frame", pages.slid)
    add(results, f"{title}   a page's SQL (read ahead, in its worker)", sql)
    del screen.evals.runs  # the instance attribute `timed` set


async def open_view(
    pilot: Pilot[None],
    probe: RegressionsProbe,
    key: str,
    marks: tuple[str, ...],
    table: str,
    later: str | None = None,
) -> dict[str, float]:
    """Press `key` on the highlighted run: ms to the view's first frame, to every one of
    `marks` shown, to the first frame after the last that drew the rows of the view's table
    (of class `table`), and the CPU ms to that frame; and to the frame after `later` (what
    the view shows after that frame), if given."""
    app = pilot.app
    first = app.screen
    seen = {mark: probe.count(mark) for mark in (*marks, *([later] if later else []))}
    gaps: list[tuple[float, float]] = []
    watching = asyncio.create_task(loop_gaps(gaps))
    cpu = time.process_time()
    begun = post_key(app, key)
    await poll(lambda: app.screen is not first)
    view = app.screen
    view_frame = await probe.frame_after(begun, view)
    shown = max([await probe.shown(mark, seen[mark]) for mark in marks])
    shown_frame = await probe.painted_frame(table, shown, view)
    watching.cancel()
    figures = {
        "frame": ms(view_frame - begun),
        "shown": ms(shown - begun),
        "on screen": ms(shown_frame - begun),
        "cpu": probe.cpu_ms(cpu, shown_frame),
        # What a key typed while the view fills waits for: the longest stall of the event
        # loop from the end of its first frame to the frame with everything on screen.
        "fill stall": max([gap for at, gap in gaps if view_frame <= at <= shown_frame] or [0.0]),
    }
    if later:
        then = await probe.frame_after(await probe.shown(later, seen[later]), view)
        figures["later on screen"] = ms(then - begun)
    return figures


async def loop_gaps(into: list[tuple[float, float]]) -> None:
    """Until cancelled, poll the event loop every ~1 ms: each poll's start, and how much
    longer than asked it took (ms)."""
    while True:
        begun = time.perf_counter()
        await asyncio.sleep(0.001)
        into.append((begun, max(0.0, ms(time.perf_counter() - begun) - 1.0)))


VIEWS = (
    ("enter", "results rows", ("results rows",), "ResultTable", None),
    # its summary and cases; the highlighted case's answers after that frame
    ("c", "diff", ("diff", "diff rows"), "DiffCaseTable", "diff answers"),
)
"""Each view: the key that opens it, its name in the figures, what it shows once read, the
class of its table, what it shows after that first frame."""


async def views(
    pilot: Pilot[None], probe: RegressionsProbe, results: Results, samples: int
) -> None:
    """c) and d): each view opened `samples` times after its first opening, which builds it
    (the console keeps it for the next ones: tui/widgets/regressions/reuse.py)."""
    from tui.widgets.regressions.results import ResultTable
    from tui.widgets.regressions.runs import RunTable

    pane = pilot.app.screen
    runs = pane.query_one(RunTable)
    opened: dict[str, list[float]] = {}
    pages = Pages()
    for sample in range(samples + 1):
        await settle(pilot)
        runs.focus()
        runs.move_cursor(row=1 + sample)
        for key, mark, marks, table, later in VIEWS:
            await settle(pilot)
            which = "first" if sample == 0 else "kept"
            for stage, value in (await open_view(pilot, probe, key, marks, table, later)).items():
                opened.setdefault(f"{which} {mark} {stage}", []).append(value)
            await settle(pilot)
            if mark == "results rows":
                view = pilot.app.screen.query_one(ResultTable)
                more = await page_down(pilot, probe, view, "results slide", 10)
                pages.keys += more.keys
                pages.cpu += more.cpu
            post_key(pilot.app, "escape")
            await poll(lambda: pilot.app.screen is pane)
    for mark, title, shown in (
        ("results rows", "c) a run's results (enter):", "results"),
        ("diff", f"d) diff with the pinned baseline (c, {CASES} cases):", "summary and cases"),
    ):
        kept, first = f"kept {mark}", f"first {mark}"
        add(results, f"{title} first frame of the view", opened[f"{kept} frame"], PANE_MS)
        add(results, f"{title} {shown} in the view", opened[f"{kept} shown"])
        add(results, f"{title} {shown} on screen (frame)", opened[f"{kept} on screen"], PANE_MS)
        add(results, f"{title}   CPU time to that frame", opened[f"{kept} cpu"], PANE_MS)
        first_open = f"{title}   the first opening (built ahead): on screen"
        add(results, first_open, opened[f"{first} on screen"], PANE_MS)
        if mark == "diff":
            then = f"{title} the highlighted case's answers on screen (the frame after)"
            add(results, then, opened[f"{kept} later on screen"])
        if mark == "results rows":
            add(results, f"{title} pagedown, to the frame showing it", pages.keys, PANE_MS)
            add(results, f"{title}   CPU time to the pagedown's frame", pages.cpu, PANE_MS)


# -- e) the views' first opening, and building them ahead ------------------------------------


async def first_openings(
    home: Path, probe: RegressionsProbe, results: Results, samples: int
) -> None:
    """Each view's first opening in fresh consoles, built ahead and built on the key."""
    for ahead in (True, False):
        opened: dict[str, list[float]] = {}
        for sample in range(samples):
            app = make_app(home, probe, views_ahead=ahead)
            async with app.run_test(size=SIZE) as pilot:
                await started(pilot, prebuilt=True)
                await first_opening(pilot, probe, 2 + sample, opened)
            app.engine.close()
        how = "built ahead" if ahead else "built on the key"
        for _, mark, _, _, later in VIEWS:
            title = f"e) first opening of the view ({how}): {mark}"
            # The aim: the view's first frame (its titles, headers, and what it shows while
            # its data is read, in a worker, when built on the key); the rest beside it.
            add(results, f"{title} first frame of the view", opened[f"{mark} frame"], PANE_MS)
            add(results, f"{title} everything on screen (frame)", opened[f"{mark} on screen"])
            add(results, f"{title}   CPU time to that frame", opened[f"{mark} cpu"])
            stall = f"{title}   longest event-loop stall between the two frames"
            add(results, stall, opened[f"{mark} fill stall"], 50.0)
            if later:
                then = f"{title} answers on screen (the frame after)"
                add(results, then, opened[f"{mark} later on screen"])
    ViewsAhead.ENABLED = True


async def first_opening(
    pilot: Pilot[None], probe: RegressionsProbe, row: int, into: dict[str, list[float]]
) -> None:
    """Open the pane, then each view once, on the run at `row`."""
    from tui.widgets.regressions.runs import RunTable

    app = pilot.app
    post_key(app, "alt+4")
    await settle(pilot)
    pane = app.screen
    runs = pane.query_one(RunTable)
    runs.focus()
    runs.move_cursor(row=row)
    for key, mark, marks, table, later in VIEWS:
        await settle(pilot)
        for stage, value in (await open_view(pilot, probe, key, marks, table, later)).items():
            into.setdefault(f"{mark} {stage}", []).append(value)
        await settle(pilot)
        post_key(app, "escape")
        await poll(lambda: app.screen is pane)


async def building_ahead(
    home: Path, probe: RegressionsProbe, results: Results, samples: int
) -> None:
    """The event loop's longest stall while the views are built ahead, in fresh consoles
    (wall, and the event-loop thread's CPU time), and the longest step."""
    walls: list[float] = []
    cpus: list[float] = []
    spans: list[float] = []
    for _ in range(samples):
        app = make_app(home, probe, collector_paused=True)
        async with app.run_test(size=SIZE):
            steps = probe.count("views step")
            during = await stalls_while_building(app, probe)
            walls.append(max(wall for wall, _ in during))
            cpus.append(max(cpu for _, cpu in during))
            spans.append(max(probe.spans["views step"][steps:]))
        app.engine.close()
    title = "e) building the views ahead:"
    add(results, f"{title} longest event-loop stall (wall)", walls, 50.0)
    add(results, f"{title}   its event-loop thread's CPU", cpus, 50.0)
    add(results, f"{title}   the longest step's own call", spans)


async def stalls_while_building(
    app: TunedeckApp, probe: RegressionsProbe
) -> list[tuple[float, float]]:
    """The stalls (wall, CPU ms) from the first step of the views' build to its end."""
    from tui.screens.regressions import RegressionsScreen

    steps = probe.count("views step")
    gaps = await stalls_until(lambda: "regressions" in app._screen_stacks)
    pane = app._screen_stacks["regressions"][0]
    assert isinstance(pane, RegressionsScreen)
    gaps += await stalls_until(lambda: pane.views_ahead.done)
    first = probe.marks["views step"][steps] - probe.spans["views step"][steps] / 1e3
    return [(wall, cpu) for at, wall, cpu in gaps if at >= first]


async def stalls_until(done: Any) -> list[tuple[float, float, float]]:
    """Poll the event loop every ~1 ms until `done()`: each poll's start, and how much longer
    than asked it took, in wall and in this thread's CPU ms."""
    gaps: list[tuple[float, float, float]] = []
    deadline = time.perf_counter() + 60.0
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError("the views were never built")
        begun, used = time.perf_counter(), time.thread_time()
        await asyncio.sleep(0.001)
        wall = max(0.0, ms(time.perf_counter() - begun) - 1.0)
        gaps.append((begun, wall, ms(time.thread_time() - used)))
    return gaps


async def measure_app(
    home: Path,
    probe: RegressionsProbe,
    results: Results,
    opens: int,
    presses: int,
    *,
    views_only: bool = False,
    opening_only: bool = False,
) -> None:
    """Parts a to e on one database (c to e only if `views_only`, a only if `opening_only`)."""
    if not views_only:
        await opening(home, probe, results, opens)
    if opening_only:
        return
    app = make_app(home, probe)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, prebuilt=True)
        post_key(app, "alt+4")
        await settle(pilot)
        if not views_only:
            await runs_paging(pilot, probe, results, presses)
        await views(pilot, probe, results, opens)
    app.engine.close()
    await first_openings(home, probe, results, max(2, opens - 2))
    await building_ahead(home, probe, results, opens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 runs instead of 10,000")
    parser.add_argument("--runs", type=int, help="runs in the large database (10,000)")
    parser.add_argument("--keep-db", action="store_true", help="keep and reuse built databases")
    parser.add_argument(
        "--views", action="store_true", help="only parts c to e (the views), on both databases"
    )
    parser.add_argument("--opening", action="store_true", help="only part a (the opening)")
    parser.add_argument("--samples", type=int, help="openings of each view (5; 3 with --quick)")
    args = parser.parse_args()
    runs = args.runs or (1_000 if args.quick else 10_000)
    opens, presses = (3, 10) if args.quick else (5, 30)
    opens = args.samples or opens
    os.environ["TZ"] = "UTC"
    time.tzset()
    for name in [n for n in os.environ if n.startswith(("TUNEDECK_", "OPENAI_"))]:
        del os.environ[name]
    print(f"load average: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench_regressions_") as folder:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path(folder) / "tiktoken"))
        base_home = prepared(Path(folder), BASELINE_RUNS, BASELINE_SUITES, args.keep_db)
        large_home = prepared(Path(folder), runs, SUITES, args.keep_db)
        probe = RegressionsProbe()
        probe.install()
        measured: dict[str, Results] = {}
        for label, home in (("base", base_home), ("large", large_home)):
            results: Results = {}
            began, load = time.perf_counter(), os.getloadavg()[0]
            measure = partial(measure_app, views_only=args.views, opening_only=args.opening)
            asyncio.run(measure(home, probe, results, opens, presses))
            measured[label] = results
            print(f"measured the {label} database in {time.perf_counter() - began:.0f} s"
                  f" (load average {load:.2f} -> {os.getloadavg()[0]:.2f})")  # fmt: skip
        per_suite = f"{runs // SUITES:,} runs a suite"
        sizes = f"{runs:,} runs, {runs * CASES:,} results, {per_suite}"
        base = (
            f"base: {BASELINE_RUNS} runs, {BASELINE_RUNS * CASES:,} results,"
            f" {BASELINE_RUNS // BASELINE_SUITES} runs a suite"
        )
        report(f"On {sizes} ({base})", measured["base"], measured["large"])
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
