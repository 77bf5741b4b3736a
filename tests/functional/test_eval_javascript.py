"""promptfoo files with `javascript` assertions run unchanged through `tunedeck eval run`,
against the local fake OpenAI server. The suites are the minimal parts of real promptfoo files
from the QA pass of issue 4 (/work/notes/s9/Q-report.md, finding 1), as noted on each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.support.fake_openai import FakeOpenAI, Reply
from tui.cli import run

MODEL = "gpt-4o-mini"

# From AnthonyRonning/promptfoo-workshop (QA suite 04): a defaultTest javascript score, a
# per-test number, and a multi-line body; llm-rubric and the model list left out.
WORKSHOP = """\
description: "Promptfoo Workshop Evaluations"
prompts:
  - "Write a tweet about {{topic}}"
providers:
  - "openai:gpt-4o-mini"
defaultTest:
  assert:
    - type: not-contains
      value: "AI language model"
    - type: javascript
      value: "output.length <= 280 ? 1 : 0"
tests:
  - vars:
      topic: bananas
    assert:
      - type: icontains
        value: banana
  - vars:
      topic: avocado toast
    assert:
      - type: javascript
        value: "output.length < 30 ? 1 : 0.5"
  - vars:
      topic: new york city
    assert:
      - type: javascript
        value: |
          const nycReferences = ['NYC', 'Big Apple', 'Manhattan', 'Brooklyn'];
          const foundReferences = nycReferences.filter(ref => output.toLowerCase().includes(ref.toLowerCase()));
          return foundReferences.length > 0 ? 1 : 0;
"""  # noqa: E501

# From promptfoo's examples/json-output (QA suite 02), its first test (the second uses
# transforms: tests/functional/test_eval_transforms.py runs them).
JSON_OUTPUT = """\
description: 'JSON object evals'
prompts:
  - 'Output a JSON object that contains the keys `color` and `countries`, describing the following object: {{item}}'
providers:
  - openai:chat:gpt-3.5-turbo
tests:
  - vars:
      item: Banana
    assert:
      - type: is-json
      - type: javascript
        # Parse the JSON and test the contents
        value: JSON.parse(output).color === 'yellow' && JSON.parse(output).countries.includes('Ecuador')
"""  # noqa: E501

# From Charca/hsds-evals (QA suite 21): a defaultTest score with a trailing semicolon, the
# rubric left out, prompts inline instead of file://prompts.txt.
SHORTER_IS_BETTER = """\
description: Automatic response evaluation
prompts:
  - "Answer {{name}}: {{question}}"
providers:
  - openai:chat:gpt-5.2
defaultTest:
  assert:
    - type: javascript
      # Shorter is better
      value: Math.max(0, Math.min(1, 1 - (output.length - 100) / 900));
      threshold: 0.5
tests:
  - vars:
      name: Bob
      question: Can you help me find a specific product on your website?
  - vars:
      name: Jane
      question: Do you have any promotions or discounts currently available?
"""


def eval_run(
    capsys: pytest.CaptureFixture[str], folder: Path, text: str
) -> tuple[int, dict[str, Any], str]:
    """`eval run` of the promptfoo file `text`, then `eval show` of its run (with the results)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "promptfooconfig.yaml"
    config.write_text(text, encoding="utf-8")
    code = run(["eval", "run", str(config), "--model", MODEL, "--no-cache", "--json"])
    out, err = capsys.readouterr()
    if code != 0:
        return code, {}, err
    run_id = json.loads(out)["run"]["id"]
    assert run(["eval", "show", str(run_id), "--json"]) == 0
    return code, json.loads(capsys.readouterr().out), err


def scores_of(report: dict[str, Any]) -> dict[str, list[tuple[str, bool, float, str]]]:
    return {
        result["case_id"]: [
            (item["type"], item["passed"], item["score"], item["reason"])
            for item in result["scores"]
        ]
        for result in report["results"]
    }


def test_the_workshop_suite_runs_with_its_javascript_scores(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    code, report, err = eval_run(capsys, tmp_path, WORKSHOP)
    assert code == 0, err
    summary = report["run"]["summary"]
    # echo answers: "echo: Write a tweet about new york city" names no NYC reference.
    assert (summary["passed"], summary["failed"]) == (2, 1), report
    by_answer = {
        result["output_text"]: [(s["type"], s["passed"], s["score"]) for s in result["scores"]]
        for result in report["results"]
    }
    assert by_answer["echo: Write a tweet about avocado toast"] == [
        ("not-contains", True, 1.0),
        ("javascript", True, 1.0),  # the defaultTest's 280-character limit
        ("javascript", True, 0.5),  # 39 characters: not under 30, so the half score
    ]
    assert by_answer["echo: Write a tweet about new york city"][-1] == ("javascript", False, 0.0)


def test_a_json_field_check_passes_on_json_and_fails_with_the_parse_error_otherwise(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.set_default(Reply.text('{"color": "yellow", "countries": ["Ecuador", "India"]}'))
    code, report, err = eval_run(capsys, tmp_path / "good", JSON_OUTPUT)
    assert code == 0, err
    assert report["run"]["summary"]["passed"] == 1

    fake.set_default(Reply.text("Bananas are yellow."))
    code, report, err = eval_run(capsys, tmp_path / "prose", JSON_OUTPUT)
    assert code == 0, err  # a failed case, not an error of the run
    [checks] = scores_of(report).values()
    kind, passed, _, reason = checks[1]
    assert (kind, passed) == ("javascript", False)
    assert reason.startswith("threw SyntaxError: ")


def test_a_defaulttest_score_with_a_threshold_grades_every_test(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.enqueue(Reply.text("Sure."), Reply.text("x" * 700))
    code, report, err = eval_run(
        capsys, tmp_path, SHORTER_IS_BETTER.replace("gpt-5.2", MODEL)
    )  # fmt: skip
    assert code == 0, err
    scores = sorted(checks[0][1:3] for checks in scores_of(report).values())
    assert scores == [(False, pytest.approx(1 - 600 / 900)), (True, 1.0)]


def test_a_syntax_error_is_refused_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    broken = JSON_OUTPUT.replace("=== 'yellow'", "=== 'yellow' &&& 1")
    code, _, err = eval_run(capsys, tmp_path, broken)
    assert code == 2
    [line] = err.strip().splitlines()
    assert "promptfooconfig.yaml:11: case " in line and "javascript: SyntaxError: " in line
    assert line.endswith("(line 1 of the code)")
    assert fake.chat_requests == []
