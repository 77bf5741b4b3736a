"""The `llm-rubric` judge in a run, against the fake server and a real SQLite file: a reply
that gives no verdict is asked again next run, a case's cost includes its judge calls, and the
pre-flight estimate (so `--max-cost`) knows which answers and verdicts the cache holds."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from core.errors import BadInput
from core.evals.estimate import JUDGE_REPLY_TOKENS
from core.evals.judge import judge_messages
from core.evals.loader import load_suite
from core.evals.report import Baseline, build_report
from core.evals.runplan import describe_estimate
from core.prices import price_of
from core.settings import Settings
from core.tokens import count_messages
from storage.evals import EvalStore
from storage.records import CallFilter, Usage
from storage.store import Store
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.unit.evals.test_runner import MODEL, RUBRIC, bodies, run, write_suite

JUDGE = "gpt-4.1"
ANSWER = "Good morning to you!"
VERDICT = '{"reason": "a greeting", "pass": true, "score": 1}'


def judge_calls(store: Store, model: str = JUDGE) -> int:
    return len(store.calls.find(CallFilter(model=model)))


def test_a_reply_with_no_verdict_is_not_kept_in_the_cache_and_asked_again(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path, RUBRIC))
    fake.enqueue(Reply.text(ANSWER), Reply.text("The output does not pass the rubric."))
    first = run(settings, store, suite, concurrency=1, judge_model=JUDGE)
    (errored,) = EvalStore(store).results(first.run.id)
    assert errored.status == "error" and errored.error is not None
    assert "judge reply not understood" in errored.error

    fake.enqueue(Reply.text(VERDICT))
    second = run(settings, store, suite, concurrency=1, judge_model=JUDGE)
    assert [body["model"] for body in bodies(fake)] == [MODEL, JUDGE, JUDGE]  # asked again
    (graded,) = EvalStore(store).results(second.run.id)
    assert (graded.status, graded.cache_hit) == ("pass", True)  # the answer from the cache
    assert judge_calls(store) == 2  # the reply not understood stays in the log

    third = run(settings, store, suite, concurrency=1, judge_model=JUDGE)
    assert len(fake.chat_requests) == 3  # a verdict is kept in the cache
    assert EvalStore(store).results(third.run.id)[0].status == "pass"


def test_a_run_records_its_judge_only_when_a_case_asks_one(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.enqueue(Reply.text(ANSWER), Reply.text(VERDICT))
    judged = run(settings, store, load_suite(write_suite(tmp_path, RUBRIC)), judge_model=JUDGE)
    assert judged.run.params["judge_model"] == JUDGE
    plain = run(settings, store, load_suite(write_suite(tmp_path)), judge_model=JUDGE)
    assert plain.run.params["judge_model"] is None  # QA: no rubric, no judge to show


def test_a_run_without_the_cache_leaves_the_cached_verdicts_alone(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path, RUBRIC))
    fake.enqueue(Reply.text(ANSWER), Reply.text(VERDICT))
    run(settings, store, suite, concurrency=1, judge_model=JUDGE)
    fake.enqueue(Reply.text(ANSWER), Reply.text("The output does not pass the rubric."))
    uncached = run(settings, store, suite, concurrency=1, judge_model=JUDGE, cache="off")
    assert EvalStore(store).results(uncached.run.id)[0].status == "error"

    again = run(settings, store, suite, concurrency=1, judge_model=JUDGE)
    assert len(fake.chat_requests) == 4  # the good verdict cached before is still there
    assert EvalStore(store).results(again.run.id)[0].status == "pass"


def test_a_cases_cost_includes_its_judge_calls_and_the_runs_cost_is_what_it_spent(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    profile = settings.resolve_profile("fake")[1]
    answer_usage, judge_usage = Usage(1_000, 500), Usage(2_000, 100)
    fake.enqueue(
        Reply.text(ANSWER, prompt_tokens=1_000, completion_tokens=500),
        Reply.text(VERDICT, prompt_tokens=2_000, completion_tokens=100),
    )
    suite = load_suite(write_suite(tmp_path, RUBRIC))
    outcome = run(settings, store, suite, concurrency=1, judge_model=JUDGE)

    answer_cost = price_of(MODEL, answer_usage, profile)
    judge_cost = price_of(JUDGE, judge_usage, profile)
    assert answer_cost and judge_cost and judge_cost != answer_cost
    (result,) = EvalStore(store).results(outcome.run.id)
    assert result.cost_usd == pytest.approx(float(answer_cost + judge_cost))
    assert result.judge_cost_usd == pytest.approx(float(judge_cost))  # its share, kept apart
    assert (result.prompt_tokens, result.completion_tokens) == (1_000, 500)  # the candidate's
    summary = outcome.run.summary
    assert summary is not None and summary.cost_usd == pytest.approx(result.cost_usd)
    assert summary.judge_cost_usd == pytest.approx(float(judge_cost))
    assert outcome.cost_usd == answer_cost + judge_cost  # what the process spent, the same

    again = run(settings, store, suite, concurrency=1, judge_model=JUDGE)
    (cached,) = EvalStore(store).results(again.run.id)
    assert cached.cost_usd == 0 and again.run.summary and again.run.summary.cost_usd == 0
    assert cached.judge_cost_usd == 0  # asked, and answered by the cache
    assert again.run.summary.judge_cost_usd == 0


def test_a_comparison_weighs_the_answers_cost_not_the_judges(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    """The same answers at the same price, their verdicts paid for in one run and read from
    the cache in the other: the cost did not change, whatever the judge cost."""
    profile = settings.resolve_profile("fake")[1]
    suite = load_suite(write_suite(tmp_path, RUBRIC))
    fake.enqueue(
        Reply.text(ANSWER, prompt_tokens=1_000, completion_tokens=500),
        Reply.text(VERDICT, prompt_tokens=2_000, completion_tokens=100),
    )
    paid = run(settings, store, suite, concurrency=1, judge_model=JUDGE)
    (answer,) = [e for e in store.cache.browse(limit=10) if e.model == MODEL]
    assert store.cache.delete(answer.key) == 1  # the answer is asked again, not its verdict
    fake.enqueue(Reply.text(ANSWER, prompt_tokens=1_000, completion_tokens=500))
    cached = run(settings, store, suite, concurrency=1, judge_model=JUDGE)
    assert [body["model"] for body in bodies(fake)] == [MODEL, JUDGE, MODEL]
    (verdict_paid,) = EvalStore(store).results(paid.run.id)
    (verdict_cached,) = EvalStore(store).results(cached.run.id)
    assert verdict_paid.judge_cost_usd and verdict_paid.judge_cost_usd > 0
    assert verdict_cached.judge_cost_usd == 0 and not verdict_cached.cache_hit

    baseline = Baseline(paid.run, f"run {paid.run.id}")
    comparison = build_report(EvalStore(store), cached.run, baseline).comparison
    answer_cost = float(price_of(MODEL, Usage(1_000, 500), profile) or 0)
    assert comparison.baseline_cost_usd == pytest.approx(answer_cost)
    assert comparison.candidate_cost_usd == pytest.approx(answer_cost)
    assert comparison.cost_delta_usd == pytest.approx(0)


def test_an_unpriced_judge_makes_the_cases_cost_unknown_not_the_answers_alone(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.enqueue(Reply.text(ANSWER), Reply.text(VERDICT))
    suite = load_suite(write_suite(tmp_path, RUBRIC))
    outcome = run(settings, store, suite, concurrency=1, judge_model="my-own-judge")
    (result,) = EvalStore(store).results(outcome.run.id)
    assert result.status == "pass" and result.cost_usd is None
    assert outcome.run.summary is not None and outcome.run.summary.cost_usd is None


def test_a_cached_rubric_case_is_estimated_at_its_judge_calls_only_and_at_zero_when_judged(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    profile = settings.resolve_profile("fake")[1]
    suite = load_suite(write_suite(tmp_path, RUBRIC))
    fake.enqueue(Reply.text(ANSWER), Reply.text(VERDICT))
    first = run(settings, store, suite, concurrency=1, judge_model=JUDGE, max_cost_usd=1.0)
    assert (first.estimate.calls, first.estimate.judge_calls, first.estimate.cached) == (1, 1, 0)

    # Answer and verdict cached: $0, under any ceiling, nothing sent.
    again = run(settings, store, suite, judge_model=JUDGE, max_cost_usd=0.000001)
    figures = again.estimate
    assert (figures.calls, figures.judge_calls, figures.cached, figures.cost_usd) == (0, 0, 1, 0)
    assert describe_estimate(figures) == "nothing to send: 1 answered from the cache, at no cost"
    assert len(fake.chat_requests) == 2 and again.run.status == "completed"

    # Answer cached, another judge: only that judge's call, its input counted exactly.
    judge_input = [m.as_api() for m in judge_messages("Is a polite greeting", ANSWER)]
    tokens = count_messages(judge_input, "gpt-4o").tokens
    judge_cost = price_of("gpt-4o", Usage(tokens, JUDGE_REPLY_TOKENS), profile)
    assert judge_cost is not None and judge_cost > Decimal("0.0001")
    with pytest.raises(BadInput) as refused:
        run(settings, store, suite, judge_model="gpt-4o", max_cost_usd=0.0001)
    assert str(refused.value) == (
        f"estimated cost ${judge_cost:.4f} is above --max-cost $0.0001 (0 calls, 0 input tokens,"
        f" about 0 output tokens, 1 judge call; 1 answered from the cache, at no cost);"
        " nothing was sent"
    )
    fake.enqueue(Reply.text(VERDICT))
    rejudged = run(settings, store, suite, judge_model="gpt-4o", max_cost_usd=0.01)
    assert rejudged.estimate.cost_usd == judge_cost
    assert (rejudged.estimate.judge_input_tokens, rejudged.estimate.calls) == (tokens, 0)
    assert [body["model"] for body in bodies(fake)[2:]] == ["gpt-4o"]  # the judge only
    assert bodies(fake)[2]["messages"] == judge_input  # the request the estimate counted


def test_later_repeats_of_a_cached_rubric_case_are_still_estimated_in_full(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path, RUBRIC))
    fake.set_default(Reply.text(VERDICT))  # answers and verdicts alike
    run(settings, store, suite, concurrency=1, judge_model=JUDGE)
    repeated = run(settings, store, suite, concurrency=1, judge_model=JUDGE, repeats=3)
    figures = repeated.estimate
    assert (figures.calls, figures.cached, figures.judge_calls) == (2, 1, 2)
