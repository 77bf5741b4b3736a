"""A multi-turn promptfoo config (`_conversation`, promptfoo's examples/multiple-turn-conversation
with a second conversation) through `tunedeck eval run` against the local fake OpenAI server:
each turn is sent after the turn before it, carrying the earlier questions and answers; a
re-run is answered from the cache; a turn after one with no answer is not sent; each repeat
is its own conversation; a resume sends later turns with the answers recorded before;
a template that cannot read an earlier turn is refused before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.support.fake_openai import FakeOpenAI, RecordedRequest, Reply
from tui.cli import run

MODEL = "gpt-4o-mini"

PROMPT = """[
  {"role": "system", "content": "{{ system_message }}"},
  {% for completion in _conversation %}
    {"role": "user", "content": "{{ completion.input }}"},
    {"role": "assistant", "content": "{{ completion.output }}"},
  {% endfor %}
  {"role": "user", "content": "{{ question }}"}
]
"""

CONFIG = """\
prompts:
  - id: file://prompt.json
    label: multi-turn-conversation
providers:
  - openai:gpt-4.1-mini
defaultTest:
  vars:
    system_message: You are a helpful assistant
tests:
  - vars: {question: 'Who founded Facebook?'}
    metadata: {conversationId: facebook_thread}
  - vars: {question: 'Name a river'}
    metadata: {conversationId: rivers}
  - vars: {question: 'Where does he live?'}
    metadata: {conversationId: facebook_thread}
  - vars: {question: 'How long is it?'}
    metadata: {conversationId: rivers}
  - vars: {question: 'Which state is that in?'}
    metadata: {conversationId: facebook_thread}
"""

FACEBOOK = ["Who founded Facebook?", "Where does he live?", "Which state is that in?"]
RIVERS = ["Name a river", "How long is it?"]


def project(folder: Path, prompt: str = PROMPT) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prompt.json").write_text(prompt, encoding="utf-8")
    config = folder / "promptfooconfig.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return config


def eval_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, Any]]:
    code = run([*arguments, "--json"])
    out, err = capsys.readouterr()
    assert out, err
    return code, json.loads(out)


def conversation(request: RecordedRequest) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in request.json["messages"]]


def asked(request: RecordedRequest) -> str:
    return str(request.json["messages"][-1]["content"])


def expected(questions: list[str], answers: list[str]) -> list[tuple[str, str]]:
    """The messages of the last of `questions`, each earlier one followed by its answer."""
    messages = [("system", "You are a helpful assistant")]
    for question, answer in zip(questions[:-1], answers, strict=False):
        messages += [("user", question), ("assistant", answer)]
    return [*messages, ("user", questions[-1])]


def test_each_turn_is_sent_with_the_earlier_turns_and_a_rerun_is_cached(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    config = project(tmp_path)
    code, report = eval_json(capsys, "eval", "run", str(config), "--model", MODEL, "-c", "4")
    assert code == 0, report
    assert report["run"]["summary"]["passed"] == 5
    requests = fake.chat_requests
    assert len(requests) == 5
    by_question = {asked(request): index for index, request in enumerate(requests)}
    for questions in (FACEBOOK, RIVERS):
        order = [by_question[question] for question in questions]
        assert order == sorted(order)  # each turn after the one before it
        for turn in range(1, len(questions) + 1):
            request = requests[by_question[questions[turn - 1]]]
            answers = [f"echo: {question}" for question in questions]
            assert conversation(request) == expected(questions[:turn], answers)

    code, again = eval_json(capsys, "eval", "run", str(config), "--model", MODEL, "-c", "4")
    assert code == 0, again
    assert len(fake.chat_requests) == 5  # nothing sent: every turn answered from the cache
    assert again["run"]["summary"]["passed"] == 5
    assert again["estimate"]["calls"] == 0, again["estimate"]


def test_a_turn_after_one_with_no_answer_is_errored_not_sent(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    config = project(tmp_path)
    fake.enqueue(Reply.error(400, "bad request"))  # the first request: Facebook's first turn
    arguments = ("eval", "run", str(config), "--model", MODEL, "-c", "1")
    code, report = eval_json(capsys, *arguments)
    assert [asked(request) for request in fake.chat_requests] == [
        "Who founded Facebook?",
        "Name a river",
        "How long is it?",
    ]
    summary = report["run"]["summary"]
    assert (summary["passed"], summary["errored"]) == (2, 3), summary
    run_id = report["run"]["id"]
    code, shown = eval_json(capsys, "eval", "show", str(run_id))
    assert code == 0
    errors = {item["case_id"]: item["error"] for item in shown["results"] if item["error"]}
    later = sorted(error for error in errors.values() if "got no answer" in error)
    assert later == [
        "turn 1 of conversation 'facebook_thread' got no answer, so turn 2 was not sent (it"
        " would have had a hole in its history)",
        "turn 1 of conversation 'facebook_thread' got no answer, so turn 3 was not sent (it"
        " would have had a hole in its history)",
    ]


def test_each_repeat_is_its_own_conversation(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    config = project(tmp_path)
    fake.enqueue(*(Reply.text(f"answer {n}") for n in range(10)))
    arguments = ("eval", "run", str(config), "--model", MODEL, "-c", "1", "--repeat", "2")
    code, report = eval_json(capsys, *arguments, "--no-cache")
    assert code == 0, report
    requests = fake.chat_requests
    assert len(requests) == 10
    second_repeat = requests[5:]  # -c 1: the first repeat's five turns, then the second's
    where = {asked(request): request for request in second_repeat}
    first_answer = requests.index(where["Who founded Facebook?"])
    assert conversation(where["Where does he live?"])[2] == ("assistant", f"answer {first_answer}")


def test_a_resumed_run_sends_later_turns_with_the_answers_recorded_before(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    config = project(tmp_path)
    # -c 1: a conversation's turns follow each other, so Facebook's second turn is sent second
    fake.enqueue(Reply.text("Mark"), Reply.error(400, "bad request"))
    arguments = ("eval", "run", str(config), "--model", MODEL, "-c", "1", "--no-cache")
    code, report = eval_json(capsys, *arguments)
    assert report["run"]["summary"]["errored"] == 2  # turn 2 failed, turn 3 not sent
    assert len(fake.chat_requests) == 4
    run_id = str(report["run"]["id"])
    code, resumed = eval_json(capsys, "eval", "resume", run_id, "--retry-errors")
    assert code == 0, resumed
    sent = fake.chat_requests[4:]
    assert [asked(request) for request in sent] == FACEBOOK[1:]
    # no cache: Mark comes from the result recorded before the resume
    assert conversation(sent[1]) == expected(FACEBOOK, ["Mark", "echo: Where does he live?"])


def test_a_loop_that_cannot_read_an_earlier_turn_is_refused_before_sending(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    # promptfoo's example as published reads `completion.input` as the earlier chat; it is
    # the last message's text. Found at load, before any first turn is sent and paid for.
    prompt = PROMPT.replace(
        "{{ completion.input }}", "{{ completion.input[completion.input.length - 1].content }}"
    )
    config = project(tmp_path, prompt)
    code = run(["eval", "run", str(config), "--model", MODEL])
    err = capsys.readouterr().err
    assert code == 2
    assert fake.chat_requests == []
    assert "promptfooconfig.yaml:10: case t-" in err, err  # the first test
    assert "in promptfoo `input` is the last message's text (a string)" in err, err
    assert "write {{ completion.input }}" in err, err
    assert "prompt.json: 'content' is not in" in err and "(template line 4)" in err, err


def test_a_chat_file_that_renders_to_invalid_json_is_refused_before_sending(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    config = project(tmp_path, PROMPT.replace('"{{ question }}"', "{{ question }}"))
    code = run(["eval", "run", str(config), "--model", MODEL])
    err = capsys.readouterr().err
    assert code == 2
    assert "promptfooconfig.yaml:10: case t-" in err
    assert "prompt.json: rendered, it is not valid JSON" in err
    assert fake.chat_requests == []
