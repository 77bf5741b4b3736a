"""The pre-flight estimate: exact input tokens, bounded output, priced like a real call."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from core.evals.estimate import ASSUMED_OUTPUT_TOKENS, JUDGE_REPLY_TOKENS, estimate_suite
from core.evals.judge import judge_messages
from core.evals.loader import load_suite
from core.evals.suite import Suite
from core.params import RequestParams
from core.settings import ModelPrice, Profile
from core.tokens import count_messages

SUITE = """\
params: {temperature: 0, max_tokens: 50}
system: Answer briefly.
prompt: "What is the capital of {{country}}?"
cases:
  - {id: fr, vars: {country: France}, assert: [{type: icontains, value: paris}]}
  - {id: jp, vars: {country: Japan}, assert: [{type: llm-rubric, value: Names Tokyo}]}
  - {id: hi, input: Hi}
"""
PRICED = Profile(
    base_url="https://api.example.invalid/v1",
    prices={"gpt-4o-mini": ModelPrice(input=Decimal(2), output=Decimal(8))},
)


@pytest.fixture
def suite(tmp_path: Path) -> Suite:
    path = tmp_path / "capitals.yaml"
    path.write_text(SUITE)
    return load_suite(path)


def tokens(suite: Suite, case_id: str) -> int:
    messages = [m.as_api() for m in suite.messages_for(suite.case(case_id))]
    return count_messages(messages, "gpt-4o-mini").tokens


def test_input_is_counted_exactly_and_output_bounded_by_max_tokens(suite: Suite) -> None:
    estimate = estimate_suite(suite, "gpt-4o-mini", PRICED, repeats=3)
    prompt = sum(tokens(suite, case_id) for case_id in ("fr", "jp", "hi"))
    assert estimate.calls == 9 and estimate.exact
    assert estimate.input_tokens == prompt * 3
    assert estimate.output_tokens == 50 * 3 * 3 and estimate.output_basis == "max_tokens"
    assert estimate.cost_usd == (Decimal(prompt * 3 * 2) + Decimal(450 * 8)) / 1_000_000
    assert estimate.judge_calls == 3 and estimate.judge_input_tokens == 0


def test_a_known_count() -> None:
    # The OpenAI cookbook's framing: 3 per message + role + content + 3 to prime the reply.
    assert count_messages([{"role": "user", "content": "Hi"}], "gpt-4o-mini").tokens == 8


def test_without_max_tokens_the_output_is_assumed(suite: Suite) -> None:
    params = RequestParams(temperature=0)
    estimate = estimate_suite(suite, "gpt-4o-mini", PRICED, params=params)
    assert estimate.output_basis == "assumed"
    assert estimate.output_tokens == ASSUMED_OUTPUT_TOKENS * 3
    custom = estimate_suite(suite, "gpt-4o-mini", PRICED, params=params, output_tokens_per_case=7)
    assert custom.output_tokens == 21


def test_a_subset_of_cases(suite: Suite) -> None:
    estimate = estimate_suite(suite, "gpt-4o-mini", PRICED, cases=[suite.case("hi")])
    assert (estimate.calls, estimate.input_tokens, estimate.judge_calls) == (
        1,
        tokens(suite, "hi"),
        0,
    )
    assert estimate_suite(suite, "gpt-4o-mini", PRICED, cases=[]).cost_usd == 0


def test_judge_calls_are_priced_when_the_judge_model_is_given(suite: Suite) -> None:
    plain = estimate_suite(suite, "gpt-4o-mini", PRICED)
    judged = estimate_suite(suite, "gpt-4o-mini", PRICED, judge_model="gpt-4o-mini")
    rubric = [m.as_api() for m in judge_messages("Names Tokyo", "")]
    judge_in = count_messages(rubric, "gpt-4o-mini").tokens + 50
    assert (judged.judge_input_tokens, judged.judge_output_tokens) == (judge_in, JUDGE_REPLY_TOKENS)
    extra = (Decimal(judge_in * 2) + Decimal(JUDGE_REPLY_TOKENS * 8)) / 1_000_000
    assert plain.cost_usd is not None and judged.cost_usd == plain.cost_usd + extra


def test_unknown_prices_and_local_endpoints(suite: Suite) -> None:
    unpriced = estimate_suite(suite, "no-such-model-xyz", PRICED)
    assert unpriced.cost_usd is None and not unpriced.exact
    local = Profile(base_url="http://127.0.0.1:8000/v1", local=True)
    assert estimate_suite(suite, "no-such-model-xyz", local).cost_usd == 0
    judged_unpriced = estimate_suite(suite, "gpt-4o-mini", PRICED, judge_model="no-such-judge")
    assert judged_unpriced.cost_usd is None


def test_tools_are_counted(suite: Suite) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "description": "Find a city."}}
    with_tools = estimate_suite(suite, "gpt-4o-mini", PRICED, params=RequestParams(tools=[tool]))
    without = estimate_suite(suite, "gpt-4o-mini", PRICED, params=RequestParams())
    assert with_tools.input_tokens > without.input_tokens


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        estimate_suite(Suite.model_construct(cases=[]), "m", PRICED, repeats=0)
