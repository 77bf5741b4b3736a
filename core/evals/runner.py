"""Run an evaluation suite against a model, or resume an interrupted run.

`run_suite(client, suite, options)` estimates the run (and refuses it above `max_cost_usd`),
records the suite version and the run, then answers every (case, repeat) pair with a fixed
pool of `concurrency` worker tasks pulling from one shared queue of pairs (so a 100k-case
suite costs 100k small tuples, not 100k tasks). Each answer goes through
`ChatClient.acomplete` (cache, request log, the SDK's retries), is scored, and its result is
committed as soon as it is scored: on its own, or in a batch when its answer is in the cache
(`core.evals.recorder` says what a kill -9 may lose, and why resume sends none of it again).
Before the pool starts, the cache pass (`core.evals.cachepass`) answers from the cache, in
bulk, every pending pair it can. The run then ends `completed` with its summary.

Interruptions: a cancelled run (Ctrl-C, a cancelled worker) ends `interrupted` with the
results it recorded; an error that stops every case (a missing key, a budget refusal) ends it
`interrupted` too and is raised; a bug ends it `failed`. A process killed outright leaves its
run `running` with a dead pid. `resume_run(client, run_id)` accepts all three: it reloads the
suite from the content stored with the run (warning when the file on disk changed) and sends
only the pairs that have no result yet.

The options, the progress and outcome records and the pre-flight check are in
`core.evals.runplan`, re-exported here.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from core.clock import iso
from core.errors import (
    BadInput,
    ConfigError,
    CostCeilingReached,
    EndpointUnreachable,
    TunedeckError,
)
from core.evals.cachepass import answer_from_cache, cases_to_send
from core.evals.casework import CaseWork, needs_judge
from core.evals.conversations import load_finished
from core.evals.estimate import Estimate
from core.evals.loader import load_suite
from core.evals.pinning import pin_scripts
from core.evals.recorder import ResultRecorder
from core.evals.runplan import (
    DEFAULT_CONCURRENCY,
    Progress,
    ProgressCallback,
    RunOptions,
    RunOutcome,
    StartCallback,
    describe_estimate,
    judge_of,
    judge_warnings,
    preflight,
)
from core.evals.suite import Case, Suite
from core.params import RequestParams
from core.settings import Profile
from storage.eval_records import (
    CaseResult,
    EvalRun,
    EvalStorageError,
    RunStart,
    StoredSuite,
    SuiteVersion,
)
from storage.evals import EvalStore

if TYPE_CHECKING:
    from core.client import ChatClient

Pair = tuple[Case, int]
"""A case and a repeat index: the unit a run sends and records."""

UNREACHABLE_AFTER = 8
"""Requests in a row that find no endpoint before a run stops (at least; twice the
concurrency when that is more: a whole wave of requests in flight can fail together)."""


async def run_suite(
    client: ChatClient,
    suite: Suite,
    options: RunOptions,
    on_progress: ProgressCallback | None = None,
    on_start: StartCallback | None = None,
) -> RunOutcome:
    """Run every case of `suite` (`options.repeats` times) against `options.model`.

    Raises:
        BadInput: bad options, or the estimate is above `options.max_cost_usd` (nothing sent).
        ConfigError: the profile's key is missing (nothing sent).
        BudgetExceeded: the estimate would take a budget covering the run over (nothing sent).
        asyncio.CancelledError: the run was cancelled; it is recorded `interrupted`.
        TunedeckError: an error that stops every case; the run is recorded `interrupted`.
    """
    options.check()
    profile_name, profile = _profile(client, options.profile)
    pairs = [(case, repeat) for repeat in range(options.repeats) for case in suite.cases]
    work = _case_work(client, suite, options, profile_name)
    pin_scripts(suite)
    estimate = preflight(suite, options, profile, *cases_to_send(work, pairs))
    check = client.budget.check_spend
    check(profile_name, profile, options.model, estimate.cost_usd, "evaluation run")
    evals = EvalStore(client.store)
    suite_id = evals.suite_id(suite.name, suite.version)
    if suite_id is None:  # a new version: its content is stored once, for resumes and history
        suite_id = evals.save_suite(_suite_version(suite, iso(client.clock())))
    run_id = evals.start_run(_run_start(suite, suite_id, options, profile_name, profile, client))
    session = _Session(work, evals, run_id, pairs, len(pairs), options, on_progress)
    warnings = (*suite.warnings, *judge_warnings(suite, options))
    return await session.finish(estimate, warnings, on_start)


async def resume_run(
    client: ChatClient,
    run_id: int,
    on_progress: ProgressCallback | None = None,
    on_start: StartCallback | None = None,
    *,
    concurrency: int | None = None,
    max_cost_usd: float | None = None,
    retry_errors: bool = False,
) -> RunOutcome:
    """Finish a run that was interrupted, failed, or left `running` by a dead process,
    sending only its (case, repeat) pairs that have no result yet; with `retry_errors`, its
    errored pairs (no answer) too, a completed run's included.

    Raises:
        BadInput: no such run, the run is completed (with `retry_errors`: with no errored
            case) or a live process runs it, or the estimate is above `max_cost_usd`.
        ConfigError, asyncio.CancelledError, TunedeckError: as `run_suite`.
    """
    evals = EvalStore(client.store)
    run, stored = _stored_run(evals, run_id)
    suite = Suite.model_validate(stored.content)
    options = _stored_options(run, concurrency, max_cost_usd)
    profile_name, profile = _profile(client, run.profile)
    finished = evals.finished_cases(run_id)
    if retry_errors:
        finished -= evals.errored_cases(run_id)
    pairs = [
        (case, repeat)
        for repeat in range(run.repeats)
        for case in suite.cases
        if (case.id, repeat) not in finished
    ]
    work = _case_work(client, suite, options, profile_name)
    pin_scripts(suite)
    load_finished(work.conversations, evals, run_id)
    estimate = preflight(suite, options, profile, *cases_to_send(work, pairs))
    check = client.budget.check_spend
    check(profile_name, profile, run.model, estimate.cost_usd, "evaluation run")
    try:
        evals.reopen_run(run_id, os.getpid(), iso(client.clock()), retry_errors=retry_errors)
    except EvalStorageError as error:
        raise BadInput(str(error)) from None
    total = len(suite.cases) * run.repeats
    session = _Session(work, evals, run_id, pairs, total, options, on_progress)
    warnings = (
        *suite.warnings,
        *judge_warnings(suite, options),
        *_file_changes(suite, stored, run_id),
    )
    return await session.finish(estimate, warnings, on_start)


class _Session:
    """One process's part of a run: the worker pool, the writer thread and the counters."""

    def __init__(
        self,
        work: CaseWork,
        evals: EvalStore,
        run_id: int,
        pairs: list[Pair],
        total: int,
        options: RunOptions,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.work, self.evals, self.run_id = work, evals, run_id
        self.pairs, self.concurrency = pairs, options.concurrency
        self.ceiling = options.max_cost_usd
        self.pending: Iterator[Pair] = iter(())
        self.next_turns: dict[tuple[str, int], Pair] = {}
        """A conversation's next turn to send, by the (case id, repeat) it follows."""
        self.unsent = 0
        """Pairs no worker has taken yet."""
        self.ceiling_reached = False
        self.on_progress = on_progress
        self.sent = 0
        self.recorder = ResultRecorder(evals, run_id, self._recorded)
        recorded = evals.progress(run_id)
        self.progress = Progress(
            run_id=run_id,
            done=recorded.recorded,
            total=total,
            passed=recorded.passed,
            failed=recorded.failed,
            errored=recorded.errored,
            cost_usd=Decimal(0),
        )

    async def finish(
        self, estimate: Estimate, warnings: tuple[str, ...], on_start: StartCallback | None
    ) -> RunOutcome:
        """Send every pending pair, then end the run with the status its end calls for."""
        try:
            if on_start is not None:
                on_start(self.run_id, estimate)
            self._report()
            to_send = await answer_from_cache(
                self.work, self.evals, self.run_id, self.pairs, self._recorded
            )
            await self._run_workers(to_send)
            self.recorder.flush()
            if self.ceiling_reached:
                raise self._ceiling_error()
        except (asyncio.CancelledError, KeyboardInterrupt, TunedeckError):
            self.recorder.flush_before_closing()
            self._close("interrupted")
            raise
        except BaseException:
            self.recorder.flush_before_closing()
            self._close("failed")
            raise
        self._close("completed")
        run = self.evals.run(self.run_id)
        assert run is not None
        cost = self.work.spending.total_usd
        return RunOutcome(run, estimate, self.sent, cost, warnings)

    async def _run_workers(self, pairs: list[Pair]) -> None:
        if not pairs:
            return
        heads, self.next_turns = self.work.conversations.chains(pairs)
        self.pending, self.unsent = iter(heads), len(pairs)
        workers = min(self.concurrency, len(heads))
        tasks = [asyncio.create_task(self._worker()) for _ in range(workers)]
        tasks.append(asyncio.create_task(self.recorder.flush_while_running(tasks.copy())))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise cast(BaseException, task.exception())

    async def _worker(self) -> None:
        # One iterator shared by every worker: `next` runs between awaits, so no pair is
        # taken twice, and the pool stays `concurrency` tasks however long the suite.
        # A conversation's turns run one after another in the worker that took the first.
        while not self.ceiling_reached and (pair := next(self.pending, None)) is not None:
            while pair is not None:
                self.unsent -= 1
                case, repeat = pair
                result = await self.work.run(case, repeat)
                self.recorder.add(result, answer_cached=self._answer_cached(case, repeat, result))
                self.ceiling_reached = self.unsent > 0 and self._spent_the_ceiling()
                self._check_reachable()
                follow = self.next_turns.pop((case.id, repeat), None)
                pair = None if self.ceiling_reached else follow

    def _check_reachable(self) -> None:
        """Stop the run when its endpoint has found no answer for `max(8, 2 x concurrency)`
        requests in a row: the cases left would each wait out the timeouts and retries."""
        reach = self.work.reach
        if reach.failures_in_a_row < max(UNREACHABLE_AFTER, 2 * self.concurrency):
            return
        raise EndpointUnreachable(
            f"the endpoint did not answer {reach.failures_in_a_row:,} requests in a row (the"
            f" last: {reach.last_failure}); once it answers, `tunedeck eval resume"
            f" {self.run_id} --retry-errors` sends what is left and what failed"
        )

    def _spent_the_ceiling(self) -> bool:
        """Whether what this process spent has reached `--max-cost`: then no worker takes
        another pair, the calls in flight finish (they are paid for), and the run stops,
        up to `concurrency` calls over the ceiling."""
        spent = self.work.spending.total_usd
        if self.ceiling is None or not spent:  # nothing spent: a free run never stops
            return False
        return spent >= Decimal(str(self.ceiling))

    def _ceiling_error(self) -> CostCeilingReached:
        spent = self.work.spending.total_usd or Decimal(0)
        return CostCeilingReached(
            f"--max-cost ${self.ceiling:g} reached: this run spent ${spent:.4f}, {self.unsent:,}"
            " case(s) not sent (the estimate guesses each answer's length); a resume's own"
            " --max-cost counts what the resume spends"
        )

    def _answer_cached(self, case: Case, repeat: int, result: CaseResult) -> bool:
        """Whether the client put this answer in the cache (or took it from there), so a
        resume finds it there: see `core.evals.recorder` for what a kill -9 may lose."""
        return result.status != "error" and self.work.answered_through_cache(case, repeat)

    def _recorded(self, results: list[CaseResult]) -> None:
        """Count committed results (one, a batch, or a chunk from the cache); report once."""
        self.progress = _counted(self.progress, results, self.work.spending.total_usd)
        self.sent += len(results)
        self._report()

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def _close(self, status: str) -> None:
        self.evals.finish_run(self.run_id, status, iso(self.work.client.clock()))


def _counted(progress: Progress, results: list[CaseResult], cost: Decimal | None) -> Progress:
    statuses = [result.status for result in results]
    return replace(
        progress,
        done=progress.done + len(statuses),
        passed=progress.passed + statuses.count("pass"),
        failed=progress.failed + statuses.count("fail"),
        errored=progress.errored + statuses.count("error"),
        cost_usd=cost,
    )


def _profile(client: ChatClient, name: str | None) -> tuple[str, Profile]:
    """The profile (the default one for None), its key checked before anything is sent."""
    chosen, profile = client.settings.resolve_profile(name, client.environ)
    try:
        profile.api_key(client.environ)
    except ConfigError as error:
        raise ConfigError(f"profile '{chosen}': {error}") from None
    return chosen, profile


def _case_work(client: ChatClient, suite: Suite, options: RunOptions, profile: str) -> CaseWork:
    return CaseWork(
        client=client,
        suite=suite,
        model=options.model,
        profile=profile,
        params=options.params or suite.params,
        cache=options.cache,
        judge_model=judge_of(suite, options),
    )


def _suite_version(suite: Suite, now: str) -> SuiteVersion:
    return SuiteVersion(
        name=suite.name,
        version=suite.version,
        format=suite.format,
        content=suite.model_dump(mode="json"),
        case_count=len(suite.cases),
        created_at=now,
        path=suite.path,
    )


def _run_start(
    suite: Suite,
    suite_id: int,
    options: RunOptions,
    profile_name: str,
    profile: Profile,
    client: ChatClient,
) -> RunStart:
    return RunStart(
        suite_id=suite_id,
        model=options.model,
        started_at=iso(client.clock()),
        pid=os.getpid(),
        cases_total=len(suite.cases) * options.repeats,
        profile=profile_name,
        endpoint=profile.endpoint,
        params=_stored_params(options, suite),
        concurrency=options.concurrency,
        repeats=options.repeats,
        baseline_run_id=options.baseline_run_id,
    )


def _stored_params(options: RunOptions, suite: Suite) -> dict[str, Any]:
    """What a run records of its settings: the request parameters, the cache mode and the
    judge (so a resume runs the same way; none when no case has an `llm-rubric`)."""
    judged = any(needs_judge(case) for case in suite.cases)
    return {
        "request": (options.params or suite.params).as_logged(),
        "cache": options.cache,
        "judge_model": judge_of(suite, options) if judged else None,
    }


def _stored_run(evals: EvalStore, run_id: int) -> tuple[EvalRun, StoredSuite]:
    run = evals.run(run_id)
    if run is None:
        raise BadInput(f"no evaluation run has id {run_id}")
    stored = evals.suite(run.suite_id)
    if stored is None:  # pragma: no cover - a foreign key keeps it
        raise BadInput(f"run {run_id}: its suite version {run.suite_id} is missing")
    return run, stored


def _stored_options(
    run: EvalRun, concurrency: int | None, max_cost_usd: float | None
) -> RunOptions:
    stored = run.params
    cache = stored.get("cache", "use")
    options = RunOptions(
        model=run.model,
        profile=run.profile,
        concurrency=(run.concurrency or DEFAULT_CONCURRENCY)
        if concurrency is None
        else concurrency,
        repeats=run.repeats,
        cache="off" if cache == "off" else "use",
        judge_model=stored.get("judge_model") or run.model,
        max_cost_usd=max_cost_usd,
        baseline_run_id=run.baseline_run_id,
        params=RequestParams.model_validate(stored.get("request", {})),
    )
    options.check()
    return options


def _file_changes(suite: Suite, stored: StoredSuite, run_id: int) -> tuple[str, ...]:
    """A warning when the suite's file no longer holds the version the run started with."""
    path = Path(suite.path)
    resumed = f"run {run_id} resumes with the suite as it was when the run started"
    if not path.exists():
        return (f"{path}: the suite file is gone; {resumed}",)
    try:
        current = load_suite(path).version
    except BadInput:
        return (f"{path}: the suite file changed and no longer loads; {resumed}",)
    if current != stored.version:
        return (f"{path}: the suite file changed since; {resumed}",)
    return ()


__all__ = [  # the options and records live in core.evals.runplan; callers import them here
    "DEFAULT_CONCURRENCY",
    "Progress",
    "ProgressCallback",
    "RunOptions",
    "RunOutcome",
    "StartCallback",
    "describe_estimate",
    "judge_warnings",
    "preflight",
    "resume_run",
    "run_suite",
]
