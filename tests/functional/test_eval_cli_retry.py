"""`tunedeck eval resume RUN --retry-errors`: a run whose cases errored (no answer: a 500 after
the retries) sends those cases again, and only those, into the same run."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from tests.support.fake_openai import FakeOpenAI, Reply
from tui.cli import run

SUITE = """name: retried
params: {temperature: 0}
cases:
  - {id: a, input: first, assert: [{type: icontains, value: echo}]}
  - {id: b, input: second, assert: [{type: icontains, value: echo}]}
  - {id: c, input: third, assert: [{type: icontains, value: echo}]}
"""


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_errored_cases_are_sent_again_into_the_same_run(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = tmp_path / "retried.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    fake.enqueue(Reply.echo(), *[Reply.error(500, "down")] * 3)  # b errors after 2 retries
    code, out, _ = cli(capsys, "eval", "run", str(suite), "-m", "gpt-4o-mini", "-c", "1")
    assert code == 0 and "errored 1" in out
    sent = len(fake.chat_requests)

    code, _, err = cli(capsys, "eval", "resume", "1")
    assert code == 2 and err.strip() == (
        "tunedeck: error: run 1 is completed: nothing to resume;"
        " `--retry-errors` sends its 1 errored case(s) again"
    )
    code, out, _ = cli(capsys, "eval", "resume", "1", "--retry-errors")
    assert code == 0 and "passed 3" in out
    again = [request.json["messages"][-1]["content"] for request in fake.chat_requests[sent:]]
    assert again == ["second"]  # only the errored case; the others were answered
    code, _, err = cli(capsys, "eval", "resume", "1", "--retry-errors")
    assert code == 2 and "nothing to retry" in err
