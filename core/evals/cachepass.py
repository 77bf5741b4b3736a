"""The cache pass of a run: answer from the cache, in bulk, every pending pair it can,
before the worker pool sends the others.

A pair is looked up only when its request would read the cache in the worker pool too (the
first repeat of a case, the run's cache on, the cache enabled) and scoring it calls no judge
(a case with an `llm-rubric` assertion goes to the pool, which asks the judge concurrently):
`CaseWork.answered_through_cache`. Per chunk of pairs: one query for their cache keys
(`core.evals.cachehits`), the hits scored, then one transaction that logs each hit's call
(the same row, hit count and savings a lone cache hit logs) and commits its result. A pair
not found (a miss, an expired entry) is left for the pool.

This is also how a resumed run picks up a case answered before a kill -9 but not yet recorded:
its answer went to the cache with its log row, so the pass takes it from there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from core.evals.cachehits import RunCache
from core.evals.casework import CaseWork, needs_judge
from core.evals.estimate import JudgeRequest
from core.evals.judge import judge_messages
from core.evals.suite import Case
from storage.eval_records import CaseResult
from storage.evals import EvalStore

Pair = tuple[Case, int]
"""A case and a repeat index: the unit a run sends and records."""

CHUNK = 200
"""Pairs looked up, scored and committed together: a few transactions for a large suite,
and the event loop (the console's, when the pane runs the suite) held ~20-40 ms at a time."""


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
    cache = work.run_cache
    answered: set[tuple[str, int]] = set()
    for first in range(0, len(candidates), CHUNK):
        chunk = candidates[first : first + CHUNK]
        results = await _answer_chunk(work, cache, evals, run_id, chunk)
        if results:
            answered.update((result.case_id, result.repeat_index) for result in results)
            on_recorded(results)
        await asyncio.sleep(0)  # a cancellation (Ctrl-C, the console) gets in between chunks
    return [pair for pair in pairs if (pair[0].id, pair[1]) not in answered]


def cases_to_send(work: CaseWork, pairs: list[Pair]) -> tuple[list[Case], int, list[JudgeRequest]]:
    """What the run will send, for its estimate: the case of each of `pairs` whose answer the
    cache does not have, how many pairs it has, and the judge requests still to make for
    those cached answers (their verdicts not in the cache). A cached answer costs nothing: a
    re-run of an unchanged suite, `llm-rubric` cases included, is estimated at $0 and passes
    `--max-cost` and budgets."""
    readable = [index for index, pair in enumerate(pairs) if work.answer_reads_cache(*pair)]
    plain = [index for index in readable if not needs_judge(pairs[index][0])]
    cached: set[int] = set()
    if plain:
        live = work.run_cache.in_cache([work.case_messages(pairs[index][0]) for index in plain])
        cached.update(index for index, hit in zip(plain, live, strict=True) if hit)
    judged = [index for index in readable if needs_judge(pairs[index][0])]
    judge_requests = _judge_requests_of_cached(work, [pairs[index][0] for index in judged])
    cached.update(judged[position] for position in judge_requests.answered)
    to_send = [case for index, (case, _) in enumerate(pairs) if index not in cached]
    return to_send, len(cached), judge_requests.unanswered


@dataclass(frozen=True)
class _CachedVerdicts:
    answered: list[int]
    """Positions of the cases whose answer is in the cache."""
    unanswered: list[JudgeRequest]
    """The judge requests of those answers that the cache does not answer."""


def _judge_requests_of_cached(work: CaseWork, cases: list[Case]) -> _CachedVerdicts:
    """For `llm-rubric` cases: which answers the cache has, and the judge requests (made as
    `CaseJudge` makes them, from the cached answer) whose verdicts it has not."""
    if not cases:
        return _CachedVerdicts([], [])
    found = work.run_cache.look_up([work.case_messages(case) for case in cases])
    requests = [
        [message.as_api() for message in judge_messages(str(item.value), call.response_text)]
        for position, call in zip(found.answered, found.hits.calls, strict=True)
        for item in cases[position].assertions
        if item.base_type == "llm-rubric"
    ]
    judge_cache = work.judge_cache
    if judge_cache is not None and requests:
        live = judge_cache.live(requests)
        requests = [request for request, hit in zip(requests, live, strict=True) if not hit]
    return _CachedVerdicts(found.answered, requests)


async def _answer_chunk(
    work: CaseWork, cache: RunCache, evals: EvalStore, run_id: int, chunk: list[Pair]
) -> list[CaseResult]:
    """Look a chunk up, score its hits and commit them with their log rows; the results
    scored (their rows hold their calls' ids, these records do not)."""
    found = cache.look_up([work.case_messages(case) for case, _ in chunk])
    hits = found.hits
    if not hits.calls:
        return []
    latency, at = hits.latency_ms, hits.at
    results = [
        await work.scored_hit(*chunk[index], call, latency, at)
        for index, call in zip(found.answered, hits.calls, strict=True)
    ]
    # Each result's row gets its call's id as it is written; the results returned are only
    # counted (a copy of each with its id, `dataclasses.replace`, costs as much as scoring it).
    evals.record_cache_hits(run_id, hits, results)
    return results
