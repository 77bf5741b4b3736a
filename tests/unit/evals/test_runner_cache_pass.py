"""The runner's cache pass: pending cases answered from the cache in bulk before the worker
pool starts. It must send nothing the cache answers, record exactly what a lone cache hit
records, leave everything else to the pool, and pick up an answer a killed run never recorded.
"""

from __future__ import annotations

import asyncio
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from core.client import ChatClient
from core.evals.cachehits import RunCache
from core.evals.cachepass import CHUNK
from core.evals.loader import load_suite
from core.evals.runner import Progress, RunOptions, _case_work, resume_run, run_suite
from core.settings import Settings
from storage.eval_records import CaseResult, DuplicateResult, RunStart, RunStateError
from storage.evals import EvalStore
from storage.records import CallFilter
from storage.store import Store
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.unit.evals.test_runner import (
    MODEL,
    _suite_version,
    in_fresh_client,
    last_user_texts,
    numbered_suite,
    run,
    write_suite,
)

VOLATILE_CALL_COLUMNS = ("id", "started_at", "finished_at", "latency_ms")
VOLATILE_RESULT_COLUMNS = ("id", "run_id", "call_id", "finished_at", "latency_ms")
ROLLUP_SUMS = (
    "sum(calls), sum(errors), sum(prompt_tokens), sum(completion_tokens), sum(cost_usd),"
    " sum(cache_hits), sum(round(cost_saved_usd, 12)), sum(lookups), sum(tokens_saved)"
)


def rows(
    store: Store, sql: str, args: list[Any], volatile: tuple[str, ...]
) -> list[dict[str, Any]]:
    found = [dict(row) for row in store.db.query(sql, args)]
    return [{k: v for k, v in row.items() if k not in volatile} for row in found]


def call_rows(store: Store, ids: list[int]) -> list[dict[str, Any]]:
    marks = ", ".join("?" * len(ids))
    sql = f"SELECT * FROM calls WHERE id IN ({marks}) ORDER BY prompt_text"
    return rows(store, sql, ids, VOLATILE_CALL_COLUMNS)


def result_rows(store: Store, run_id: int) -> list[dict[str, Any]]:
    sql = "SELECT * FROM eval_results WHERE run_id = ? ORDER BY case_id, repeat_index"
    return rows(store, sql, [run_id], VOLATILE_RESULT_COLUMNS)


def rollup(store: Store) -> tuple[Any, ...]:
    return tuple(store.db.execute(f"SELECT {ROLLUP_SUMS} FROM usage_rollup").fetchone())


def entry_hits(store: Store) -> dict[str, tuple[int, bool]]:
    sql = "SELECT key, hits, last_hit_at IS NOT NULL FROM cache_entries"
    return {key: (hits, bool(hit)) for key, hits, hit in store.db.execute(sql).fetchall()}


def minus(after: tuple[Any, ...], before: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(round(a - b, 9) for a, b in zip(after, before, strict=True))


def test_a_cached_rerun_sends_nothing_and_records_what_lone_cache_hits_record(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = numbered_suite(tmp_path, 12)
    first = run(settings, store, suite)
    assert len(fake.chat_requests) == 12
    before_bulk, hits_before = rollup(store), entry_hits(store)

    seen: list[Progress] = []
    bulk = run(settings, store, suite, seen.append, concurrency=4)
    assert len(fake.chat_requests) == 12  # nothing sent
    assert [p.done for p in seen] == [0, 12]  # the start, then one report for the chunk
    bulk_ids = [r.call_id or 0 for r in EvalStore(store).results(bulk.run.id)]
    after_bulk = rollup(store)

    # The same cases answered one by one through `acomplete`, as the worker pool does.
    async def lone_hits(client: ChatClient) -> list[int]:
        work = _case_work(client, suite, RunOptions(model=MODEL), "fake")
        return [(await work.run(case, 0)).call_id or 0 for case in suite.cases]

    lone_ids = in_fresh_client(settings, store, lone_hits)
    assert len(fake.chat_requests) == 12

    assert call_rows(store, bulk_ids) == call_rows(store, lone_ids)
    assert all(
        row["cache_hit"] == 1 and row["status"] == "ok" for row in call_rows(store, bulk_ids)
    )
    assert minus(after_bulk, before_bulk) == minus(rollup(store), after_bulk)
    assert minus(after_bulk, before_bulk)[5] == 12  # twelve cache hits in the rollup
    assert {key: hits for key, (hits, _) in entry_hits(store).items()} == {
        key: hits + 2 for key, (hits, _) in hits_before.items()
    }
    assert all(seen_hit for _, seen_hit in entry_hits(store).values())
    # A search lists the call sent to the model, not its replays (m008).
    first_ids = [r.call_id for r in EvalStore(store).results(first.run.id)]
    found = store.calls.find(CallFilter(search="question 7"))
    assert [call.id for call in found] == [first_ids[7]]

    assert bulk.sent == 12 and bulk.cost_usd == 0
    assert bulk.run.summary is not None and first.run.summary is not None
    assert bulk.run.summary.passed == first.run.summary.passed == 12
    first_rows = result_rows(store, first.run.id)
    assert [row["cache_hit"] for row in result_rows(store, bulk.run.id)] == [1] * 12
    for row in first_rows:
        row["cache_hit"], row["cost_usd"] = 1, 0.0  # the same answer, tokens and scores
    assert result_rows(store, bulk.run.id) == first_rows


def test_the_cache_pass_scores_a_hit_as_the_worker_pool_scores_the_same_hit(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    """The pass makes its results from the hits' own values, not from the `ChatResult` the
    pool gets from `acomplete`: every field but the volatile ones must still agree (a `cost`
    ceiling sees what the answer cost when it was asked, in both)."""
    text = """
        name: figures
        params: {temperature: 0}
        cases:
          - id: priced
            input: "say hi"
            assert: [{type: cost, threshold: 1}, {type: contains, value: hi, weight: 2}]
          - id: too-dear
            input: "say yes"
            tags: [money]
            critical: true
            assert: [{type: cost, threshold: 0.0000001}, {type: equals, value: "no"}]
    """
    suite = load_suite(write_suite(tmp_path, text))
    run(settings, store, suite)
    bulk = run(settings, store, suite)
    assert len(fake.chat_requests) == 2  # the re-run was answered by the pass

    async def lone_hits(client: ChatClient) -> list[CaseResult]:
        work = _case_work(client, suite, RunOptions(model=MODEL), "fake")
        return [await work.run(case, 0) for case in suite.cases]

    def lasting(result: CaseResult) -> dict[str, Any]:
        volatile = ("call_id", "finished_at", "latency_ms")
        return {
            f.name: getattr(result, f.name) for f in fields(CaseResult) if f.name not in volatile
        }

    pooled = [lasting(r) for r in in_fresh_client(settings, store, lone_hits)]
    assert len(fake.chat_requests) == 2 and all(r["cache_hit"] for r in pooled)
    assert [lasting(r) for r in EvalStore(store).results(bulk.run.id)] == pooled
    assert [r["status"] for r in pooled] == ["pass", "fail"]
    assert "cost $0.0000" in pooled[1]["scores"][0]["reason"]  # priced: not 'cost unknown'


def test_a_half_cached_suite_sends_only_the_other_half(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    run(settings, store, numbered_suite(tmp_path, 10, "first-half.yaml"))
    assert len(fake.chat_requests) == 10
    suite = numbered_suite(tmp_path, 20)

    seen: list[Progress] = []
    outcome = run(settings, store, suite, seen.append, concurrency=3)
    sent = last_user_texts(fake, 10)
    assert sorted(sent) == sorted(f"question {i}" for i in range(10, 20))
    results = EvalStore(store).results(outcome.run.id, limit=50)
    assert [r.cache_hit for r in results] == [True] * 10 + [False] * 10
    assert outcome.run.summary is not None and outcome.run.summary.passed == 20
    done = [p.done for p in seen]
    assert done[:2] == [0, 10] and done[-1] == 20 and done == sorted(set(done))
    # the estimate covers the pairs sent; the cached ones cost nothing
    assert (outcome.estimate.calls, outcome.estimate.cached) == (10, 10)


def test_chunks_report_progress_and_the_cache_pass_respects_what_is_not_cached(
    settings: Settings,
    store: Store,
    fake: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert CHUNK >= 100  # a few queries and transactions for a large suite
    monkeypatch.setattr("core.evals.cachepass.CHUNK", 4)
    suite = numbered_suite(tmp_path, 10)
    run(settings, store, suite)
    assert len(fake.chat_requests) == 10

    seen: list[Progress] = []
    run(settings, store, suite, seen.append, repeats=2)
    assert len(fake.chat_requests) == 20  # repeat 0 from the cache, repeat 1 sent
    assert [p.done for p in seen[:4]] == [0, 4, 8, 10]

    run(settings, store, suite, cache="off")
    assert len(fake.chat_requests) == 30
    disabled = settings.model_copy(
        update={"cache": settings.cache.model_copy(update={"enabled": False})}
    )
    run(disabled, store, suite)
    assert len(fake.chat_requests) == 40


def test_rubric_cases_are_left_to_the_pool_and_still_answered_from_the_cache(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    text = """
        name: graded
        params: {temperature: 0}
        cases:
          - {id: plain, input: "say hi", assert: [{type: contains, value: hi}]}
          - id: graded
            input: "say yes"
            assert: [{type: llm-rubric, value: "says yes"}]
    """
    suite = load_suite(write_suite(tmp_path, text))
    # One at a time: the two answers (echoed), then the judge's verdict.
    fake.enqueue(Reply.echo(), Reply.echo(), Reply.text('{"pass": true, "score": 1}'))
    first = run(settings, store, suite, concurrency=1)
    sent = len(fake.chat_requests)
    assert sent == 3  # two answers and a judge call
    again = run(settings, store, suite)
    assert len(fake.chat_requests) == sent
    results = {r.case_id: r for r in EvalStore(store).results(again.run.id)}
    assert results["graded"].cache_hit and results["plain"].cache_hit
    assert (
        [r.status for r in EvalStore(store).results(first.run.id)]
        == [r.status for r in results.values()]
        == ["pass", "pass"]
    )


def test_resume_takes_an_answer_that_arrived_but_was_never_recorded_from_the_cache(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = numbered_suite(tmp_path, 20)
    fake.latency = 0.05
    evals = EvalStore(store)
    ten_done = asyncio.Event()

    def stop_at_ten(progress: Progress) -> None:
        if progress.done >= 10:
            ten_done.set()

    async def cancel_after_ten(client: ChatClient) -> None:
        options = RunOptions(model=MODEL, concurrency=2)
        task = asyncio.ensure_future(run_suite(client, suite, options, stop_at_ten))
        await ten_done.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    in_fresh_client(settings, store, cancel_after_ten)
    interrupted = evals.runs()[0]
    recorded = {r.case_id for r in evals.results(interrupted.id)}
    missing = [case for case in suite.cases if case.id not in recorded]

    # Two answers arrive (cached and logged by the client) but the process dies before
    # their results are committed.
    async def answered_not_recorded(client: ChatClient) -> None:
        work = _case_work(client, suite, RunOptions(model=MODEL), "fake")
        for case in missing[:2]:
            await client.acomplete(work.request(case), "fake", work.call_options(0))

    in_fresh_client(settings, store, answered_not_recorded)
    sent_before = len(fake.chat_requests)

    outcome = in_fresh_client(settings, store, lambda c: resume_run(c, interrupted.id))
    assert outcome.run.status == "completed" and outcome.run.summary is not None
    assert outcome.run.summary.passed == 20
    resent = last_user_texts(fake, sent_before)
    assert sorted(resent) == sorted(suite.messages_for(case)[-1].content for case in missing[2:])
    by_case = {r.case_id: r for r in evals.results(interrupted.id, limit=50)}
    assert all(by_case[case.id].cache_hit for case in missing[:2])


# -- committing results: at once without the cache, in batches with it ---------------------


def test_without_the_cache_every_result_is_committed_on_its_own(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    seen: list[int] = []

    def watch(progress: Progress) -> None:
        seen.append(progress.done)
        assert EvalStore(store).progress(progress.run_id).recorded == progress.done

    run(settings, store, numbered_suite(tmp_path, 6), watch, cache="off", concurrency=3)
    assert seen == list(range(7))  # nothing waits: a kill -9 loses no answered case


def test_answers_kept_by_the_cache_are_committed_in_batches_before_the_run_ends(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.latency = 0.0
    seen: list[int] = []
    outcome = run(settings, store, numbered_suite(tmp_path, 150), lambda p: seen.append(p.done))
    assert outcome.run.summary is not None and outcome.run.summary.recorded == 150
    assert seen[-1] == 150 and len(seen) < 150  # fewer commits than results


def test_bulk_result_commits_are_all_or_nothing(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    evals = EvalStore(store)
    suite_id = evals.save_suite(_suite_version(numbered_suite(tmp_path, 3)))
    run_id = evals.start_run(
        RunStart(suite_id=suite_id, model=MODEL, started_at="t0", pid=1, cases_total=3)
    )
    done = [CaseResult(case_id=f"n000{i}", status="pass", finished_at="t1") for i in range(3)]
    evals.record_result(run_id, done[1])
    with pytest.raises(DuplicateResult, match="'n0001'"):
        evals.record_results(run_id, done)
    with pytest.raises(ValueError, match="n0002"):
        evals.record_results(run_id, [done[0], replace(done[2], score=2.0)])
    assert evals.finished_cases(run_id) == {("n0001", 0)}

    evals.record_results(run_id, [done[0], done[2]])
    evals.finish_run(run_id, "interrupted", "t2")
    with pytest.raises(RunStateError):
        evals.record_results(run_id, [replace(done[0], repeat_index=1)])
    assert len(evals.finished_cases(run_id)) == 3


# -- the bulk lookup and its log rows ------------------------------------------------------


def test_each_hit_is_logged_under_its_own_call_even_for_twice_the_same_request(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    text = """
        name: twice
        params: {temperature: 0}
        cases:
          - {id: a, input: "same question", assert: [{type: contains, value: same}]}
          - {id: b, input: "same question", assert: [{type: icontains, value: SAME}]}
          - {id: c, input: "another one", assert: [{type: contains, value: another}]}
    """
    suite = load_suite(write_suite(tmp_path, text))
    run(settings, store, suite, concurrency=1)  # one after the other: b is a cache hit
    assert len(fake.chat_requests) == 2
    hits_before = entry_hits(store)

    again = run(settings, store, suite)
    assert len(fake.chat_requests) == 2
    results = EvalStore(store).results(again.run.id)
    assert [r.status for r in results] == ["pass"] * 3 and all(r.cache_hit for r in results)
    assert len({r.call_id for r in results}) == 3
    for result in results:  # each result points at the row of its own call
        call = store.calls.get(result.call_id or 0)
        assert call is not None and call.outcome.cache_hit
        case = next(case for case in suite.cases if case.id == result.case_id)
        assert call.start.messages == [m.as_api() for m in suite.messages_for(case)]
        assert call.outcome.response_text == result.output_text
    counted = {key: hits - hits_before[key][0] for key, (hits, _) in entry_hits(store).items()}
    assert sorted(counted.values()) == [1, 2]  # the shared entry answered twice


def test_an_expired_entry_is_not_an_answer_and_its_case_is_sent(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = numbered_suite(tmp_path, 5)
    run(settings, store, suite)
    store.db.execute(
        "UPDATE cache_entries SET expires_at = '2000-01-01T00:00:00.000000Z'"
        " WHERE prompt_excerpt = 'question 3'"
    )
    again = run(settings, store, suite)
    assert last_user_texts(fake, 5) == ["question 3"]
    by_case = {r.case_id: r for r in EvalStore(store).results(again.run.id)}
    assert [by_case[f"n000{i}"].cache_hit for i in range(5)] == [True, True, True, False, True]


def test_hits_whose_results_cannot_be_recorded_are_not_logged_either(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = numbered_suite(tmp_path, 3)
    first = run(settings, store, suite)
    evals = EvalStore(store)
    calls, hits = store.calls.count(), entry_hits(store)

    async def look_up(client: ChatClient) -> tuple[Any, list[CaseResult]]:
        work = _case_work(client, suite, RunOptions(model=MODEL), "fake")
        found = RunCache(client, "fake", MODEL, work.params).look_up(
            [work.case_messages(case) for case in suite.cases]
        )
        hits = found.hits
        assert found.answered == [0, 1, 2]
        scored = [
            await work.scored_hit(suite.cases[index], 0, call, hits.latency_ms, hits.at)
            for index, call in zip(found.answered, hits.calls, strict=True)
        ]
        return hits, scored

    batch, results = in_fresh_client(settings, store, look_up)
    assert len(batch.calls) == 3
    with pytest.raises(RunStateError):  # the first run is completed
        evals.record_cache_hits(first.run.id, batch, results)
    with pytest.raises(ValueError, match="2 results for 3 cache hits"):
        evals.record_cache_hits(first.run.id, batch, results[:2])
    assert (store.calls.count(), entry_hits(store)) == (calls, hits)

    run_id = evals.start_run(
        RunStart(suite_id=first.run.suite_id, model=MODEL, started_at="t0", pid=1, cases_total=3)
    )
    evals.record_result(run_id, results[1])
    with pytest.raises(DuplicateResult):
        evals.record_cache_hits(run_id, batch, results)
    assert (store.calls.count(), entry_hits(store)) == (calls, hits)
    ids = evals.record_cache_hits(run_id, replace(batch, calls=batch.calls[::2]), results[::2])
    assert ids == [calls + 1, calls + 2] and store.calls.count() == calls + 2


def test_a_cached_rerun_computes_each_cases_key_once(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path, monkeypatch: Any
) -> None:
    """The estimate and the cache pass look the same cases up: one key each."""
    from core.cache_key import RequestKeys

    suite = numbered_suite(tmp_path, 7)
    run(settings, store, suite)
    sent = len(fake.chat_requests)
    hashed: list[str] = []
    key = RequestKeys.key

    def counted(self: RequestKeys, messages: Any) -> str:
        hashed.append(messages[-1]["content"])
        return key(self, messages)

    monkeypatch.setattr(RequestKeys, "key", counted)
    run(settings, store, suite)
    assert len(fake.chat_requests) == sent  # all from the cache
    assert sorted(hashed) == sorted(f"question {i}" for i in range(7))
