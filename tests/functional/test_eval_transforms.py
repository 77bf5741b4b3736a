"""A promptfoo file with output transforms runs unchanged through `tunedeck eval run`, against
the local fake OpenAI server: the transforms shape what is scored, the answer stored is the
model's own, and a transform that throws fails its case without stopping the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.support.fake_openai import FakeOpenAI, Reply
from tui.cli import run

MODEL = "gpt-4o-mini"

# promptfoo's examples/json-output (QA suite 02, /work/notes/s9/Q-report.md), whole: its second
# test parses the answer once (options.transform) and checks one field of it (transform:).
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

  - vars:
      item: Passion fruit
    options:
      # Parse the JSON before all assertions
      transform: JSON.parse(output)
    assert:
      - type: is-json
        # Optional JSON schema
        value:
          required: ['color', 'countries']
          type: object
          properties:
            color:
              type: string
            countries:
              type: array
              items:
                type: string
      - type: javascript
        # JSON.parse is no longer necessary here
        value: output.color === 'purple' && output.countries.includes('Brazil')
      - type: contains-any
        transform: output.countries
        value: [Guatemala, Costa Rica, India, Indonesia]
"""  # noqa: E501

BANANA = '{"color": "yellow", "countries": ["Ecuador", "India"]}'
PASSION_FRUIT = '{"color": "purple", "countries": ["Brazil", "India"]}'


def eval_run(capsys: pytest.CaptureFixture[str], folder: Path) -> tuple[int, dict[str, Any], str]:
    """`eval run` of JSON_OUTPUT one case at a time, then `eval show` of its run."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "promptfooconfig.yaml"
    config.write_text(JSON_OUTPUT, encoding="utf-8")
    arguments = ["eval", "run", str(config), "--model", MODEL, "--concurrency", "1", "--json"]
    code = run([*arguments, "--no-cache"])
    out, err = capsys.readouterr()
    if code != 0:
        return code, {}, err
    run_id = json.loads(out)["run"]["id"]
    assert run(["eval", "show", str(run_id), "--json"]) == 0
    return code, json.loads(capsys.readouterr().out), err


def result_for(report: dict[str, Any], answer: str) -> dict[str, Any]:
    """The result whose stored answer is `answer`."""
    [result] = [item for item in report["results"] if item["output_text"] == answer]
    return result


def test_the_json_output_example_is_scored_through_its_transforms(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.enqueue(Reply.text(BANANA), Reply.text(PASSION_FRUIT))
    code, report, err = eval_run(capsys, tmp_path)
    assert code == 0, err
    assert report["run"]["summary"]["passed"] == 2, report
    passion = result_for(report, PASSION_FRUIT)  # the model's answer, not the parsed object
    assert [(s["type"], s["passed"]) for s in passion["scores"]] == [
        ("is-json", True),
        ("javascript", True),
        ("contains-any", True),
    ]
    assert all(s["reason"].endswith("(on the transformed output)") for s in passion["scores"])


def test_a_transform_that_throws_errors_its_case_and_the_run_goes_on(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.enqueue(Reply.text(BANANA), Reply.text("Passion fruit is purple."))
    code, report, err = eval_run(capsys, tmp_path)
    assert code == 0, err  # an errored case, not an error of the run
    summary = report["run"]["summary"]
    assert (summary["passed"], summary["failed"], summary["errored"]) == (1, 0, 1), summary
    passion = result_for(report, "Passion fruit is purple.")
    assert "options.transform threw SyntaxError" in passion["error"]  # no verdict: an error
    reasons = {s["reason"] for s in passion["scores"]}
    [reason] = reasons  # the test's transform failed: every assertion says so
    assert reason.startswith("options.transform threw SyntaxError")
