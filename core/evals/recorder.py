"""Commit a run's results: at once when nothing else keeps the answer, in batches when the
cache does.

What a kill -9 may lose, and why no finished case is sent again on resume:

- a result whose answer is not in the response cache (an error, a repeat after the first,
  `--no-cache`, the cache disabled, a case graded by the judge) is committed on its own as
  soon as it is scored, as before;
- a result whose answer is in the cache (the client committed the entry, with its log row,
  before it returned the answer; or the answer was a cache hit) waits for the next batch: at
  most `BATCH_RESULTS` results or `BATCH_SECONDS`. A kill -9 in between loses the result, not
  the answer: `tunedeck eval resume` finds it in the cache (the cache pass) and records it
  without sending anything. Only deleting the entry in between (`tunedeck cache clear`, its
  expiry) would make resume ask again.

An interrupted or failed run commits its waiting results before it is closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection

from storage.eval_records import CaseResult
from storage.evals import EvalStore

BATCH_RESULTS = 64
BATCH_SECONDS = 0.05

_log = logging.getLogger("tunedeck.evals")


class ResultRecorder:
    """Commits one run's results and tells `on_recorded` about each commit."""

    def __init__(
        self, evals: EvalStore, run_id: int, on_recorded: Callable[[list[CaseResult]], None]
    ) -> None:
        self.evals, self.run_id, self.on_recorded = evals, run_id, on_recorded
        self.waiting: list[CaseResult] = []

    def add(self, result: CaseResult, *, answer_cached: bool) -> None:
        """Take a scored result: it waits for the batch when its answer is in the cache,
        otherwise it is committed now (with any results waiting)."""
        self.waiting.append(result)
        if not answer_cached or len(self.waiting) >= BATCH_RESULTS:
            self.flush()

    def flush(self) -> None:
        """Commit the waiting results in one transaction."""
        if not self.waiting:
            return
        batch = self.waiting
        if len(batch) == 1:
            self.evals.record_result(self.run_id, batch[0])
        else:
            self.evals.record_results(self.run_id, batch)
        self.waiting = []
        self.on_recorded(batch)

    def flush_before_closing(self) -> None:
        """`flush` for a run ending in error: a failure is logged, not raised over the
        run's own error (the answers are in the cache for a resume)."""
        try:
            self.flush()
        except Exception:
            _log.exception("run %s: committing %d results failed", self.run_id, len(self.waiting))

    async def flush_while_running(self, workers: Collection[asyncio.Task[None]]) -> None:
        """Commit what waits every `BATCH_SECONDS` (answers may stop coming: every request
        hanging), and once more as soon as every worker is done."""
        running = set(workers)
        while running:
            _, running = await asyncio.wait(running, timeout=BATCH_SECONDS)
            self.flush()
