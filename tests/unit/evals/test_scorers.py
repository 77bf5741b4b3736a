"""Every deterministic scorer: what passes, what fails, the reason, and odd answers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from core.evals import jsontools
from core.evals.scorers import SIMILAR_MAX_CHARS, Output, number_in, quote
from core.evals.scoring import AssertionScore, score_assertion
from core.evals.suite import Assertion, Case
from tests.unit.evals.helpers import assertion, check

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("raw", "text", "passed"),
    [
        ({"type": "equals", "value": "Paris"}, "Paris", True),
        ({"type": "equals", "value": "Paris"}, "Paris\n", False),
        ({"type": "equals", "value": "Paris"}, "paris", False),
        ({"type": "equals", "value": "Paris", "options": {"ignore_case": True}}, "PARIS", True),
        ({"type": "equals", "value": "Straße", "options": {"ignore_case": True}}, "STRASSE", True),
        (
            {"type": "equals", "value": "a b", "options": {"ignore_whitespace": True}},
            " a\n\tb ",
            True,
        ),
        (
            {"type": "equals", "value": "Oui!", "options": {"ignore_punctuation": True}},
            "«Oui»",
            True,
        ),
        ({"type": "equals", "value": "Paris"}, "", False),
        ({"type": "equals", "value": {"a": [1, 2]}}, '{ "a": [1, 2.0] }', True),
        ({"type": "equals", "value": {"a": True}}, '{"a": 1}', False),
        ({"type": "equals", "value": {"a": 1}}, "not json", False),
        ({"type": "not-equals", "value": "Paris"}, "Lyon", True),
        ({"type": "contains", "value": "Paris"}, "It is Paris.", True),
        ({"type": "contains", "value": "paris"}, "It is Paris.", False),
        ({"type": "icontains", "value": "PARIS"}, "It is Paris.", True),
        ({"type": "icontains", "value": "ΣΟΦΙΑ"}, "σοφια", True),
        ({"type": "not-contains", "value": "sorry"}, "Sure!", True),
        ({"type": "not-icontains", "value": "SORRY"}, "I am sorry", False),
        ({"type": "contains", "value": 42}, "The answer is 42", True),
        ({"type": "contains-any", "value": ["Paris", "Lyon"]}, "Lyon it is", True),
        ({"type": "contains-any", "value": "Paris, Lyon"}, "Lyon it is", True),
        ({"type": "contains-any", "value": ["Paris", "Lyon"]}, "Nice", False),
        ({"type": "contains-all", "value": ["Paris", "Lyon"]}, "Paris and Lyon", True),
        ({"type": "contains-all", "value": ["Paris", "Lyon"]}, "Paris only", False),
        ({"type": "icontains-any", "value": ["PARIS"]}, "paris", True),
        ({"type": "icontains-all", "value": ["paris", "LYON"]}, "Paris, lyon", True),
        ({"type": "not-contains-any", "value": ["kill", "hate"]}, "peace", True),
        ({"type": "not-contains-all", "value": ["a", "z"]}, "abc", True),
        ({"type": "starts-with", "value": "Yes"}, "Yes, sure", True),
        ({"type": "starts-with", "value": "Yes"}, " Yes", False),
        ({"type": "regex", "value": r"\d{3}-\d{4}"}, "call 555-1234", True),
        ({"type": "regex", "value": r"^\d+$"}, "12a", False),
        ({"type": "regex", "value": r"(?i)^bonjour"}, "BONJOUR", True),
        ({"type": "not-regex", "value": r"\bI'm sorry\b"}, "Here you go", True),
        ({"type": "is-json"}, ' {"a": 1} ', True),
        ({"type": "is-json"}, "```json\n{}\n```", False),
        ({"type": "is-json"}, "", False),
        ({"type": "not-is-json"}, "plain", True),
        ({"type": "contains-json"}, 'Sure: {"a": 1} done', True),
        ({"type": "contains-json"}, "Sure:\n```json\n[1, 2]\n```", True),
        ({"type": "contains-json"}, "no {json} here", False),
        ({"type": "numeric", "value": 42}, "42", True),
        ({"type": "numeric", "value": 42}, "The answer is 42.", True),
        ({"type": "numeric", "value": 1234.5}, "1,234.5", True),
        ({"type": "numeric", "value": 3.14, "options": {"tolerance": 0.01}}, "3.141", True),
        ({"type": "numeric", "value": 3.14}, "3.15", False),
        ({"type": "numeric", "value": 1}, "one", False),
        ({"type": "latency", "threshold": 500}, "x", True),
        ({"type": "cost", "threshold": 0.001}, "x", True),
    ],
)
def test_deterministic_scorers(raw: dict[str, Any], text: str, passed: bool) -> None:
    result = check(raw, text, latency_ms=120.0, cost_usd=0.0002)
    assert result.passed is passed, result.reason
    assert result.score == (1.0 if passed else 0.0)
    assert result.reason


def test_reasons_state_what_was_found() -> None:
    assert check({"type": "contains-all", "value": ["a", "b", "c"]}, "a").reason == (
        'output lacks "b", "c"'
    )
    assert check({"type": "equals", "value": "Paris"}, "Parsi").reason.endswith("at character 4")
    assert check({"type": "regex", "value": r"\d+"}, "in 1999").reason == 'regex found "1999"'
    assert "not within 0 of 3.14" in check({"type": "numeric", "value": 3.14}, "3.15").reason
    assert check({"type": "latency", "threshold": 100}, "x", latency_ms=250.0).reason == (
        "latency 250 ms > 100 ms"
    )


def test_negation_keeps_the_fact_and_flips_the_verdict() -> None:
    plain = check({"type": "contains", "value": "sorry"}, "so sorry")
    negated = check({"type": "not-contains", "value": "sorry"}, "so sorry")
    assert plain.passed and not negated.passed
    assert negated.reason == plain.reason == 'output contains "sorry"'
    assert negated.type == "not-contains"


def test_latency_and_cost_fail_when_unknown() -> None:
    assert not check({"type": "latency", "threshold": 1000}, "x").passed
    unpriced = check({"type": "cost", "threshold": 1}, "x", cost_usd=None)
    assert not unpriced.passed and "unknown" in unpriced.reason
    assert not check({"type": "cost", "threshold": 0.001}, "x", cost_usd=0.01).passed


def test_json_schema_is_applied() -> None:
    schema = {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}
    assert check({"type": "is-json", "value": schema}, '{"city": "Paris"}').passed
    wrong = check({"type": "is-json", "value": schema}, '{"city": 3}')
    assert not wrong.passed
    assert "at city" in wrong.reason and "not of type 'string'" in wrong.reason
    assert not check({"type": "is-json", "value": schema}, "{}").passed
    found = check({"type": "contains-json", "value": schema}, 'x {"a": 1} y {"city": "Rome"}')
    assert found.passed


def test_a_schema_is_made_a_validator_once_not_once_per_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jsonschema import validators

    made: list[Any] = []
    validator_for = validators.validator_for

    def counted(schema: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(schema)
        return validator_for(schema, *args, **kwargs)

    monkeypatch.setattr(validators, "validator_for", counted)
    city = assertion({"type": "is-json", "value": {"type": "object", "required": ["city"]}})
    listed = assertion({"type": "is-json", "value": {"type": "array"}})
    answers = ['{"city": "Paris"}', "{}", "[1]"]

    def made_for_ours() -> int:
        return sum(1 for schema in made if schema is city.value or schema is listed.value)

    assert [_scored(city, text).passed for text in answers] == [True, False, False]
    assert [_scored(listed, text).passed for text in answers] == [False, False, True]
    first = made_for_ours()
    assert first > 0
    for _ in range(3):
        assert [_scored(city, text).passed for text in answers] == [True, False, False]
        assert [_scored(listed, text).passed for text in answers] == [False, False, True]
    assert made_for_ours() == first  # not once more per answer

    broken = assertion({"type": "is-json", "value": {"$ref": "#/$defs/missing"}})
    reasons = {_scored(broken, "{}").reason for _ in range(2)}
    assert len(reasons) == 1 and "the schema cannot be applied" in reasons.pop()


def _scored(checked: Assertion, text: str) -> AssertionScore:
    return asyncio.run(score_assertion(checked, Output(text), Case(id="c1")))


def test_a_schema_given_as_yaml_text_or_file(tmp_path: Any) -> None:
    from tests.unit.evals.helpers import assertion

    (tmp_path / "schema.json").write_text('{"type": "array", "minItems": 2}')
    by_file = assertion({"type": "is-json", "value": "file://schema.json"}, base=tmp_path)
    by_text = assertion({"type": "is-json", "value": "type: array\nminItems: 2"})
    assert by_file.value == by_text.value == {"type": "array", "minItems": 2}


@pytest.mark.parametrize(
    ("text", "passed", "reason"),
    [
        ('{"answer": {"city": "Paris"}}', True, 'answer.city is "Paris"'),
        ('{"answer": {"city": "Lyon"}}', False, 'answer.city is "Lyon", not "Paris"'),
        ('{"answer": {}}', False, "JSON has no field answer.city"),
        ('Here: ```json\n{"answer": {"city": "Paris"}}\n```', True, 'answer.city is "Paris"'),
        ("no json", False, "output contains no JSON"),
    ],
)
def test_json_field(text: str, passed: bool, reason: str) -> None:
    result = check(
        {"type": "json-field", "value": "Paris", "options": {"path": "answer.city"}}, text
    )
    assert (result.passed, result.reason) == (passed, reason)


def test_json_field_paths_index_lists_and_compare_json_types() -> None:
    raw = {"type": "json-field", "value": 2, "options": {"path": "items[1].n"}}
    assert check(raw, '{"items": [{"n": 1}, {"n": 2.0}]}').passed
    assert not check(raw, '{"items": [{"n": 1}, {"n": "2"}]}').passed
    dotted = {"type": "json-field", "value": True, "options": {"path": "items.0.ok"}}
    assert check(dotted, '{"items": [{"ok": true}]}').passed
    assert not check(dotted, '{"items": [{"ok": 1}]}').passed


def test_similar_uses_a_fuzzy_ratio_with_a_threshold() -> None:
    close = check({"type": "similar", "value": "The capital is Paris."}, "the capital is paris")
    assert close.passed and close.score == 1.0
    partial = check({"type": "similar", "value": "Paris is the capital"}, "Lyon is a city")
    assert not partial.passed and 0 < partial.score < 0.8
    assert "similarity" in partial.reason and "< 0.8" in partial.reason
    best = check(
        {"type": "similar", "value": ["nothing alike", "Paris"], "threshold": 0.9}, "Paris"
    )
    assert best.passed and '"Paris"' in best.reason
    negated = check({"type": "not-similar", "value": "Paris"}, "Paris")
    assert not negated.passed and negated.score == 0.0


def test_empty_and_unicode_answers() -> None:
    for raw in (
        {"type": "contains", "value": "x"},
        {"type": "regex", "value": "x"},
        {"type": "is-json"},
        {"type": "contains-json"},
        {"type": "numeric", "value": 0},
        {"type": "similar", "value": "x"},
        {"type": "json-field", "value": 1, "options": {"path": "a"}},
    ):
        result = check(raw, "")
        assert not result.passed and result.score == 0.0, raw
    emoji = "Réponse: 東京 🚀 — ça marche"
    assert check({"type": "contains", "value": "東京 🚀"}, emoji).passed
    assert check({"type": "icontains", "value": "RÉPONSE"}, emoji).passed
    assert check({"type": "regex", "value": r"\p{Han}+"}, emoji).reason == 'regex found "東京"'
    assert check({"type": "similar", "value": emoji}, emoji).passed


def test_invalid_json_answers_fail_with_the_decoder_reason() -> None:
    result = check({"type": "is-json"}, '{"a": 1,,}')
    assert not result.passed
    assert result.reason.startswith("output is not JSON (Expecting property name")
    assert "line 1 column 9" in result.reason
    assert not check({"type": "is-json"}, "[" * 100_000).passed  # nested too deeply
    assert not check({"type": "equals", "value": {"a": 1}}, "{'a': 1}").passed


def test_huge_answers_are_scored_quickly() -> None:
    huge = ("lorem ipsum dolor sit amet " * (MB // 27 + 1))[:MB] + " Paris"
    started = time.perf_counter()
    assert check({"type": "contains", "value": "Paris"}, huge).passed
    assert check({"type": "icontains", "value": "PARIS"}, huge).passed
    assert not check(
        {"type": "equals", "value": "x", "options": {"ignore_punctuation": True}}, huge
    ).passed
    assert check({"type": "regex", "value": r"Paris$"}, huge).passed
    assert not check({"type": "is-json"}, huge).passed
    assert not check({"type": "contains-json"}, huge).passed
    assert check({"type": "not-numeric", "value": 7}, huge).passed
    similar = check({"type": "similar", "value": "lorem ipsum"}, huge)
    assert not similar.passed and f"first {SIMILAR_MAX_CHARS:,} characters" in similar.reason
    assert time.perf_counter() - started < 5


HOSTILE = {
    "deep brackets": "[" * MB,
    "deep objects": '{"a":' * (MB // 5),
    "brackets in an open string": '["' + "[" * MB,
    "braces": "{" * MB,
    "empty fences": "```\n" * (MB // 4),
    "fences never closed": "a```\n" * (MB // 5),
    "an open array": "[" + "1," * (MB // 2),
}


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_json_search_is_bounded_on_hostile_answers(hostile: str) -> None:
    started = time.perf_counter()
    values = list(jsontools.json_values_in(hostile))
    assert not check({"type": "contains-json"}, hostile).passed
    assert not check({"type": "json-field", "value": 1, "options": {"path": "a"}}, hostile).passed
    assert values == []
    assert time.perf_counter() - started < 5


def test_json_values_are_found_in_order_without_nested_repeats() -> None:
    text = 'a {"x": {"y": 1}} b [1, 2] c {bad} {"z": 2}'
    assert list(jsontools.json_values_in(text)) == [{"x": {"y": 1}}, [1, 2], {"z": 2}]


def test_a_catastrophic_user_regex_gives_up_instead_of_hanging() -> None:
    started = time.perf_counter()
    result = check({"type": "regex", "value": r"^(a|aa)+$"}, "a" * 5000 + "b")
    assert not result.passed
    assert result.reason.startswith("regex gave up after 0.5 s")
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("42", 42.0),
        (" -3.5e2 ", -350.0),
        ("1,234,567", 1234567.0),
        ("The result is 7. Or maybe 8.", 8.0),
        ("Total: .5", 0.5),
        ("none", None),
        ("1" * 400, None),  # overflows to infinity: not a number
    ],
)
def test_number_in(text: str, number: float | None) -> None:
    assert number_in(text) == number


def test_a_quoted_answer_stays_one_line_and_shows_its_control_characters() -> None:
    quoted = quote("a\nb\r\x1b[31mred\u202eevil", limit=60)
    assert quoted == '"a\\nb\\x0d\\x1b[31mred\\u202eevil"'
    assert quoted.isprintable()
