"""A run started or resumed from the Regressions pane: the core runner in an async worker, its
progress repainted a few times a second (not at every case: a fast run records hundreds a
second).

What could block the event loop happens in a thread first: reading and checking the suite
file, finding the baseline, opening the client (it imports the SDK), loading the tokenizer
and the prices the runner's estimate needs. The runner itself writes its results on a thread
of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.timer import Timer
from textual.worker import Worker

from tui.text import inert, money
from tui.widgets.regressions.figures import rate
from tui.widgets.regressions.progress import RunFigures, RunProgress
from tui.widgets.regressions.start import RunRequest

if TYPE_CHECKING:
    from core.client import ChatClient
    from core.evals.estimate import Estimate
    from core.evals.report import Baseline, RunReport
    from core.evals.runplan import Progress, RunOutcome
    from core.evals.suite import Suite
    from storage.eval_records import EvalRun
    from tui.engine import Engine
    from tui.screens.regressions import RegressionsScreen

REPAINT_EVERY = 0.25
"""Seconds between two repaints of the progress bar and its counts."""


@dataclass(frozen=True)
class Prepared:
    """What a run needs before its first request, made off the event loop."""

    suite: Suite
    baseline: Baseline | None
    client: ChatClient
    warnings: tuple[str, ...] = ()
    """Besides the suite's own: a pinned baseline left out."""


class RunLauncher:
    """Runs one suite at a time for a pane; `figures` says how far it is."""

    def __init__(self, pane: RegressionsScreen) -> None:
        self.pane = pane
        self.worker: Worker[None] | None = None
        self.running = False
        """Whether a run is going (from the dialog's answer to the run's end)."""
        self.figures: RunFigures | None = None
        """The latest progress the runner reported (repainted by a timer)."""
        self.outcome: RunOutcome | None = None
        """The last run's outcome, once it completed."""
        self.run_id: int | None = None
        """The run's id once the runner recorded it (None: refused before that)."""
        self.resuming = False
        """Whether the run going (or the last one) is a run resumed (`resume`)."""
        self._model = ""
        self._suite_name = ""
        self._timer: Timer | None = None

    def start(self, request: RunRequest) -> None:
        """Run the suite of `request` in an async worker of the pane."""
        self._begin(request.model, "", None, resuming=False)
        self._work(self._run(request))

    def resume(self, run: EvalRun) -> None:
        """Finish `run` (interrupted, failed, or left running by a dead process) in an async
        worker of the pane, as `tunedeck eval resume` does."""
        self._begin(run.model, run.suite_name, run.id, resuming=True)
        self._work(self._resume(run))

    def _begin(self, model: str, suite: str, run_id: int | None, *, resuming: bool) -> None:
        self._model, self._suite_name, self.run_id = model, suite, run_id
        self.figures, self.outcome = None, None
        self.running, self.resuming = True, resuming
        self._timer = self.pane.set_interval(REPAINT_EVERY, self.repaint)

    def _work(self, work: Coroutine[Any, Any, None]) -> None:
        self.worker = self.pane.run_worker(
            work, group="regressions-run", exclusive=True, exit_on_error=False
        )

    def stop(self) -> None:
        """Cancel the run: the runner records it `interrupted`, with the cases it finished."""
        if self.worker is not None:
            self.worker.cancel()

    async def _run(self, request: RunRequest) -> None:
        try:
            engine = self.pane.deck.engine
            prepared = await asyncio.to_thread(prepare, engine, request)
            self._suite_name = prepared.suite.name
            for warning in prepared.suite.warnings:
                self.pane.notify(inert(f"{request.suite_path}: {warning}"), severity="warning")
            for warning in prepared.warnings:
                self.pane.notify(inert(warning), severity="warning")
            self.outcome = await self._execute(request, prepared)
            report = await asyncio.to_thread(self._report, prepared.baseline)
            self.pane.notify(conclusion(self.outcome, report), markup=False)
        finally:
            self._ended()

    async def _execute(self, request: RunRequest, prepared: Prepared) -> RunOutcome:
        from core.evals.runner import run_suite
        from core.evals.runplan import RunOptions, judge_warnings

        baseline = prepared.baseline
        options = RunOptions(
            model=request.model,
            profile=request.profile,
            concurrency=request.concurrency,
            baseline_run_id=None if baseline is None else baseline.run.id,
        )
        suite = prepared.suite
        for warning in judge_warnings(suite, options):
            self.pane.notify(inert(warning), severity="warning")
        return await run_suite(prepared.client, suite, options, self._progress, self._started)

    async def _resume(self, run: EvalRun) -> None:
        from core.evals.runner import resume_run

        try:
            engine = self.pane.deck.engine
            client, baseline = await asyncio.to_thread(prepare_resume, engine, run)
            self.outcome = await resume_run(client, run.id, self._progress, self._started)
            for warning in self.outcome.warnings:
                self.pane.notify(inert(warning), severity="warning")
            report = await asyncio.to_thread(self._report, baseline)
            self.pane.notify(conclusion(self.outcome, report), markup=False)
        finally:
            self._ended()

    def _report(self, baseline: Baseline | None) -> RunReport:
        from core.evals.report import build_report

        assert self.outcome is not None
        return build_report(self.pane.evals, self.outcome.run, baseline)

    def _started(self, run_id: int, estimate: Estimate) -> None:
        """The run is recorded, nothing is sent yet: list it, and show the estimate."""
        self.run_id = run_id
        self.pane.follow_suite(self._suite_name)
        cost = money(estimate.cost_usd) if estimate.cost_usd is not None else "unknown"
        cached = f" ({estimate.cached:,} answered from the cache)" if estimate.cached else ""
        calls = f"{estimate.calls:,} calls{cached}"
        resumed = " resumed" if self.resuming else ""
        self.pane.notify(f"Run #{run_id}{resumed}: {calls}, estimated cost {cost}.")

    def _progress(self, progress: Progress) -> None:
        """Called by the runner after each result: keep the figures, repaint later."""
        self.figures = RunFigures(
            suite=self._suite_name,
            model=self._model,
            done=progress.done,
            total=progress.total,
            passed=progress.passed,
            failed=progress.failed,
            errored=progress.errored,
            cost_usd=None if progress.cost_usd is None else float(progress.cost_usd),
            run_id=progress.run_id,
        )

    def repaint(self) -> None:
        """Show the latest figures (a timer calls it while the run goes)."""
        if self.figures is not None:
            self.pane.query_one(RunProgress).show(self.figures)

    def _ended(self) -> None:
        self.running = False
        if self._timer is not None:
            self._timer.stop()
        self.repaint()
        self.pane.query_one(RunProgress).finish()
        self.pane.run_finished()


def prepare(engine: Engine, request: RunRequest) -> Prepared:
    """Load and check the suite, find the baseline, open the client, load the tokenizer and
    prices (in a thread: each can take from milliseconds to a second).

    Raises:
        BadInput: a bad suite file, or a baseline that does not exist.
    """
    from core.evals.loader import load_suite
    from core.evals.report import baseline_for_run
    from storage.evals import EvalStore

    suite = load_suite(request.suite_path)
    spec = None if request.baseline is None else str(request.baseline)
    evals = EvalStore(engine.store)
    baseline, unfit = baseline_for_run(evals, suite, request.model, spec)
    return Prepared(
        suite, baseline, warmed_client(engine, request.model, request.profile),
        (unfit,) if unfit else (),
    )  # fmt: skip


def warmed_client(engine: Engine, model: str, profile_name: str | None) -> ChatClient:
    """The engine's client, with the tokenizer and the prices the runner's estimate reads
    loaded (each can take a second the first time: in the caller's thread, not the loop's)."""
    from core.prices import known_price
    from core.tokens import count_text

    client = engine.client
    count_text("warm up", model)
    _, profile = engine.settings.resolve_profile(profile_name)
    known_price(model, profile)
    return client


def prepare_resume(engine: Engine, run: EvalRun) -> tuple[ChatClient, Baseline | None]:
    """The client and the baseline to resume `run` with (in a thread): the baseline the run
    was started against, else its suite's pinned one, as `tunedeck eval resume` finds it."""
    from core.evals import custom
    from core.evals.baselines import baseline_for_resume
    from core.evals.sources import SuiteProblem
    from core.evals.suite import Suite
    from storage.evals import EvalStore

    evals = EvalStore(engine.store)
    baseline = baseline_for_resume(evals, run)
    stored = evals.suite(run.suite_id)
    if stored is not None:  # its python scorers' modules imported here, not on the loop
        for case in Suite.model_validate(stored.content).cases:
            for assertion in case.assertions:
                if assertion.base_type == "python":
                    with suppress(SuiteProblem):  # scored as a crash, as the CLI's resume does
                        custom.load_scorer(str(assertion.value))
    return warmed_client(engine, run.model, run.profile), baseline


def conclusion(outcome: RunOutcome, report: RunReport) -> str:
    """`Run #12 completed: pass rate 87.5% (7/8); against run #9: REGRESSION, 1 broke.`"""
    run, summary = outcome.run, outcome.run.summary
    text = f"Run #{run.id} {run.status}"
    if summary is not None:
        text += f": pass rate {rate(summary.pass_rate)} ({summary.passed}/{summary.recorded})"
    comparison = report.comparison
    if report.baseline is not None:
        text += f"; against run #{report.baseline.run.id}: {comparison.verdict_label.upper()}"
        text += f", {len(comparison.broke)} broke, {len(comparison.fixed)} fixed"
    elif comparison.critical_failures:
        text += f"; {len(comparison.critical_failures)} critical case(s) failing"
    return inert(text + ".")
