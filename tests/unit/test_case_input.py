"""What a case asked and expects, as the Regressions views show it: a suite version read from
SQLite split by case (`EvalStore.suite_case_texts`), a case's messages built as the runner
builds them, assertions described as the suite gives them, long text folded, and suite
versions that cannot show an input saying why."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import iso
from core.evals.loader import load_suite
from core.evals.suite import Assertion, Suite
from storage.eval_records import SuiteVersion
from storage.evals import EvalStore
from storage.store import Store
from tests.support.eval_seed import suite_version
from tui.widgets.regressions.case_input import (
    MAX_LINES,
    MAX_TEXT,
    CaseInputs,
    SuiteCases,
    describe_assertion,
    folded,
    read_suite_cases,
)

NOW = iso(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
SUITE = """
name: asked
system: "Be brief."
prompt: "Hello {{name}}, what is {{sum}}?"
cases:
  - {id: a, vars: {name: Ann, sum: 1+1}, assert: [{type: equals, value: "2"}]}
  - id: b
    messages: [{role: user, content: "Only this"}]
    assert: [{type: contains-any, value: [x, y]}]
"""


@pytest.fixture
def evals(store: Store) -> EvalStore:
    return EvalStore(store)


def saved(evals: EvalStore, tmp_path: Path) -> tuple[Suite, int]:
    path = tmp_path / "asked.yaml"
    path.write_text(textwrap.dedent(SUITE), encoding="utf-8")
    suite = load_suite(path)
    version = SuiteVersion(name=suite.name, version=suite.version, format=suite.format,
                           content=suite.model_dump(mode="json"), case_count=len(suite.cases),
                           created_at=NOW, path=suite.path)  # fmt: skip
    return suite, evals.save_suite(version)


def test_a_suite_version_reads_split_by_case_and_each_case_parses_alone(
    evals: EvalStore, tmp_path: Path
) -> None:
    suite, suite_id = saved(evals, tmp_path)
    texts = evals.suite_case_texts(suite_id)
    assert texts is not None and set(texts.cases) == {"a", "b"}
    assert "cases" not in texts.suite and texts.suite["system"] == "Be brief."
    read = read_suite_cases(evals, suite_id)
    assert read.case("a") == suite.case("a") and read.case("b") == suite.case("b")
    assert evals.suite_case_texts(suite_id + 1) is None


def test_a_case_shows_the_messages_the_runner_sends(evals: EvalStore, tmp_path: Path) -> None:
    suite, suite_id = saved(evals, tmp_path)
    read = read_suite_cases(evals, suite_id)
    shown = read.describe("a").plain
    sent = suite.messages_for(suite.case("a"))
    assert [message.content for message in sent] == ["Be brief.", "Hello Ann, what is 1+1?"]
    assert "system: Be brief.\nuser: Hello Ann, what is 1+1?\n" in shown
    assert 'vars: name = "Ann" · sum = "1+1"' in shown
    # a messages case: the suite's system prompt first, then its messages
    assert "input\nsystem: Be brief.\nuser: Only this\n" in read.describe("b").plain
    assert 'contains-any ["x", "y"]' in read.describe("b").plain


def test_versions_without_a_readable_input_say_so(evals: EvalStore, tmp_path: Path) -> None:
    unreadable = evals.save_suite(suite_version("old", "1a", 2, NOW))  # content: not a suite
    assert read_suite_cases(evals, unreadable).describe("a").plain == (
        "input not recorded with this suite version\n"
    )
    assert read_suite_cases(evals, 999).suite is None
    _, suite_id = saved(evals, tmp_path)
    read = read_suite_cases(evals, suite_id)
    assert read.describe("gone").plain == f"no case gone in suite version {read.version}\n"
    assert len(read.version) == 7


@pytest.mark.parametrize(
    ("assertion", "shown"),
    [
        (Assertion(type="equals", value="Paris"), 'equals "Paris"'),
        (Assertion(type="regex", value=r"^\d+$"), r"regex ^\d+$"),
        (
            Assertion(type="llm-rubric", value="Is polite", threshold=0.7),
            "llm-rubric: Is polite · threshold 0.7",
        ),
        (Assertion(type="not-contains", value="x", weight=2), 'not-contains "x" · weight 2'),
        (
            Assertion(type="equals", value="a", options={"ignore_case": True}),
            'equals "a" · ignore_case true',
        ),
        (Assertion(type="is-json", value={"type": "object"}), 'is-json {"type": "object"}'),
        (Assertion(type="latency", threshold=500), "latency · threshold 500"),
        (Assertion(type="equals", value="[b]x\x1b[0m"), r'equals "[b]x\x1b[0m"'),
    ],
)
def test_an_assertion_reads_as_the_suite_gives_it(assertion: Assertion, shown: str) -> None:
    assert describe_assertion(assertion).plain == shown


def test_long_text_is_folded_and_says_how_much_more_there_is() -> None:
    long = "word " * 1000
    assert folded(long).plain == long[:MAX_TEXT] + f" … {len(long) - MAX_TEXT:,} more characters"
    many = "\n".join(f"line {index}" for index in range(30))
    kept = "\n".join(f"line {index}" for index in range(MAX_LINES))
    assert folded(many).plain == kept + f" … {len(many) - len(kept):,} more characters"
    assert folded("short\n\x1b[31m").plain == "short\n\\x1b[31m"


def test_a_view_keeps_the_suite_versions_it_read_the_latest_first() -> None:
    inputs = CaseInputs()
    inputs.add(SuiteCases(suite_id, None, {}) for suite_id in range(CaseInputs.KEPT + 2))
    assert inputs.get(0) is None and inputs.get(2) is not None
    assert inputs.unread(1, 2, 1, CaseInputs.KEPT + 5) == (1, CaseInputs.KEPT + 5)
