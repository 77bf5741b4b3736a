"""A scorer file edited while the process lives (the console) is used by the next suite loaded
from it, as the suite's version says; an unchanged one is not loaded again."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.evals import custom, javascript
from core.evals.loader import load_suite
from core.evals.scorers import Output
from core.evals.scoring import score_case
from core.evals.suite import Suite


@pytest.fixture(autouse=True)
def forget_scorers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setattr(custom, "_LOADED", {})
    monkeypatch.setattr(custom, "_FOLDERS", set())
    monkeypatch.setattr(javascript, "_MODULES", {})
    monkeypatch.setattr(javascript, "_MODULE_BYTES", {})
    monkeypatch.chdir(tmp_path)
    yield
    sys.modules.pop("edited_scorers", None)


def python_scorer(reason: str, log: Path) -> str:
    """A scorer module that notes each time its top level runs."""
    return (
        f"with open({str(log)!r}, 'a') as f:\n    f.write('loaded\\n')\n"
        f"def check(output, context):\n    return {{'pass': True, 'reason': {reason!r}}}\n"
    )


def suite_file(folder: Path, value: str) -> Path:
    path = folder / "suite.yaml"
    path.write_text(f"cases:\n  - input: hi\n    assert: [{{type: {value}}}]\n", encoding="utf-8")
    return path


def reason(suite: Suite) -> str:
    result = asyncio.run(score_case(suite.cases[0], Output("answer")))
    return result.assertions[0].reason


@pytest.mark.parametrize(
    ("scorer_file", "value"),
    [
        ("grade.py", "python, value: 'file://grade.py:check'"),
        ("edited_scorers.py", "python, value: 'edited_scorers:check'"),
    ],
)
def test_an_edited_python_scorer_is_loaded_again_with_the_suite(
    tmp_path: Path, scorer_file: str, value: str
) -> None:
    log = tmp_path / "loads.log"
    scorer = tmp_path / scorer_file
    scorer.write_text(python_scorer("first", log), encoding="utf-8")
    path = suite_file(tmp_path, value)
    before = load_suite(path)
    assert reason(before) == "first"
    scorer.write_text(python_scorer("edited", log), encoding="utf-8")
    after = load_suite(path)
    if scorer_file.endswith("grade.py"):  # a file:// scorer's code is part of the version
        assert after.version != before.version
    assert reason(after) == "edited"
    assert log.read_text().count("loaded") == 2


def test_an_unchanged_python_scorer_is_loaded_once(tmp_path: Path) -> None:
    log = tmp_path / "loads.log"
    (tmp_path / "grade.py").write_text(python_scorer("same", log), encoding="utf-8")
    path = suite_file(tmp_path, "python, value: 'file://grade.py:check'")
    suites = [load_suite(path) for _ in range(3)]
    assert [reason(suite) for suite in suites] == ["same"] * 3
    assert log.read_text().count("loaded") == 1


def test_a_scorer_file_edited_during_a_run_does_not_change_the_run(tmp_path: Path) -> None:
    log = tmp_path / "loads.log"
    scorer = tmp_path / "grade.py"
    scorer.write_text(python_scorer("as loaded", log), encoding="utf-8")
    suite = load_suite(suite_file(tmp_path, "python, value: 'file://grade.py:check'"))
    scorer.write_text(python_scorer("edited", log), encoding="utf-8")
    assert reason(suite) == "as loaded"  # until a suite is loaded again


def test_an_edited_javascript_scorer_is_read_again_with_the_suite(tmp_path: Path) -> None:
    scorer = tmp_path / "grade.js"
    scorer.write_text("module.exports = (output) => output === 'answer';\n", encoding="utf-8")
    path = suite_file(tmp_path, "javascript, value: 'file://grade.js'")
    before = load_suite(path)
    assert asyncio.run(score_case(before.cases[0], Output("answer"))).passed
    scorer.write_text("module.exports = (output) => output === 'other';\n", encoding="utf-8")
    after = load_suite(path)
    assert after.version != before.version
    assert not asyncio.run(score_case(after.cases[0], Output("answer"))).passed


def run_scored_while_another_load(tmp_path: Path, scorer: Path, edited: str) -> list[str]:
    """Reasons of a two-case run whose scorer file is edited, and the suite loaded again
    (as the console does for a new run), between its two cases."""
    from core.evals.pinning import pin_scripts

    suite = load_suite(tmp_path / "suite.yaml")

    async def run() -> list[str]:
        pin_scripts(suite)  # as the runner does when a run starts
        first = await score_case(suite.cases[0], Output("answer"))
        scorer.write_text(edited, encoding="utf-8")
        load_suite(tmp_path / "suite.yaml")
        second = await score_case(suite.cases[1], Output("answer"))
        return [first.assertions[0].reason, second.assertions[0].reason]

    return asyncio.run(run())


def two_case_suite(folder: Path, value: str) -> None:
    cases = "".join(f"  - input: q{n}\n    assert: [{{type: {value}}}]\n" for n in (1, 2))
    (folder / "suite.yaml").write_text(f"cases:\n{cases}", encoding="utf-8")


def test_a_run_keeps_the_python_scorer_it_started_with(tmp_path: Path) -> None:
    log = tmp_path / "loads.log"
    scorer = tmp_path / "grade.py"
    scorer.write_text(python_scorer("as started", log), encoding="utf-8")
    two_case_suite(tmp_path, "python, value: 'file://grade.py:check'")
    reasons = run_scored_while_another_load(tmp_path, scorer, python_scorer("edited", log))
    assert reasons == ["as started", "as started"]
    assert reason(load_suite(tmp_path / "suite.yaml")) == "edited"  # the next run's


def test_a_run_keeps_the_javascript_scorer_it_started_with(tmp_path: Path) -> None:
    scorer = tmp_path / "grade.js"
    scorer.write_text(
        "module.exports = () => ({pass: true, score: 1, reason: 'as started'});\n",
        encoding="utf-8",
    )
    two_case_suite(tmp_path, "javascript, value: 'file://grade.js'")
    edited = "module.exports = () => ({pass: true, score: 1, reason: 'edited'});\n"
    reasons = run_scored_while_another_load(tmp_path, scorer, edited)
    assert reasons == ["as started", "as started"]
