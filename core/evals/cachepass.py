"""The cache pass of a run: answer from the cache, in bulk, every pending pair it can,
before the worker pool sends the others.

A pair is looked up only when its request would read the cache in the worker pool too (the
first repeat of a case, the run's cache on, the cache enabled) and scoring it calls no judge
(a case with an `llm-rubric` assertion goes to the pool, which asks the judge concurrently):
`CaseWork.answered_through_cache`. Per chunk of pairs: one query for their cache keys, the
hits scored, then one transaction that logs each hit's call (the same row, hit
count and savings a lone cache hit logs) and commits its result. A pair not found (a miss, an
expired entry) is left for the pool.

This is also how a resumed run picks up a case answered before a kill -9 but not yet recorded:
its answer went to the cache with its log row, so the pass takes it from there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from core.evals.casework import CaseWork
from core.evals.suite import Case
from storage.calls import CacheHitRow
from storage.eval_records import CaseResult
from storage.evals import EvalStore

Pair = tuple[Case, int]
"""A case and a repeat index: the unit a run sends and records."""

CHUNK = 200
"""Pairs looked up, scored and committed together: a few transactions for a large suite,
and the event loop (the console's, when the pane runs the suite) held ~50 ms at a time."""


async def answer_from_cache(
    work: CaseWork,
    evals: EvalStore,
    run_id: int,
    pairs: list[Pair],
    on_recorded: Callable[[list[CaseResult]], None],
) -> list[Pair]:
    """Record the results of the `pairs` the cache answers, a chunk at a time, and return
    the others (in their order), to be sent. `on_recorded` gets each chunk's results once
    they are committed."""
    candidates = [pair for pair in pairs if work.answered_through_cache(*pair)]
    if not candidates:
        return pairs
    answered: set[tuple[str, int]] = set()
    for first in range(0, len(candidates), CHUNK):
        results = await _answer_chunk(work, evals, run_id, candidates[first : first + CHUNK])
        if results:
            answered.update((result.case_id, result.repeat_index) for result in results)
            on_recorded(results)
        await asyncio.sleep(0)  # a cancellation (Ctrl-C, the console) gets in between chunks
    return [pair for pair in pairs if (pair[0].id, pair[1]) not in answered]


async def _answer_chunk(
    work: CaseWork, evals: EvalStore, run_id: int, chunk: list[Pair]
) -> list[CaseResult]:
    requests = [work.request(case) for case, _ in chunk]
    answers = work.client.cached_answers(requests, work.profile, work.call_options(0))
    hits: list[tuple[CacheHitRow, CaseResult]] = []
    for (case, repeat), answer in zip(chunk, answers, strict=True):
        if answer is not None:
            hits.append((answer.row, await work.scored(case, repeat, answer.result)))
    if not hits:
        return []
    call_ids = evals.record_cache_hits(run_id, hits)
    return [
        replace(result, call_id=call_id)
        for (_, result), call_id in zip(hits, call_ids, strict=True)
    ]
