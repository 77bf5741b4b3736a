"""No input crashes the loader with anything but BadInput; no answer crashes scoring."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import BadInput
from core.evals.loader import load_suite
from core.evals.scorers import Output
from core.evals.scoring import score_case
from core.evals.suite import Suite
from tests.unit.evals.helpers import assertion

KEYS = [
    "cases", "prompts", "tests", "defaultTest", "defaults", "prompt", "system", "params", "name",
    "providers", "id", "input", "messages", "vars", "assert", "type", "value", "threshold",
    "weight", "metric", "options", "config", "tags", "critical", "expected", "metadata", "role",
    "content", "description", "raw", "label", "path", "tolerance", "ignore_case", "temperature",
    "max_tokens", "disableVarExpansion", "scenarios", "transform",
]  # fmt: skip
WORDS = [
    "contains", "not-icontains", "equals", "regex", "is-json", "json-field", "similar",
    "llm-rubric", "python", "latency", "cost", "numeric", "contains-any", "javascript", "user",
    "system", "wizard", "{{ q }}", "{{q}}", "{% if %}", "{{ a | b }}", "file://x.txt",
    "file://*.yaml", "file://t.csv", "(", "[a-", "a,b", "", "  ", "t1", "c1", "openai:gpt-4o",
    "2024-01-01", "\u00e9\u6771\U0001f680", "\x00", "---",
]  # fmt: skip
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def documents() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(WORDS),
        st.text(max_size=8),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.sampled_from(KEYS), children, max_size=6),
        ),
        max_leaves=40,
    )


def attempt(name: str, data: bytes) -> Suite | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        (Path(folder) / "t.csv").write_text("q,__expected\na,contains:a\n")
        (Path(folder) / "x.txt").write_text("{{q}}")
        try:
            suite = load_suite(path)
        except BadInput as error:
            assert str(error) and "\n" not in str(error)
            return None
    for case in suite.cases:  # a loaded suite always renders
        suite.messages_for(case)
    Suite.model_validate_json(suite.model_dump_json())
    return suite


@SETTINGS
@given(documents(), st.sampled_from(["s.yaml", "promptfooconfig.yml"]))
def test_structured_yaml_never_crashes_the_loader(document: Any, name: str) -> None:
    attempt(name, yaml.safe_dump(document, allow_unicode=True).encode())


@SETTINGS
@given(documents())
def test_structured_json_and_jsonl_never_crash_the_loader(document: Any) -> None:
    text = json.dumps(document)
    attempt("s.json", text.encode())
    lines = document if isinstance(document, list) else [document]
    attempt("s.jsonl", "\n".join(json.dumps(line) for line in lines).encode())


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from(["s.yaml", "s.json", "s.jsonl"]))
def test_arbitrary_bytes_never_crash_the_loader(data: bytes, name: str) -> None:
    attempt(name, data)


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text_as_yaml_never_crashes_the_loader(text: str) -> None:
    attempt("s.yaml", ("cases:\n  - input: x\n    assert:\n      - " + text).encode())
    attempt("p.yaml", ("prompts: [x]\ntests:\n  - " + text).encode())


CHECKS = [
    {"type": "equals", "value": "a", "options": {"ignore_punctuation": True}},
    {"type": "equals", "value": {"a": [1]}},
    {"type": "icontains-all", "value": ["a", "\u00df"]},
    {"type": "not-starts-with", "value": "x"},
    {"type": "regex", "value": r"(\w+\s?)+$"},
    {"type": "is-json", "value": {"type": "object", "required": ["a"]}},
    {"type": "contains-json"},
    {"type": "json-field", "value": 1, "options": {"path": "a[0].b"}},
    {"type": "numeric", "value": 3, "options": {"tolerance": 0.5}},
    {"type": "similar", "value": ["abc", "\u6771\u4eac"]},
    {"type": "latency", "threshold": 10},
    {"type": "cost", "threshold": 0},
    {"type": "python", "value": "len(output) % 2 == 0"},
    {"type": "python", "value": "1 / len(output)"},
]


@SETTINGS
@given(
    st.one_of(st.text(max_size=400), st.from_regex(r"[\[\]{}\",:0-9a ]{0,400}", fullmatch=True)),
    st.one_of(st.none(), st.floats(allow_nan=True)),
)
def test_no_answer_crashes_scoring(text: str, measure: float | None) -> None:
    from core.evals.suite import Case

    case = Case(id="c", assertions=[assertion(raw) for raw in CHECKS])
    result = asyncio.run(score_case(case, Output(text, latency_ms=measure, cost_usd=measure)))
    assert 0.0 <= result.score <= 1.0
    assert len(result.assertions) == len(CHECKS)
    assert all(0.0 <= item.score <= 1.0 and item.reason for item in result.assertions)
