"""The evaluation runner against the local fake OpenAI server and a real SQLite file: what a
run records, the cache, faults and retries, the judge, the cost ceiling, interruption and
resume."""

from __future__ import annotations

import asyncio
import re
import textwrap
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from core.client import ChatClient
from core.errors import (
    BadInput,
    ConfigError,
    CostCeilingReached,
    EndpointUnreachable,
    RequestFailed,
)
from core.evals.casework import Reachability
from core.evals.estimate import estimate_suite
from core.evals.loader import load_suite
from core.evals.runner import Progress, RunOptions, RunOutcome, resume_run, run_suite
from core.evals.runplan import describe_estimate
from core.evals.suite import Suite
from core.settings import Settings, load_settings
from storage.evals import EvalStore
from storage.store import Store
from tests.conftest import TEST_KEY, fake_profile_toml, write_config
from tests.support.fake_openai import FakeOpenAI, Reply

T = TypeVar("T")
MODEL = "gpt-4o-mini"

CAPITALS = """
name: capitals
params: {temperature: 0}
prompt: "Capital of {{country}}?"
cases:
  - id: fr
    vars: {country: France}
    critical: true
    assert: [{type: icontains, value: france}]
  - id: de
    vars: {country: Germany}
    assert: [{type: contains, value: Berlin}]
  - id: it
    vars: {country: Italy}
    tags: [south]
    assert: [{type: starts-with, value: "echo:"}, {type: contains, value: Italy}]
"""


def write_suite(folder: Path, text: str = CAPITALS, name: str = "suite.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def numbered_suite(folder: Path, count: int, name: str = "many.yaml") -> Suite:
    cases = "\n".join(
        f"  - {{id: n{i:04d}, input: 'question {i}', assert: [{{type: contains, value: '{i}'}}]}}"
        for i in range(count)
    )
    return load_suite(
        write_suite(folder, f"name: many\nparams: {{temperature: 0}}\ncases:\n{cases}\n", name)
    )


def in_fresh_client(
    settings: Settings, store: Store, work: Callable[[ChatClient], Awaitable[T]]
) -> T:
    """Run `work` on a new client in a new event loop (an SDK client belongs to one loop)."""
    client = ChatClient(settings, store)
    try:
        return asyncio.run(work(client))  # type: ignore[arg-type]
    finally:
        client.close()


def run(
    settings: Settings,
    store: Store,
    suite: Suite,
    on_progress: Callable[[Progress], None] | None = None,
    **options: Any,
) -> RunOutcome:
    chosen = RunOptions(model=options.pop("model", MODEL), **options)
    return in_fresh_client(settings, store, lambda c: run_suite(c, suite, chosen, on_progress))


def bodies(server: FakeOpenAI) -> list[dict[str, Any]]:
    return [request.json for request in server.chat_requests]


def last_user_texts(server: FakeOpenAI, since: int = 0) -> list[str]:
    """The last user message of each chat request from the `since`-th on; a request cut
    before its body (its worker cancelled mid-send) has none."""
    sent = [request.json for request in server.chat_requests[since:]]
    return [body["messages"][-1]["content"] for body in sent if body is not None]


# -- a run end to end ----------------------------------------------------------------------


def test_a_run_sends_every_case_scores_it_and_records_it_with_its_logged_call(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path))
    seen: list[Progress] = []
    committed: list[int] = []

    def watch(progress: Progress) -> None:  # a report comes after its results are committed
        seen.append(progress)
        committed.append(EvalStore(store).progress(progress.run_id).recorded)

    outcome = run(settings, store, suite, watch, concurrency=2)

    run_record = outcome.run
    assert run_record.status == "completed" and run_record.finished_at is not None
    assert (run_record.suite_name, run_record.suite_version) == ("capitals", suite.version)
    assert (run_record.model, run_record.profile, run_record.endpoint) == (
        MODEL,
        "fake",
        fake.base_url,
    )
    assert run_record.params == {
        "request": {"temperature": 0.0},
        "cache": "use",
        "judge_model": None,  # no case asks a judge
    }
    summary = run_record.summary
    assert summary is not None
    assert (summary.passed, summary.failed, summary.errored) == (2, 1, 0)
    assert summary.prompt_tokens > 0 and summary.latency_p50_ms is not None
    assert sorted(last_user_texts(fake)) == sorted(
        f"Capital of {country}?" for country in ("France", "Germany", "Italy")
    )
    assert outcome.sent == 3 and outcome.estimate.calls == 3

    evals = EvalStore(store)
    results = {result.case_id: result for result in evals.results(run_record.id)}
    assert {key: value.status for key, value in results.items()} == {
        "de": "fail",
        "fr": "pass",
        "it": "pass",
    }
    germany = results["de"]
    assert germany.output_text == "echo: Capital of Germany?"
    assert germany.scores[0]["reason"] == 'output does not contain "Berlin"'
    assert results["fr"].critical and results["it"].tags == ("south",)
    for result in results.values():
        logged = store.calls.get(result.call_id or 0)
        assert logged is not None and logged.outcome.response_text == result.output_text

    done = [p.done for p in seen]
    assert done == committed and done[0] == 0 and done[-1] == 3 and done == sorted(set(done))
    assert seen[-1] == Progress(run_record.id, 3, 3, 2, 1, 0, seen[-1].cost_usd)
    assert float(seen[-1].cost_usd or 0) == pytest.approx(summary.cost_usd)


def test_the_suite_is_stored_with_the_run_and_reloads_as_it_was(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path))
    outcome = run(settings, store, suite)
    stored = EvalStore(store).suite(outcome.run.suite_id)
    assert stored is not None and stored.case_count == 3 and stored.path == suite.path
    assert Suite.model_validate(stored.content) == suite


def test_a_rerun_of_an_unchanged_suite_is_answered_from_the_cache(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path, CAPITALS.replace("{temperature: 0}", "{}")))
    first = run(settings, store, suite)
    assert len(fake.chat_requests) == 3

    again = run(settings, store, suite)
    assert len(fake.chat_requests) == 3  # nothing sent, although the requests are not seeded
    assert again.run.suite_id == first.run.suite_id  # one stored version
    results = EvalStore(store).results(again.run.id)
    assert all(result.cache_hit for result in results)
    assert again.cost_usd == 0 and again.run.summary is not None
    assert again.run.summary.passed == first.run.summary.passed  # type: ignore[union-attr]
    assert all(store.calls.get(r.call_id or 0).outcome.cache_hit for r in results)  # type: ignore[union-attr]

    run(settings, store, suite, cache="off")
    assert len(fake.chat_requests) == 6


def test_repeats_after_the_first_are_always_sent(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path))
    outcome = run(settings, store, suite, repeats=3)
    assert len(fake.chat_requests) == 9 and outcome.run.cases_total == 9
    pairs = {(r.case_id, r.repeat_index) for r in EvalStore(store).results(outcome.run.id)}
    assert pairs == {(case, repeat) for case in ("fr", "de", "it") for repeat in range(3)}

    run(settings, store, suite, repeats=3)
    assert len(fake.chat_requests) == 9 + 6  # repeat 0 from the cache, repeats 1 and 2 sent


def test_a_fixed_pool_of_workers_not_a_task_per_case(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = numbered_suite(tmp_path, 120)
    fake.latency = 0.01
    tasks: list[int] = []

    def count_tasks(_: Progress) -> None:
        # Tasks of tunedeck's code: aiohttp's own (a connection's) are not the runner's.
        ours = [t for t in asyncio.all_tasks() if "aiohttp" not in _code_file(t)]
        tasks.append(len(ours))

    outcome = run(settings, store, suite, count_tasks, concurrency=4)
    assert outcome.run.summary is not None and outcome.run.summary.passed == 120
    # the run's own task, its four workers, the committer, and the task that closes the SDK's
    # connections when the loop ends (core/async_sdks.py)
    assert max(tasks) <= 1 + 4 + 1 + 1


# -- faults ------------------------------------------------------------------------------------


def test_rate_limits_and_server_errors_are_retried_by_the_sdk(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.enqueue(
        Reply.error(429, headers={"retry-after-ms": "1"}),
        Reply.error(503, headers={"retry-after-ms": "1"}),
    )
    suite = load_suite(write_suite(tmp_path))
    outcome = run(settings, store, suite, concurrency=1)
    assert len(fake.chat_requests) == 5
    results = EvalStore(store).results(outcome.run.id)
    assert [r.status for r in results] == ["fail", "pass", "pass"]  # de, fr, it: no error
    france = next(r for r in results if r.case_id == "fr")  # the first case sent
    logged = store.calls.get(france.call_id or 0)
    assert logged is not None and logged.outcome.retries == 2 and logged.status == "ok"


def test_a_request_that_keeps_failing_is_an_error_case_and_the_run_goes_on(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    broke = f"upstream broke (key {TEST_KEY})"  # a server that echoes the key back
    fake.enqueue(Reply.error(500, broke, headers={"retry-after-ms": "1"}), times=3)
    suite = load_suite(write_suite(tmp_path))
    outcome = run(settings, store, suite, concurrency=1)
    assert outcome.run.status == "completed"
    summary = outcome.run.summary
    assert summary is not None and (summary.passed, summary.failed, summary.errored) == (1, 1, 1)
    france = next(r for r in EvalStore(store).results(outcome.run.id) if r.case_id == "fr")
    assert france.status == "error" and france.score is None and france.output_text is None
    assert france.error is not None and "upstream broke" in france.error
    assert france.scores[0]["error"] is True
    logged = store.calls.get(france.call_id or 0)
    assert logged is not None and logged.status == "error" and logged.outcome.retries == 2
    assert TEST_KEY not in france.error
    for file in settings.home.glob("tunedeck.db*"):  # the database and its WAL
        assert TEST_KEY.encode() not in file.read_bytes()


def test_a_missing_key_is_refused_before_anything_is_recorded_or_sent(
    settings: Settings,
    store: Store,
    fake: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FAKE_API_KEY")
    suite = load_suite(write_suite(tmp_path))
    with pytest.raises(ConfigError, match="profile 'fake': environment variable FAKE_API_KEY"):
        run(settings, store, suite)
    assert fake.chat_requests == [] and EvalStore(store).runs() == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"concurrency": 0}, "concurrency must be 1 to 256, not 0"),
        ({"repeats": 0}, "repeat must be 1 to 100, not 0"),
        ({"max_cost_usd": -1.0}, "max cost must be 0 or more"),
        ({"profile": "nowhere"}, "unknown profile 'nowhere'"),
        ({"model": " "}, "no model to evaluate: --model is empty"),
        ({"judge_model": ""}, "--judge-model is empty: name a model, or leave it out"),
    ],
)
def test_bad_options_are_refused_before_anything_is_sent(
    settings: Settings,
    store: Store,
    fake: FakeOpenAI,
    tmp_path: Path,
    options: dict[str, Any],
    message: str,
) -> None:
    suite = load_suite(write_suite(tmp_path))
    with pytest.raises(BadInput, match=message):
        run(settings, store, suite, **options)
    assert fake.chat_requests == [] and EvalStore(store).runs() == []


# -- the judge -------------------------------------------------------------------------------

RUBRIC = """
name: rubric
params: {temperature: 0}
cases:
  - id: polite
    input: Greet me
    assert: [{type: llm-rubric, value: Is a polite greeting}]
"""


def test_the_rubric_judge_is_the_chosen_model_through_the_same_cached_client(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.enqueue(
        Reply.text("Good morning to you!"),
        Reply.text('{"reason": "a greeting", "pass": true, "score": 0.9}'),
    )
    suite = load_suite(write_suite(tmp_path, RUBRIC))
    outcome = run(settings, store, suite, concurrency=1, judge_model="gpt-4.1")
    sent = bodies(fake)
    assert [body["model"] for body in sent] == [MODEL, "gpt-4.1"]
    assert (
        sent[1]["temperature"] == 0 and "Good morning to you!" in sent[1]["messages"][1]["content"]
    )
    result = EvalStore(store).results(outcome.run.id)[0]
    assert result.status == "pass" and result.score == pytest.approx(0.9)
    assert result.scores[0]["reason"] == "judge: a greeting"
    judged = store.calls.find(_filter(model="gpt-4.1"))
    assert len(judged) == 1 and judged[0].status == "ok"  # logged like any other call

    again = run(settings, store, suite, concurrency=1, judge_model="gpt-4.1")
    assert len(fake.chat_requests) == 2  # answer and verdict from the cache
    assert EvalStore(store).results(again.run.id)[0].status == "pass"


def test_a_rubric_graded_by_the_model_under_test_is_a_run_warning(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    verdict = Reply.text('{"reason": "a greeting", "pass": true, "score": 1}')
    fake.enqueue(Reply.text("Hi!"), verdict, Reply.text("Hello!"), verdict)
    rubric = load_suite(write_suite(tmp_path, RUBRIC))
    self_graded = run(settings, store, rubric, concurrency=1, cache="off")
    judged = run(settings, store, rubric, concurrency=1, cache="off", judge_model="gpt-4.1")
    no_rubric = run(settings, store, load_suite(write_suite(tmp_path, name="plain.yaml")))

    assert [body["model"] for body in bodies(fake)[:2]] == [MODEL, MODEL]
    warning = (
        f"llm-rubric: graded by {MODEL}, the model under test, grading its own answers;"
        " choose another judge with --judge-model"
    )
    assert self_graded.warnings == (warning,)
    assert judged.warnings == () and no_rubric.warnings == ()


def test_the_suites_own_judge_grades_unless_the_run_chooses_another(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    verdict = Reply.text('{"reason": "a greeting", "pass": true, "score": 1}')
    fake.enqueue(Reply.text("Hi!"), verdict, Reply.text("Hello!"), verdict)
    judged = load_suite(
        write_suite(tmp_path, RUBRIC.replace("params:", "judge_model: gpt-4.1\nparams:"))
    )
    by_the_suite = run(settings, store, judged, concurrency=1, cache="off")
    by_the_run = run(settings, store, judged, concurrency=1, cache="off", judge_model="o3")

    assert [body["model"] for body in bodies(fake)] == [MODEL, "gpt-4.1", MODEL, "o3"]
    assert by_the_suite.warnings == () == by_the_run.warnings
    stored = EvalStore(store).run(by_the_suite.run.id).params
    assert stored["judge_model"] == "gpt-4.1"  # what a resume grades with


def test_an_unreachable_judge_makes_the_case_errored_not_failed(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.enqueue(Reply.text("Hello!"))
    fake.enqueue(Reply.error(401, "bad key"))
    suite = load_suite(write_suite(tmp_path, RUBRIC))
    outcome = run(settings, store, suite, concurrency=1)
    result = EvalStore(store).results(outcome.run.id)[0]
    assert result.status == "error" and result.output_text == "Hello!"
    assert result.error is not None and "judge failed" in result.error


# -- the cost ceiling ------------------------------------------------------------------------


def test_a_run_estimated_above_the_ceiling_is_refused_with_its_figures(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path))
    expected = estimate_suite(suite, MODEL, settings.resolve_profile("fake")[1])
    assert expected.cost_usd is not None and expected.cost_usd > Decimal("0.0001")
    with pytest.raises(BadInput) as refused:
        run(settings, store, suite, max_cost_usd=0.0001)
    assert str(refused.value) == (
        f"estimated cost ${expected.cost_usd:.4f} is above --max-cost $0.0001 (3 calls,"
        f" {expected.input_tokens} input tokens, about {expected.output_tokens:,} output tokens);"
        " nothing was sent"
    )
    assert fake.chat_requests == [] and EvalStore(store).runs() == []
    assert run(settings, store, suite, max_cost_usd=0.01).run.status == "completed"


def test_answers_in_the_cache_are_estimated_at_no_cost(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path))
    first = run(settings, store, suite, max_cost_usd=0.01)
    assert (first.estimate.calls, first.estimate.cached) == (3, 0)
    sent = len(fake.chat_requests)

    again = run(settings, store, suite, max_cost_usd=0.0001)  # refused above when uncached
    assert (again.estimate.calls, again.estimate.cached) == (0, 3)
    assert again.estimate.cost_usd == 0 and again.estimate.input_tokens == 0
    assert len(fake.chat_requests) == sent and again.run.status == "completed"
    assert "3 answered from the cache, at no cost" in describe_estimate(again.estimate)

    repeated = run(settings, store, suite, repeats=2, max_cost_usd=0.01)
    assert (repeated.estimate.calls, repeated.estimate.cached) == (3, 3)  # repeats are sent


def test_a_run_that_spends_its_ceiling_stops_there_and_resumes_under_a_new_one(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = numbered_suite(tmp_path, 6)
    for i in range(6):  # answers ~100x longer than the estimate guesses: ~$0.03 each
        fake.enqueue(Reply.text(f"answer {i}", completion_tokens=50_000))
    with pytest.raises(CostCeilingReached) as stopped:
        run(settings, store, suite, concurrency=1, cache="off", max_cost_usd=0.05)
    assert str(stopped.value).startswith(
        "--max-cost $0.05 reached: this run spent $0.0600, 4 case(s) not sent"
    )
    assert len(fake.chat_requests) == 2  # stopped at the answer that reached it
    (stored,) = EvalStore(store).runs()
    assert stored.status == "interrupted" and EvalStore(store).progress(stored.id).recorded == 2

    resumed = in_fresh_client(settings, store, lambda c: resume_run(c, stored.id, max_cost_usd=1.0))
    assert resumed.run.status == "completed" and len(fake.chat_requests) == 6


def test_the_calls_in_flight_when_the_ceiling_is_reached_finish_and_are_counted(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = numbered_suite(tmp_path, 9)
    for i in range(9):
        fake.enqueue(Reply.text(f"answer {i}", completion_tokens=50_000, delay=0.2 * (i % 3)))
    with pytest.raises(CostCeilingReached) as stopped:
        run(settings, store, suite, concurrency=3, cache="off", max_cost_usd=0.05)
    sent = len(fake.chat_requests)
    (stored,) = EvalStore(store).runs()
    assert EvalStore(store).progress(stored.id).recorded == sent < 9  # none thrown away
    spent = Decimal(str(stopped.value).split("spent $")[1].split(",")[0])
    recorded = sum(Decimal(str(r.cost_usd)) for r in EvalStore(store).results(stored.id))
    assert spent == recorded.quantize(Decimal("0.0001")) and spent > Decimal("0.05")


def test_a_ceiling_reached_by_the_last_case_or_never_spent_leaves_the_run_completed(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path, home: Path
) -> None:
    suite = numbered_suite(tmp_path, 2)
    for i in range(2):
        fake.enqueue(Reply.text(f"answer {i}", completion_tokens=50_000))
    last = run(settings, store, suite, concurrency=1, max_cost_usd=0.05)
    assert last.run.status == "completed" and len(fake.chat_requests) == 2
    write_config(home, fake_profile_toml(fake.base_url) + "local = true\n")
    free = run(load_settings(), store, suite, concurrency=1, cache="off", max_cost_usd=0.0)
    assert free.run.status == "completed" and len(fake.chat_requests) == 4  # a free endpoint


def test_a_run_whose_endpoint_is_down_stops_instead_of_waiting_out_every_case(
    store: Store, fake: FakeOpenAI, tmp_path: Path, home: Path
) -> None:
    fake.stop()  # nothing listens on its port any more: every connection is refused
    write_config(home, fake_profile_toml(fake.base_url, max_retries=0))
    suite = numbered_suite(tmp_path, 40)
    with pytest.raises(EndpointUnreachable) as stopped:
        run(load_settings(), store, suite, concurrency=2, cache="off")
    (stored,) = EvalStore(store).runs()
    # 8 in a row stop it (2 workers: the other's failure may be counted before the check)
    assert re.match(r"the endpoint did not answer [89] requests in a row", str(stopped.value))
    assert f"`tunedeck eval resume {stored.id} --retry-errors`" in str(stopped.value)
    assert stored.status == "interrupted" and EvalStore(store).progress(stored.id).errored in (8, 9)


def test_only_requests_in_a_row_that_found_no_endpoint_count_it_down() -> None:
    reach = Reachability()
    down = RequestFailed("refused", call_id=1, error_type="APIConnectionError", retries=2)
    slow = RequestFailed("timeout", call_id=2, error_type="APITimeoutError", retries=2)
    answered_500 = RequestFailed("HTTP 500", call_id=3, error_type="InternalServerError", retries=2)
    for failure in (down, slow):
        reach.note(failure)
    assert (reach.failures_in_a_row, reach.last_failure) == (2, "timeout")
    reach.note(answered_500)  # an HTTP error: the endpoint is there
    assert reach.failures_in_a_row == 0
    reach.note(down)
    reach.note(None)  # an answer
    assert reach.failures_in_a_row == 0


def test_an_unpriced_model_cannot_pass_a_ceiling(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path))
    with pytest.raises(BadInput, match="cannot be estimated"):
        run(settings, store, suite, model="my-own-model", max_cost_usd=100.0)
    assert fake.chat_requests == []


# -- interruption and resume -----------------------------------------------------------------


def test_a_cancelled_run_is_interrupted_and_resume_sends_only_what_is_missing(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = numbered_suite(tmp_path, 30)
    fake.latency = 0.05
    evals = EvalStore(store)

    async def cancel_after_ten(client: ChatClient) -> None:
        task = asyncio.ensure_future(
            run_suite(client, suite, RunOptions(model=MODEL, concurrency=3), stop_at_ten)
        )
        await ten_done.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    ten_done = asyncio.Event()

    def stop_at_ten(progress: Progress) -> None:
        if progress.done >= 10:
            ten_done.set()

    in_fresh_client(settings, store, cancel_after_ten)
    interrupted = evals.runs()[0]
    assert interrupted.status == "interrupted" and interrupted.summary is not None
    recorded = {r.case_id for r in evals.results(interrupted.id)}
    assert 10 <= len(recorded) < 30 and interrupted.summary.recorded == len(recorded)
    sent_before = len(fake.chat_requests)

    seen: list[Progress] = []
    outcome = in_fresh_client(
        settings, store, lambda client: resume_run(client, interrupted.id, seen.append)
    )
    assert outcome.run.status == "completed" and outcome.run.summary is not None
    assert outcome.run.summary.passed == 30
    assert seen[0].done == len(recorded) and seen[-1].done == 30
    # A case answered (and cached) just before the cancel but not yet recorded is taken
    # from the cache on resume, not sent again.
    resumed = [r for r in evals.results(interrupted.id) if r.case_id not in recorded]
    from_cache = sum(result.cache_hit for result in resumed)
    assert len(resumed) == 30 - len(recorded) and outcome.sent == len(resumed) - from_cache
    resent = last_user_texts(fake, sent_before)
    assert len(resent) == outcome.sent
    assert not {f"question {int(case[1:])}" for case in recorded} & set(resent)


def test_resume_uses_the_stored_suite_and_warns_when_the_file_changed(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    path = write_suite(tmp_path)
    evals = EvalStore(store)
    suite_id = evals.save_suite(_suite_version(load_suite(path)))
    run_id = _interrupted_run(evals, suite_id, finished={"fr"})
    path.write_text(CAPITALS.replace("Capital of", "Which is the capital of"), encoding="utf-8")

    resumed = in_fresh_client(settings, store, lambda client: resume_run(client, run_id))
    assert resumed.run.status == "completed" and resumed.sent == 2
    assert [w for w in resumed.warnings if "changed" in w] == [
        f"{path}: the suite file changed since; run {run_id} resumes with the suite as it"
        " was when the run started"
    ]
    assert sorted(last_user_texts(fake)) == ["Capital of Germany?", "Capital of Italy?"]
    assert [r.case_id for r in evals.results(run_id)] == ["de", "fr", "it"]


def test_a_run_killed_after_its_last_result_just_completes_on_resume(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    evals = EvalStore(store)
    suite_id = evals.save_suite(_suite_version(load_suite(write_suite(tmp_path))))
    run_id = _interrupted_run(evals, suite_id, finished={"fr", "de", "it"})
    resumed = in_fresh_client(settings, store, lambda client: resume_run(client, run_id))
    assert resumed.run.status == "completed" and resumed.sent == 0
    assert resumed.run.summary is not None and resumed.run.summary.passed == 3
    assert fake.chat_requests == []


def test_resume_refuses_completed_unknown_and_live_runs(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path))
    done = run(settings, store, suite)
    with pytest.raises(BadInput, match=f"run {done.run.id} is completed: nothing to resume"):
        in_fresh_client(settings, store, lambda client: resume_run(client, done.run.id))
    with pytest.raises(BadInput, match="no evaluation run has id 999"):
        in_fresh_client(settings, store, lambda client: resume_run(client, 999))


def _filter(**fields: Any) -> Any:
    from storage.records import CallFilter

    return CallFilter(**fields)


def _suite_version(suite: Suite) -> Any:
    from storage.eval_records import SuiteVersion

    return SuiteVersion(
        name=suite.name,
        version=suite.version,
        format=suite.format,
        content=suite.model_dump(mode="json"),
        case_count=len(suite.cases),
        created_at="2026-01-01T00:00:00.000000Z",
        path=suite.path,
    )


def _interrupted_run(evals: EvalStore, suite_id: int, finished: set[str]) -> int:
    """A run of the suite left interrupted (without the cache) with `finished` recorded."""
    from storage.eval_records import CaseResult, RunStart

    run_id = evals.start_run(
        RunStart(
            suite_id=suite_id,
            model=MODEL,
            started_at="2026-01-01T00:00:00.000000Z",
            pid=1,
            cases_total=3,
            profile="fake",
            params={"request": {"temperature": 0}, "cache": "off", "judge_model": MODEL},
        )
    )
    for case_id in finished:
        evals.record_result(
            run_id, CaseResult(case_id=case_id, status="pass", finished_at="2026-01-01T00:00:01Z")
        )
    evals.finish_run(run_id, "interrupted", "2026-01-01T00:00:02Z")
    return run_id


def _code_file(task: asyncio.Task[Any]) -> str:
    code = getattr(task.get_coro(), "cr_code", None)
    return code.co_filename if code is not None else ""
