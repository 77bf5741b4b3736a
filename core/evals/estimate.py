"""Before a run: how many tokens it will send and receive, and what it may cost.

Input tokens are counted exactly with the model's tokenizer (core.tokens), messages and tools
included, but for the earlier answers a conversation's later turns carry, assumed at a typical
length. Output tokens cannot be known; they are bounded by `max_tokens` when the run sets it
(then the cost is a ceiling), else assumed at `output_tokens_per_case` each (an estimate, not a
ceiling: `output_basis` says which). Model-graded (`llm-rubric`) assertions add one judge call
each; they are priced when the judge model is given. The cache is the caller's business
(`core.evals.cachepass.cases_to_send`): it passes only the cases whose answers are to be sent,
and, for answers in the cache whose verdicts are not, the judge requests still to be made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from core.evals.conversations import earlier_turns_tokens
from core.evals.judge import judge_messages
from core.evals.suite import Case, Suite
from core.params import RequestParams
from core.prices import price_of
from core.settings import Profile
from core.tokens import count_messages, count_messages_batch
from storage.records import Usage

ASSUMED_OUTPUT_TOKENS = 512
"""Output tokens assumed per answer when the run sets no max_tokens."""
JUDGE_REPLY_TOKENS = 150
"""Output tokens assumed per judge reply (a short JSON verdict)."""
EARLIER_ANSWER_TOKENS = 200
"""Tokens assumed for each earlier answer a conversation's later turn carries (below
max_tokens): a typical answer, not the ceiling. At the ceiling, a 100-turn conversation's
prompts were estimated at millions of tokens they never hold; the input figure is then
marked as estimated."""

JudgeRequest = list[dict[str, Any]]
"""The API messages of a judge call whose answer is known (read from the cache): its input
is counted exactly."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """Tokens and cost of a run, before it starts.

    Attributes:
        calls: model calls (cases times repeats), judge calls not included.
        input_tokens: prompt tokens of those calls, counted.
        output_tokens: completion tokens of those calls, bounded or assumed.
        output_basis: `max_tokens` (a ceiling) or `assumed`.
        exact: whether the model's own tokenizer counted the input (else an estimate: an
            unknown tokenizer, or a conversation's earlier answers, assumed).
        judge_calls: `llm-rubric` assertions times repeats, and the judge requests of
            cached answers.
        judge_input_tokens / judge_output_tokens: 0 unless a judge model was given.
        cost_usd: the whole run, judge included when given; None when a model has no price.
        cached: pairs whose answer the cache has (their answers are in none of the above:
            they cost nothing; their judge calls not in the cache are in `judge_calls`).
    """

    calls: int
    input_tokens: int
    output_tokens: int
    output_basis: Literal["max_tokens", "assumed"]
    exact: bool
    judge_calls: int
    judge_input_tokens: int
    judge_output_tokens: int
    cost_usd: Decimal | None
    cached: int = 0


def estimate_suite(
    suite: Suite,
    model: str,
    profile: Profile,
    *,
    repeats: int = 1,
    cases: Sequence[Case] | None = None,
    params: RequestParams | None = None,
    output_tokens_per_case: int = ASSUMED_OUTPUT_TOKENS,
    judge_model: str | None = None,
    judge_requests: Sequence[JudgeRequest] = (),
) -> Estimate:
    """Estimate a run of `cases` (default: all of the suite's) on `model`, `repeats` times.

    Args:
        params: the run's parameters (default: the suite's); `max_tokens` bounds the output.
        output_tokens_per_case: assumed answer length when there is no max_tokens.
        judge_model: the model grading `llm-rubric` assertions, to price its calls.
        judge_requests: judge calls to make besides those of `cases` (for answers read from
            the cache), counted by their messages.

    Raises:
        ValueError: repeats or output_tokens_per_case below 1.
    """
    if repeats < 1 or output_tokens_per_case < 1:
        raise ValueError("repeats and output_tokens_per_case must be at least 1")
    chosen = list(suite.cases if cases is None else cases)
    params = params or suite.params
    input_tokens, exact = _input_tokens(suite, chosen, model, params)
    per_answer = params.max_tokens or output_tokens_per_case
    earlier = earlier_turns_tokens(suite, chosen, model, min(per_answer, EARLIER_ANSWER_TOKENS))
    input_tokens += earlier  # a conversation's earlier turns, their answers assumed
    exact = exact and not earlier
    usage = Usage(
        prompt_tokens=input_tokens * repeats,
        completion_tokens=per_answer * len(chosen) * repeats,
    )
    rubrics = [
        str(a.value) for case in chosen for a in case.assertions if a.base_type == "llm-rubric"
    ]
    judge = _judge_usage(rubrics, judge_model, per_answer, repeats)
    known = _known_judge_usage(judge_requests, judge_model)
    judge = Usage(
        prompt_tokens=judge.prompt_tokens + known.prompt_tokens,
        completion_tokens=judge.completion_tokens + known.completion_tokens,
    )
    cost = price_of(model, usage, profile)
    if judge_model is not None and judge.total_tokens and cost is not None:
        judge_cost = price_of(judge_model, judge, profile)
        cost = None if judge_cost is None else cost + judge_cost
    return Estimate(
        calls=len(chosen) * repeats,
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        output_basis="max_tokens" if params.max_tokens else "assumed",
        exact=exact,
        judge_calls=len(rubrics) * repeats + len(judge_requests),
        judge_input_tokens=judge.prompt_tokens,
        judge_output_tokens=judge.completion_tokens,
        cost_usd=cost,
    )


def _judge_usage(rubrics: list[str], judge_model: str | None, answer: int, repeats: int) -> Usage:
    """Judge tokens: its prompt with the rubric and a full answer, and a short verdict."""
    if judge_model is None or not rubrics:
        return Usage()
    prompt = sum(_judge_prompt_tokens(rubric, judge_model) + answer for rubric in rubrics)
    return Usage(
        prompt_tokens=prompt * repeats,
        completion_tokens=JUDGE_REPLY_TOKENS * len(rubrics) * repeats,
    )


def _known_judge_usage(requests: Sequence[JudgeRequest], judge_model: str | None) -> Usage:
    """Judge tokens of requests whose messages are known: counted, and a short verdict each."""
    if judge_model is None or not requests:
        return Usage()
    counts = count_messages_batch(list(requests), judge_model)
    return Usage(
        prompt_tokens=sum(count.tokens for count in counts),
        completion_tokens=JUDGE_REPLY_TOKENS * len(requests),
    )


def _input_tokens(
    suite: Suite, cases: list[Case], model: str, params: RequestParams
) -> tuple[int, bool]:
    conversations = [[m.as_api() for m in suite.messages_for(case)] for case in cases]
    if not conversations:
        return 0, True
    if params.tools:
        counts = [count_messages(messages, model, params.tools) for messages in conversations]
    else:
        counts = count_messages_batch(conversations, model)
    return sum(count.tokens for count in counts), all(count.exact for count in counts)


def _judge_prompt_tokens(rubric: str, model: str) -> int:
    messages = [m.as_api() for m in judge_messages(rubric, "")]
    return count_messages(messages, model).tokens
