"""A case's verdict from its assertions; the judge (llm-rubric) and custom python scorers."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from core.evals.judge import JUDGE_MAX_CHARS, UnreadableVerdict, judge_messages, read_verdict
from core.evals.scorers import Output
from core.evals.sources import SuiteProblem
from core.evals.suite import Case
from core.params import Message
from tests.unit.evals.helpers import assertion, score

EXAMPLES = "tests.unit.evals.scorer_examples"


def case(*raws: dict[str, Any], **fields: Any) -> Case:
    variables = fields.get("vars") or {}
    built = [assertion(raw, variables=variables, expected=fields.get("expected")) for raw in raws]
    return Case(id=fields.pop("id", "c1"), assertions=built, **fields)


class ScriptedJudge:
    """Stands in for the judge model the runner injects: replies in turn, records prompts."""

    def __init__(self, *replies: str | Exception) -> None:
        self.replies = list(replies)
        self.seen: list[list[Message]] = []

    async def __call__(self, messages: list[Message]) -> str:
        self.seen.append(messages)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def test_a_case_passes_when_all_its_assertions_pass() -> None:
    checks = case(
        {"type": "contains", "value": "Paris"}, {"type": "not-icontains", "value": "sorry"}
    )
    assert score(checks, Output("Paris")).passed
    failed = score(checks, Output("Sorry, Paris"))
    assert not failed.passed and failed.score == 0.5
    assert failed.reasons == ['not-icontains: output contains "sorry"']


def test_weights_make_the_mean_score() -> None:
    checks = case(
        {"type": "contains", "value": "a", "weight": 3},
        {"type": "contains", "value": "z", "weight": 1},
        {"type": "contains", "value": "q", "weight": 0},
    )
    result = score(checks, Output("abc"))
    assert result.score == 0.75 and not result.passed


def test_a_threshold_decides_instead_of_every_assertion_as_in_promptfoo() -> None:
    checks = case(
        {"type": "contains", "value": "a"},
        {"type": "contains", "value": "b"},
        {"type": "contains", "value": "z"},
        threshold=0.6,
    )
    assert score(checks, Output("ab")).passed  # 2/3 >= 0.6 though one failed
    assert not score(checks, Output("a")).passed


def test_no_assertions_pass_and_an_error_answer_fails_everything() -> None:
    assert score(Case(id="c"), Output("")).passed
    checks = case({"type": "not-contains", "value": "x"}, {"type": "latency", "threshold": 1e9})
    errored = score(checks, Output("", error="RateLimitError: 429"))
    assert (errored.passed, errored.errored, errored.score) == (False, True, 0.0)
    assert all(item.reason == "no answer: RateLimitError: 429" for item in errored.assertions)
    assert errored.as_dict()["assertions"][0]["error"] is True


def test_values_take_the_case_vars_and_expected() -> None:
    checks = case(
        {"type": "icontains", "value": "{{ city }}"},
        {"type": "similar"},
        vars={"city": "Rome"},
        expected="Rome is the capital",
    )
    assert checks.assertions[0].value == "Rome"
    assert checks.assertions[1].value == "Rome is the capital"
    assert score(checks, Output("rome is the capital!")).passed


def test_the_judge_grades_a_rubric() -> None:
    judge = ScriptedJudge('{"reason": "It greets.", "pass": true, "score": 0.9}')
    checks = case({"type": "llm-rubric", "value": "Greets the user"})
    result = score(checks, Output("Hello there"), judge)
    assert result.passed and result.score == 0.9
    assert result.assertions[0].reason == "judge: It greets."
    system, user = judge.seen[0]
    assert system.role == "system" and "JSON" in str(system.content)
    assert user.content == "<rubric>\nGreets the user\n</rubric>\n<output>\nHello there\n</output>"


def test_a_rubric_threshold_and_negation() -> None:
    judge = ScriptedJudge('{"pass": true, "score": 0.4}', '{"pass": false, "score": 0.0}')
    strict = case({"type": "llm-rubric", "value": "Polite", "threshold": 0.5})
    assert not score(strict, Output("ok"), judge).passed
    negated = case({"type": "not-llm-rubric", "value": "Speaks like a pirate"})
    assert score(negated, Output("Good day"), judge).passed


@pytest.mark.parametrize(
    ("reply", "passed", "value"),
    [
        ('```json\n{"pass": false, "score": 0.2, "reason": "rude"}\n```', False, 0.2),
        ('Sure. {"Pass": "true", "Score": "0.8", "Reason": "ok"} Hope it helps', True, 0.8),
        ("The answer is polite and complete.\nVerdict: PASS", True, 1.0),
        ("It misses the point. FAIL", False, 0.0),
        ("pass: false, score: 0.3", False, 0.3),
        ("score: 0.75", True, 0.75),
        ('{"pass": true, "score": 7}', True, 1.0),  # an out-of-range score is ignored
    ],
)
def test_judge_replies_are_read_robustly(reply: str, passed: bool, value: float) -> None:
    verdict = read_verdict(reply)
    assert (verdict.passed, verdict.score) == (passed, value)


def test_an_unreadable_reply_or_a_failing_judge_is_an_error_not_a_failure() -> None:
    with pytest.raises(UnreadableVerdict, match="judge reply not understood"):
        read_verdict("I cannot decide.")
    checks = case({"type": "not-llm-rubric", "value": "x"})
    unreadable = score(checks, Output("y"), ScriptedJudge("hmm"))
    assert (unreadable.passed, unreadable.errored) == (False, True)
    down = score(checks, Output("y"), ScriptedJudge(ConnectionError("judge endpoint down")))
    assert (down.passed, down.errored) == (False, True)
    assert down.assertions[0].reason == "judge failed: ConnectionError: judge endpoint down"
    assert score(checks, Output("y")).assertions[0].reason == "no judge model to grade the rubric"


def test_the_judge_sees_at_most_a_bounded_answer() -> None:
    messages = judge_messages("Is short", "x" * (JUDGE_MAX_CHARS + 5000))
    content = str(messages[1].content)
    assert len(content) < JUDGE_MAX_CHARS + 200
    assert "[... 5,000 more characters not shown]" in content


def test_custom_scorers_by_import_path() -> None:
    mentions = case({"type": "python", "value": f"{EXAMPLES}:mentions_city"}, vars={"city": "Oslo"})
    assert score(mentions, Output("Welcome to OSLO")).passed
    assert not score(mentions, Output("Bergen")).passed
    ratio = case(
        {
            "type": "python",
            "value": f"{EXAMPLES}:length_ratio",
            "config": {"target": 10},
            "threshold": 0.5,
        }
    )
    half = score(ratio, Output("12345"))
    assert half.passed and half.score == 0.5
    assert not score(ratio, Output("1234")).passed
    graded = score(case({"type": "python", "value": f"{EXAMPLES}:graded"}, id="t7"), Output("yes"))
    assert graded.passed and graded.score == 0.7 and graded.assertions[0].reason == "case t7"
    as_score = score(case({"type": "python", "value": f"{EXAMPLES}:as_score"}), Output(""))
    assert as_score.score == 0.25 and as_score.assertions[0].reason == "quarter"
    awaited = case({"type": "python", "value": f"{EXAMPLES}:slow_but_async"})
    assert score(awaited, Output("ok")).passed


def test_a_crashing_custom_scorer_is_a_failed_assertion_never_a_crash() -> None:
    for name, reason in [
        ("broken", "scorer failed: ZeroDivisionError: the scorer divided by zero"),
        ("odd", "scorer failed: TypeError: python scorer returned a list, not a bool"),
    ]:
        for prefix in ("", "not-"):  # a crash fails whatever the polarity
            checks = case({"type": f"{prefix}python", "value": f"{EXAMPLES}:{name}"})
            result = score(checks, Output("x"))
            assert not result.passed and not result.errored
            assert result.assertions[0].reason.startswith(reason)


def test_inline_python_code_as_promptfoo_writes_it() -> None:
    one_line = case(
        {"type": "python", "value": "len(output) < 5 and context['vars']['n'] == 2"}, vars={"n": 2}
    )
    assert score(one_line, Output("abc")).passed
    body = case(
        {
            "type": "python",
            "value": "words = output.split()\nif not words:\n    return 0\nreturn len(words) / 4",
        }
    )
    result = score(body, Output("one two three"))
    assert result.passed and result.score == 0.75


def test_custom_scorer_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "checks.py").write_text(
        "def get_assert(output, context):\n    return output.isupper()\n"
        "def shouty(output, context):\n    return {'pass': output.endswith('!'), 'score': 1}\n"
    )
    default = assertion({"type": "python", "value": "file://checks.py"}, base=tmp_path)
    named = assertion({"type": "python", "value": "file://checks.py:shouty"}, base=tmp_path)
    assert default.value == f"file://{tmp_path / 'checks.py'}:get_assert"
    assert score(Case(id="c", assertions=[default, named]), Output("HEY!")).passed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"{EXAMPLES}:missing", "missing is not a function of the module"),
        (f"{EXAMPLES}:NOT_A_FUNCTION", "NOT_A_FUNCTION is not a function"),
        ("no_such_package.mod:fn", "no module no_such_package.mod in "),
        ("file://nowhere.py", "no such file"),
        ("return (", "python: inline code: '(' was never closed (line 1)"),
        ("x = 1\ny = (", "python: inline code: '(' was never closed (line 2)"),
    ],
)
def test_custom_scorers_that_cannot_load_are_refused(value: str, message: str) -> None:
    with pytest.raises(SuiteProblem, match=re.escape(message)):
        assertion({"type": "python", "value": value})


def test_scoring_is_async_and_concurrent_safe() -> None:
    judge = ScriptedJudge(*['{"pass": true}'] * 20)
    checks = case({"type": "llm-rubric", "value": "ok"}, {"type": "contains", "value": "a"})

    async def many() -> list[bool]:
        from core.evals.scoring import score_case

        results = await asyncio.gather(*(score_case(checks, Output("a"), judge) for _ in range(20)))
        return [result.passed for result in results]

    assert asyncio.run(many()) == [True] * 20
