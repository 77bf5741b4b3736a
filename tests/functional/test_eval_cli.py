"""`tunedeck eval` through its real entry point, against the local fake OpenAI server: runs,
the cache, exit codes, JUnit XML, promptfoo files, and resume after a really killed process."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.conftest import TEST_KEY
from tests.support.fake_openai import FakeOpenAI, Reply
from tui.cli import heap, run

MODEL = "gpt-4o-mini"

ECHO_SUITE = """
name: echoes
params: {temperature: 0}
cases:
%s
"""


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def echo_suite(folder: Path, count: int, *, critical: str | None = None) -> Path:
    """`count` cases `q00`.. whose answer must contain `echo` (the fake's default answer)."""
    lines = [
        f"  - {{id: q{i:02d}, input: 'question {i}', assert: [{{type: icontains, value: echo}}]"
        + (", critical: true" if f"q{i:02d}" == critical else "")
        + "}"
        for i in range(count)
    ]
    path = folder / "echoes.yaml"
    path.write_text(ECHO_SUITE % "\n".join(lines), encoding="utf-8")
    return path


def prompts_sent(server: FakeOpenAI, answered_only: bool = False) -> Counter[str]:
    return Counter(
        request.json["messages"][-1]["content"]
        for request in server.chat_requests
        if not answered_only or request.reply_kind != "hang"
    )


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def recorded_results(home: Path, run_id: int = 1) -> int:
    if not (home / "tunedeck.db").exists():
        return 0
    with sqlite3.connect(home / "tunedeck.db", timeout=10) as db:
        try:
            found = db.execute("SELECT count(*) FROM eval_results WHERE run_id = ?", [run_id])
        except sqlite3.OperationalError:  # not migrated yet
            return 0
        return int(found.fetchone()[0])


@pytest.fixture
def eval_process(settings: Settings) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start `tunedeck eval ...` in its own process (TUNEDECK_HOME and the fake's key set)."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        env = {**os.environ, "FAKE_API_KEY": TEST_KEY}
        process = subprocess.Popen(
            [sys.executable, "-m", "tui", "eval", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_a_terminal_sees_one_updating_progress_line(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    import pty

    fake.latency = 0.02
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "eval", "run", str(echo_suite(tmp_path, 30)), "-m", MODEL],
        stdout=subprocess.PIPE,
        stderr=secondary,
        env={**os.environ, "FAKE_API_KEY": TEST_KEY},
    )
    os.close(secondary)
    shown = b""
    while chunk := _read(primary):
        shown += chunk
    out, _ = process.communicate(timeout=60)
    os.close(primary)
    terminal = shown.decode()
    assert process.returncode == 0 and b"passed 30" in out
    updates = terminal.split("\r\x1b[K")
    assert "[------------------------] 0/30  pass 0 fail 0 error 0" in updates[1]
    assert updates[-2].startswith("[########################] 30/30  pass 30 fail 0 error 0")
    assert updates[-1] == ""  # the line is erased before the summary is printed
    assert "\n" not in "".join(updates[1:])  # one line, rewritten in place


def _read(descriptor: int) -> bytes:
    try:
        return os.read(descriptor, 4096)
    except OSError:  # the other end closed
        return b""


# -- a run, and the cache ---------------------------------------------------------------------


def test_a_run_prints_its_summary_and_a_rerun_costs_nothing(
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    fake: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    suite = echo_suite(tmp_path, 5)
    code, out, err = cli(capsys, "eval", "run", str(suite), "--model", MODEL)
    assert code == 0, err
    assert "run 1: gpt-4o-mini, estimated cost $" in err and "\n  5 calls, " in err
    assert "run 1: echoes (version " in out and "completed" in out
    assert "passed 5, failed 0, errored 0 of 5 (100.0% passed)" in out
    assert "verdict: no baseline\n" in out  # not "unchanged": nothing was compared
    assert "\r" not in err and "[#" not in err  # no progress noise when not a terminal
    assert len(fake.chat_requests) == 5

    code, out, err = cli(capsys, "eval", "run", str(suite), "--model", MODEL, "--json")
    assert err == ""
    report = json.loads(out)
    assert code == 0 and len(fake.chat_requests) == 5  # every answer from the cache
    assert report["run"]["id"] == 2 and report["spent_usd"] == 0 and report["sent"] == 5
    assert report["baseline"] is None and report["verdict"] == "no_baseline"
    assert report["gate_passed"] is True and report["regression"] is False
    assert "5 of the run's 5 answers came from the cache" in report["notes"][-1]
    monkeypatch.setenv("COLUMNS", "48")
    _, out, err = cli(capsys, "eval", "run", str(suite), "--model", MODEL)
    answered = "recorded 5 cases in this process, 5 of them wholly from the cache (nothing sent)"
    assert f"{answered}, spent $0 " in out
    assert err == (
        "run 3: gpt-4o-mini, estimated cost $0\n"
        "  nothing to send: 5 answered from the cache,\n  at no cost\n"  # folded to the width
    )

    code, _, _ = cli(capsys, "eval", "run", str(suite), "--model", MODEL, "--no-cache")
    assert code == 0 and len(fake.chat_requests) == 10


def test_the_judges_share_of_the_cost_is_shown_and_left_out_of_a_comparison(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = tmp_path / "rubric.yaml"
    suite.write_text(
        "name: rubric\nparams: {temperature: 0}\njudge_model: gpt-4.1\ncases:\n"
        "  - {id: polite, input: Greet me, assert: [{type: llm-rubric, value: Is polite}]}\n",
        encoding="utf-8",
    )
    verdict = '{"reason": "a greeting", "pass": true, "score": 1}'
    fake.enqueue(
        Reply.text("Hello!", prompt_tokens=1_000, completion_tokens=500),
        Reply.text(verdict, prompt_tokens=2_000, completion_tokens=100),
    )
    code, out, err = cli(capsys, "eval", "run", str(suite), "--model", MODEL)
    assert code == 0, err
    # gpt-4o-mini: 1,000 in and 500 out, $0.00045; gpt-4.1: 2,000 in and 100 out, $0.0048.
    assert "tokens 1,000 in / 500 out, cost $0.00525 (judge $0.0048)," in out

    fake.enqueue(  # the same answer, a judge twice as dear
        Reply.text("Hello!", prompt_tokens=1_000, completion_tokens=500),
        Reply.text(verdict, prompt_tokens=4_000, completion_tokens=200),
    )
    code, out, err = cli(
        capsys, "eval", "run", str(suite), "--model", MODEL, "--no-cache", "-b", "1", "--json"
    )
    report = json.loads(out)
    assert code == 0 and len(fake.chat_requests) == 4, err
    assert report["run"]["summary"]["judge_cost_usd"] == pytest.approx(0.0096)
    assert report["run"]["summary"]["cost_usd"] == pytest.approx(0.01005)
    assert report["comparison"]["cost_delta_usd"] == pytest.approx(0)  # the answers'

    _, out, _ = cli(capsys, "eval", "compare", "1", "2")
    assert "cost $0 (the answers'; the judge's left out)" in out

    _, out, _ = cli(capsys, "eval", "run", str(suite), "--model", MODEL)  # all from the cache
    assert "tokens 0 in / 0 out, cost $0, latency" in out  # no "(judge $0)" in a free run


def test_runs_show_compare_and_baseline(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = echo_suite(tmp_path, 4)
    assert cli(capsys, "eval", "run", str(suite), "-m", MODEL)[0] == 0
    fake.set_default(Reply.text("no idea"))
    assert cli(capsys, "eval", "run", str(suite), "-m", "gpt-4.1")[0] == 0

    code, out, _ = cli(capsys, "eval", "runs")
    rows = [line.split()[:4] for line in out.splitlines()[1:]]
    assert code == 0 and rows == [
        ["2", "echoes", "gpt-4.1", "completed"],
        ["1", "echoes", MODEL, "completed"],
    ]
    listed = json.loads(cli(capsys, "eval", "runs", "--model", "gpt-4.1", "--json")[1])
    assert [item["id"] for item in listed] == [2]

    code, out, _ = cli(capsys, "eval", "show", "2", "--failed")
    assert code == 0 and "passed 0, failed 4" in out
    assert out.count('icontains: output does not contain "echo"') == 4

    code, out, _ = cli(capsys, "eval", "compare", "1", "2")
    assert code == 0 and "broke (pass -> fail) (4): q00, q01, q02, q03" in out
    assert "pass rate 100.0% -> 0.0% (-100.0 points)" in out
    assert "McNemar exact p = 0.125 (not significant: alpha 0.05 is out of reach" in out
    assert (
        "verdict: not significant (too few flipped cases to tell): 4 broke, 0 fixed of 4"
        " paired cases (pass rate -100.0 points), McNemar p = 0.125, the least 4 flips can"
        " give; --max-pass-rate-drop gates on it\n"
    ) in out
    compared = json.loads(cli(capsys, "eval", "compare", "1", "2", "--json")[1])
    assert compared["comparison"]["broke"] == ["q00", "q01", "q02", "q03"]
    code, _, _ = cli(capsys, "eval", "compare", "1", "2", "--max-pass-rate-drop", "0.1",
                     "--fail-on-regression")  # fmt: skip
    assert code == 1

    code, _, err = cli(capsys, "eval", "baseline", "1")
    assert code == 0 and "run 1 is the baseline of echoes for gpt-4o-mini" in err
    assert "run 2 was not a baseline" in cli(capsys, "eval", "baseline", "2", "--clear")[2]
    assert "completed *" in cli(capsys, "eval", "runs")[1]


# -- exit codes -------------------------------------------------------------------------------


def test_a_significant_drop_against_the_baseline_model_exits_1_with_fail_on_regression(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = echo_suite(tmp_path, 12)
    assert cli(capsys, "eval", "run", str(suite), "-m", MODEL)[0] == 0
    fake.set_default(Reply.text("no idea"))
    args = ["eval", "run", str(suite), "-m", "gpt-4.1", "--baseline", MODEL]

    code, out, _ = cli(capsys, *args)
    assert code == 0  # a regression, reported, but not a gate
    assert "compared with run 1 of gpt-4o-mini (latest completed run of gpt-4o-mini)" in out
    assert "verdict: REGRESSION: pass rate dropped significantly: 12 broke, 0 fixed" in out

    code, out, _ = cli(capsys, *args, "--fail-on-regression", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["regression"] is True and report["comparison"]["p_value"] == pytest.approx(
        2 * 0.5**12
    )
    assert report["baseline"]["id"] == 1 and report["run"]["baseline_run_id"] == 1


def test_without_baseline_a_new_model_is_gated_against_the_suites_pinned_run(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = echo_suite(tmp_path, 12)
    assert cli(capsys, "eval", "run", str(suite), "-m", MODEL)[0] == 0
    args = ["eval", "run", str(suite), "-m", "ft-model", "--fail-on-regression"]
    fake.set_default(Reply.text("no idea"))
    code, out, _ = cli(capsys, *args)
    assert code == 0 and "no baseline" in out  # nothing pinned yet: nothing to gate against
    assert cli(capsys, "eval", "baseline", "1")[0] == 0
    code, out, _ = cli(capsys, *args)
    assert code == 1
    assert "compared with run 1 of gpt-4o-mini (pinned baseline of gpt-4o-mini)" in out


def test_a_baseline_that_could_not_be_compared_is_refused_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = echo_suite(tmp_path, 3)
    assert cli(capsys, "eval", "run", str(suite), "-m", MODEL)[0] == 0  # run 1: q00-q02
    other = tmp_path / "other.yaml"
    other.write_text(suite.read_text(encoding="utf-8").replace("echoes", "other"), "utf-8")
    renamed = tmp_path / "renamed" / "echoes.yaml"  # the same suite name, other case ids
    renamed.parent.mkdir()
    renamed.write_text(suite.read_text(encoding="utf-8").replace("id: q", "id: z"), "utf-8")
    sent = len(fake.chat_requests)
    for args, message in (
        (
            [str(other), "-b", "1"],
            f"baseline run 1 of {MODEL} is a run of suite 'echoes', not 'other'",
        ),
        (
            [str(renamed), "-b", MODEL],
            f"baseline run 1 of {MODEL} shares no case id with suite 'echoes':"
            " nothing would be compared",
        ),
    ):
        code, _, err = cli(capsys, "eval", "run", *args, "-m", "ft", "--fail-on-regression")
        assert code == 2 and err.strip() == f"tunedeck: error: {message}"
    assert len(fake.chat_requests) == sent
    assert cli(capsys, "eval", "run", str(renamed), "-m", "ft")[0] == 0  # run 2: z00-z02
    code, _, err = cli(capsys, "eval", "compare", "1", "2", "--fail-on-regression")
    assert (code, err.strip()) == (
        2,
        "tunedeck: error: runs 1 and 2 share no case id: nothing to compare",
    )
    assert cli(capsys, "eval", "run", str(other), "-m", MODEL)[0] == 0  # run 3, suite other
    code, out, err = cli(capsys, "eval", "compare", "1", "3")  # QA finding 6: as -b refuses it
    assert (code, out, err.strip()) == (
        2,
        "",
        "tunedeck: error: run 1 is a run of suite 'echoes', run 3 of 'other': only runs of one"
        " suite are compared",
    )
    code, _, err = cli(capsys, "eval", "resume", "3", "-b", "1")
    assert code == 2 and "baseline run 1 of gpt-4o-mini is a run of suite 'echoes'" in err

    # The suite's pinned run, not named, that no longer fits is left out, not a dead end.
    assert cli(capsys, "eval", "baseline", "1")[0] == 0
    code, out, err = cli(capsys, "eval", "run", str(renamed), "-m", "ft", "--fail-on-regression")
    assert code == 0 and "no baseline" in out
    assert (
        "tunedeck: warning: the suite's pinned baseline run 1 of gpt-4o-mini shares no case id"
        " with suite 'echoes': nothing would be compared (unpin it with `tunedeck eval baseline 1"
        " --clear`): compared with no baseline"
    ) in err


def test_a_failing_critical_case_is_a_regression_without_a_baseline(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.enqueue(Reply.text("wrong"))
    suite = echo_suite(tmp_path, 3, critical="q00")
    args = ["eval", "run", str(suite), "-m", MODEL, "-c", "1", "--fail-on-regression"]
    code, out, _ = cli(capsys, *args)
    assert code == 1 and "verdict: REGRESSION: critical case(s) failing: q00" in out
    code, _, _ = cli(capsys, *args)  # the same answers, from the cache: still failing
    assert code == 1 and len(fake.chat_requests) == 3


def test_a_run_where_no_request_got_an_answer_exits_1(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.set_default(Reply.error(404, "The model `nope` does not exist"))
    code, _, err = cli(capsys, "eval", "run", str(echo_suite(tmp_path, 3)), "-m", "nope")
    assert code == 1
    assert "tunedeck: error: no case of run 1 got an answer (see `eval show 1`)" in err


OUTAGE = Reply.error(500, "upstream down", headers={"retry-after-ms": "1"})


def test_an_outage_night_never_turns_the_gate_green(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    """QA finding 1: a baseline run whose every case errored compared as 0% -> 0%
    `unchanged` with a candidate failing everything, and passed the gate (exit 0)."""
    suite = str(echo_suite(tmp_path, 4))
    fake.set_default(OUTAGE)
    code, _, err = cli(capsys, "eval", "run", suite, "-m", "basem")  # run 1: every case errored
    assert code == 1 and "no case of run 1 got an answer" in err
    refusal = "tunedeck: error: run 1 got no answer (4 errored): it cannot be a baseline"
    code, _, err = cli(capsys, "eval", "baseline", "1")
    assert (code, err.strip()) == (2, refusal)
    fake.set_default(Reply.text("wrong"))
    sent = len(fake.chat_requests)
    gate = ["eval", "run", suite, "-m", "candm", "--fail-on-regression"]
    assert cli(capsys, *gate, "-b", "1")[:3:2] == (2, refusal + "\n")
    code, _, err = cli(capsys, *gate, "-b", "basem")  # its latest completed run got no answer
    assert code == 2 and "no completed run of model 'basem' with an answer" in err
    assert len(fake.chat_requests) == sent  # refused before anything was sent
    assert cli(capsys, *gate)[0] == 0  # run 2: no baseline; failing cases are results
    code, _, err = cli(capsys, "eval", "compare", "1", "2", "--fail-on-regression")
    assert (code, err.strip()) == (2, refusal)

    # The night after: the baseline answers, the candidate's endpoint fails half the cases.
    fake.set_default(None)
    assert cli(capsys, "eval", "run", suite, "-m", "basem")[0] == 0  # run 3: 4 passed
    fake.enqueue(OUTAGE, times=6)  # q00, q01: 3 attempts each
    junit = tmp_path / "gate.xml"
    args = [*gate, "-b", "basem", "-c", "1", "--no-cache", "--junit", str(junit)]
    code, out, _ = cli(capsys, *args)  # run 4
    assert code == 1  # inconclusive: the gate does not pass on answers it did not get
    assert "compared with run 3 of basem (latest completed run of basem)" in out
    assert "  errored (2): q00, q01\n" in out and "broke (" not in out  # not the model's fault
    assert "verdict: INCONCLUSIVE: 2 of 4 cases errored (no answer or no verdict)\n" in out
    failure = ET.parse(junit).getroot().find("testsuite[2]/testcase/failure")
    assert failure is not None and failure.get("type") == "inconclusive"
    code, out, _ = cli(capsys, "eval", "compare", "3", "4", "--json", "--fail-on-regression")
    report = json.loads(out)
    assert code == 1 and report["comparison"]["errored"] == ["q00", "q01"]
    assert (report["verdict"], report["regression"], report["gate_passed"]) == (
        "inconclusive",
        False,
        False,
    )
    assert report["comparison"]["broke"] == [] and report["comparison"]["p_value"] == 1
    assert cli(capsys, "eval", "compare", "3", "4")[0] == 0  # reported, not a gate


def test_errored_cases_without_a_baseline_fail_the_gate_in_text_json_and_junit(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    """QA finding 7: 4 of 6 errored said `unchanged` and exited 0 with --fail-on-regression."""
    fake.enqueue(OUTAGE, times=12)
    junit = tmp_path / "alone.xml"
    args = ["eval", "run", str(echo_suite(tmp_path, 6)), "-m", MODEL, "-c", "1"]
    code, out, _ = cli(capsys, *args, "--json", "--junit", str(junit), "--fail-on-regression")
    report = json.loads(out)
    assert code == 1 and report["baseline"] is None
    assert (report["verdict"], report["gate_passed"], report["verdict_label"]) == (
        "inconclusive",
        False,
        "inconclusive: 4 of 6 cases errored (no answer or no verdict)",
    )
    failure = ET.parse(junit).getroot().find("testsuite[2]/testcase/failure")
    assert failure is not None and failure.get("message") == report["verdict_label"]
    code, out, _ = cli(capsys, "eval", "run", *args[2:])  # the same run again, not gated
    assert code == 0 and "verdict: no baseline\n" in out  # the cache answers every case now


def test_a_run_whose_every_grading_failed_says_so_not_that_nothing_answered(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = tmp_path / "rubric.yaml"
    suite.write_text(
        "cases:\n"
        "  - {id: a, input: hi, assert: [{type: llm-rubric, value: is polite}]}\n"
        "  - {id: b, input: ho, assert: [{type: llm-rubric, value: is polite}]}\n",
        encoding="utf-8",
    )
    fake.enqueue(Reply.text("hello"), Reply.error(404, "The model `judge` does not exist"), times=2)
    args = ["eval", "run", str(suite), "-m", MODEL, "--judge-model", "judge", "-c", "1"]
    code, _, err = cli(capsys, *args)
    assert code == 1 and "graded by" not in err  # another judge was chosen
    assert "tunedeck: error: no case of run 1 could be judged (each answer's grading failed)" in err
    fake.set_default(Reply.text("hello"))
    code, _, err = cli(capsys, "eval", "run", str(suite), "-m", MODEL)  # its own judge
    assert (
        f"tunedeck: warning: llm-rubric: graded by {MODEL}, the model under test, grading its"
        " own answers; choose another judge with --judge-model"
    ) in err


ONE_CASE = "cases:\n  - {id: a, input: hi, assert: [{type: contains, value: hi}]}\n"


@pytest.mark.parametrize(
    ("suite_text", "args", "message"),
    [
        (
            "cases:\n  - id: a\n    input: hi\n    assert: [{type: contains-emoji}]\n",
            [],
            "suite.yaml:4: case a: ",
        ),
        (
            "cases:\n  - {id: a, input: hi, assert: [{type: regex, value: '(unclosed'}]}\n",
            [],
            "suite.yaml:2: case a: ",
        ),
        (ONE_CASE + "  - {id: a, input: ho}\n", [], "duplicate case id"),
        (ONE_CASE, ["--baseline", "42"], "no evaluation run has id 42"),
        (
            ONE_CASE,
            ["--baseline", "gpt-9"],
            "--baseline gpt-9: no completed run of model 'gpt-9' with an answer on suite 'suite'",
        ),
        (ONE_CASE, ["--max-cost", "0.000001"], "is above --max-cost"),
        (ONE_CASE, ["--repeat", "0"], "repeat must be 1 to 100"),
        (ONE_CASE, ["--concurrency", "0"], "concurrency must be 1 to 256, not 0"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    fake: FakeOpenAI,
    tmp_path: Path,
    suite_text: str,
    args: list[str],
    message: str,
) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(suite_text, encoding="utf-8")
    code, out, err = cli(capsys, "eval", "run", str(path), "-m", MODEL, *args)
    assert code == 2 and out == ""
    assert err.startswith("tunedeck: error: ") and message in err and err.count("\n") == 1
    assert fake.chat_requests == []


def test_a_suite_without_a_model_needs_one(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("cases:\n  - {id: a, input: hi}\n", encoding="utf-8")
    config = settings.home / "config.toml"
    configured = config.read_text(encoding="utf-8")
    config.write_text(configured.replace('default_model = "gpt-4o-mini"\n', ""), "utf-8")
    code, _, err = cli(capsys, "eval", "run", str(path))
    assert code == 2 and "the suite names no model, nor does the profile" in err
    code, _, _ = cli(capsys, "eval", "resume", "5")
    assert code == 2
    config.write_text(configured.replace('"gpt-4o-mini"', '"gpt-4.1"'), "utf-8")
    code, out, err = cli(capsys, "eval", "run", str(path))  # the profile's model is taken
    assert code == 0, err
    assert "on gpt-4.1 via fake" in out


# -- JUnit XML --------------------------------------------------------------------------------


def test_a_junit_path_that_cannot_be_written_is_refused_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = echo_suite(tmp_path, 2)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file", encoding="utf-8")
    for target, reason in (
        (blocker / "report.xml", f"{blocker} is a file, not a folder"),
        (tmp_path, "is a folder; give a file name"),
    ):
        code, _, err = cli(capsys, "eval", "run", str(suite), "-m", MODEL, "--junit", str(target))
        assert code == 2 and err.strip() == f"tunedeck: error: --junit {target}: {reason}"
    assert not fake.chat_requests and recorded_results(settings.home) == 0
    missing = tmp_path / "reports" / "ci" / "junit.xml"  # a missing folder is made
    assert cli(capsys, "eval", "run", str(suite), "-m", MODEL, "--junit", str(missing))[0] == 0
    assert ET.parse(missing).getroot().tag == "testsuites"
    assert [p.name for p in missing.parent.iterdir()] == ["junit.xml"]  # no temporary left


def test_junit_xml_is_valid_and_its_counts_match(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.enqueue(
        Reply.text("echo <b>&amp;</b> \x1b[31mred\x1b[0m \x00 ]]>"),
        Reply.text("no answer here"),
        Reply.error(500, "upstream broke", headers={"retry-after-ms": "1"}),
        times=1,
    )
    fake.enqueue(Reply.error(500, "upstream broke", headers={"retry-after-ms": "1"}), times=2)
    junit = tmp_path / "report.xml"
    suite = echo_suite(tmp_path, 4)
    args = ["eval", "run", str(suite), "-m", MODEL, "-c", "1", "--junit", str(junit)]
    code, _, _ = cli(capsys, *args)
    assert code == 0

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    cases_suite, verdict_suite = root.findall("testsuite")
    cases = cases_suite.findall("testcase")
    assert [case.get("name") for case in cases] == ["q00", "q01", "q02", "q03"]
    for suite_element in (cases_suite, verdict_suite):
        children = suite_element.findall("testcase")
        assert suite_element.get("tests") == str(len(children))
        assert suite_element.get("failures") == str(
            sum(c.find("failure") is not None for c in children)
        )
        assert suite_element.get("errors") == str(
            sum(c.find("error") is not None for c in children)
        )
        assert suite_element.get("skipped") == "0" and suite_element.get("name")
        assert float(suite_element.get("time", "x")) >= 0
        assert time.strptime(suite_element.get("timestamp", ""), "%Y-%m-%dT%H:%M:%S")
    # q01 fails, q02 errored, and the regression check fails: an errored case (no answer)
    # leaves the verdict inconclusive, which must not pass a gate.
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "2", "1")
    for case in cases:
        assert case.get("classname") == f"echoes.{MODEL}" and float(case.get("time", "x")) >= 0
        for outcome in (*case.findall("failure"), *case.findall("error")):
            assert outcome.get("message") and outcome.get("type")

    first, second, third, _ = cases
    assert first.findtext("system-out") == "echo <b>&amp;</b> \\x1b[31mred\\x1b[0m \\x00 ]]>"
    failure = second.find("failure")
    assert failure is not None and failure.get("type") == "assertion"
    assert failure.get("message") == 'icontains: output does not contain "echo"'
    error = third.find("error")
    assert error is not None and "upstream broke" in (error.get("message") or "")
    properties = {p.get("name"): p.get("value") for p in cases_suite.iter("property")}
    assert properties["model"] == MODEL and properties["run_id"] == "1"
    verdict = verdict_suite.find("testcase/failure")
    assert verdict is not None and verdict.get("type") == "inconclusive"
    assert verdict.get("message") == "inconclusive: 1 of 4 cases errored (no answer or no verdict)"


# -- promptfoo --------------------------------------------------------------------------------

PROMPTFOO = """\
description: Greeter
prompts:
  - "Say hello to {{name}} in {{language}}"
providers:
  - anthropic:messages:claude-3-5-sonnet-20241022
defaultTest:
  vars:
    language: French
  assert:
    - type: not-icontains
      value: as an AI
tests:
  - vars: {name: Ana}
    assert:
      - type: icontains
        value: ana
  - vars: {name: [Bo, Cy]}
    assert:
      - type: contains-any
        value: ["Bo", "Cy"]
      - type: python
        value: "'French' in output"
"""


def test_a_promptfoo_config_runs_unchanged_with_model(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(PROMPTFOO, encoding="utf-8")
    code, _, err = cli(capsys, "eval", "run", str(config))
    assert code == 2 and "pass --model" in err  # its only provider is not OpenAI's

    code, out, err = cli(capsys, "eval", "run", str(config), "--model", MODEL, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["run"]["suite_name"] == "Greeter"  # its description names it
    assert report["run"]["summary"]["passed"] == 3
    assert sorted(prompts_sent(fake)) == [
        "Say hello to Ana in French",
        "Say hello to Bo in French",
        "Say hello to Cy in French",
    ]
    assert {request.json["model"] for request in fake.chat_requests} == {MODEL}


# -- interruption and resume ------------------------------------------------------------------


def test_resume_after_the_process_was_killed_sends_no_finished_case_again(
    settings: Settings,
    fake: FakeOpenAI,
    tmp_path: Path,
    home: Path,
    eval_process: Callable[..., subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    suite = echo_suite(tmp_path, 20)
    fake.enqueue(Reply.echo(delay=0.05), times=10)  # ten answered...
    fake.set_default(Reply.hang(60))  # ...then every request hangs: in flight at the kill
    process = eval_process("run", str(suite), "-m", MODEL, "--no-cache", "-c", "4")
    wait_until(lambda: recorded_results(home) == 10 and len(fake.chat_requests) == 14)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    with sqlite3.connect(home / "tunedeck.db") as db:
        status, pid = db.execute("SELECT status, pid FROM eval_runs WHERE id = 1").fetchone()
    assert status == "running" and pid == process.pid  # left running by a dead process
    finished_before = set(prompts_sent(fake, answered_only=True))
    in_flight = set(prompts_sent(fake)) - finished_before
    assert len(finished_before) == 10 and len(in_flight) == 4

    fake.set_default(None)
    code, out, err = cli(capsys, "eval", "resume", "1")
    assert code == 0, err
    assert "run 1: echoes" in out and "completed" in out and "passed 20" in out
    assert "recorded 10 cases in this process" in out
    assert ", completed in " in out and " of running (resumed; " in out  # not the time between

    answered = prompts_sent(fake, answered_only=True)
    assert answered == Counter(f"question {i}" for i in range(20))  # each answered once
    sent = prompts_sent(fake)
    assert {p for p, n in sent.items() if n == 2} == in_flight  # only the lost ones, again
    assert all(sent[prompt] == 1 for prompt in finished_before)
    assert recorded_results(home) == 20
    # the calls in flight at the kill are closed in the log, not left pending for ever
    with sqlite3.connect(home / "tunedeck.db") as db:
        logged = Counter(db.execute("SELECT status, error_type FROM calls").fetchall())
    assert logged == {("ok", None): 20, ("cancelled", "interrupted"): 4}


def answered_calls(home: Path) -> int:
    """Calls logged `ok`: with the cache on, each one's answer is in the cache with it."""
    if not (home / "tunedeck.db").exists():
        return 0
    with sqlite3.connect(home / "tunedeck.db", timeout=10) as db:
        try:
            return int(db.execute("SELECT count(*) FROM calls WHERE status = 'ok'").fetchone()[0])
        except sqlite3.OperationalError:  # not migrated yet
            return 0


def test_killed_with_answers_not_yet_committed_as_results_resume_sends_none_of_them(
    settings: Settings,
    fake: FakeOpenAI,
    tmp_path: Path,
    home: Path,
    eval_process: Callable[..., subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # With the cache on, results whose answers are cached are committed in batches: the
    # kill may come before some of the ten answered cases have their result committed.
    suite = echo_suite(tmp_path, 20)
    fake.enqueue(Reply.echo(), times=10)
    fake.set_default(Reply.hang(60))
    process = eval_process("run", str(suite), "-m", MODEL, "-c", "4")
    wait_until(lambda: answered_calls(home) == 10 and len(fake.chat_requests) == 14)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert recorded_results(home) <= 10
    answered_before = set(prompts_sent(fake, answered_only=True))
    in_flight = set(prompts_sent(fake)) - answered_before
    assert len(answered_before) == 10 and len(in_flight) == 4

    fake.set_default(None)
    code, out, err = cli(capsys, "eval", "resume", "1")
    assert code == 0, err
    assert "completed" in out and "passed 20" in out
    sent = prompts_sent(fake)
    assert {p for p, n in sent.items() if n == 2} == in_flight  # only the lost ones, again
    assert all(sent[prompt] == 1 for prompt in answered_before)
    assert prompts_sent(fake, answered_only=True) == Counter(f"question {i}" for i in range(20))
    assert recorded_results(home) == 20


def test_ctrl_c_leaves_the_run_interrupted_with_its_finished_cases(
    settings: Settings,
    fake: FakeOpenAI,
    tmp_path: Path,
    home: Path,
    eval_process: Callable[..., subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    suite = echo_suite(tmp_path, 12)
    fake.enqueue(Reply.echo(), times=5)
    fake.set_default(Reply.hang(60))
    process = eval_process("run", str(suite), "-m", MODEL, "-c", "2")
    wait_until(lambda: recorded_results(home) == 5 and len(fake.chat_requests) == 7)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "tunedeck: run 1 interrupted after 5 of 12 cases" in err
    assert "`tunedeck eval resume 1`" in err
    with sqlite3.connect(home / "tunedeck.db") as db:
        status, passed = db.execute("SELECT status, passed FROM eval_runs WHERE id = 1").fetchone()
        statuses = dict(db.execute("SELECT status, count(*) FROM calls GROUP BY status"))
    assert status == "interrupted" and passed == 5
    assert statuses == {"ok": 5, "cancelled": 2}  # the two in flight: stopped, not errors

    fake.set_default(None)
    code, out, _ = cli(capsys, "eval", "resume", "1", "--json")
    assert code == 0 and json.loads(out)["run"]["summary"]["passed"] == 12


def test_ctrl_c_ends_a_run_whose_python_scorer_never_returns(
    settings: Settings,
    fake: FakeOpenAI,
    tmp_path: Path,
    home: Path,
    eval_process: Callable[..., subprocess.Popen[str]],
) -> None:
    started = tmp_path / "scoring"
    (tmp_path / "stuck.py").write_text(
        "import pathlib, time\n\ndef get_assert(output, context):\n"
        f"    pathlib.Path({str(started)!r}).touch()\n    time.sleep(120)\n",
        encoding="utf-8",
    )
    suite = tmp_path / "stuck.yaml"
    suite.write_text(
        "cases:\n  - input: question 0\n    assert: [{type: python, value: 'file://stuck.py'}]\n",
        encoding="utf-8",
    )
    fake.set_default(Reply.echo())
    process = eval_process("run", str(suite), "-m", MODEL, "--no-cache")
    wait_until(started.exists)
    process.send_signal(signal.SIGINT)
    began = time.monotonic()
    _, err = process.communicate(timeout=30)
    assert time.monotonic() - began < 5  # at once: not when the scorer's sleep ends
    assert process.returncode == 130, err
    assert "tunedeck: run 1 interrupted" in err


def test_resuming_a_run_that_a_live_process_runs_is_refused(
    settings: Settings,
    fake: FakeOpenAI,
    tmp_path: Path,
    home: Path,
    eval_process: Callable[..., subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.set_default(Reply.hang(60))
    eval_process("run", str(echo_suite(tmp_path, 3)), "-m", MODEL)
    wait_until(lambda: len(fake.chat_requests) == 3)
    code, _, err = cli(capsys, "eval", "resume", "1")
    assert code == 2 and "run 1 is being run by process" in err


# -- the collector during a run ----------------------------------------------------------------
class RecordingCollector:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def freeze(self) -> None:
        self.calls.append("freeze")

    def get_threshold(self) -> tuple[int, int, int]:
        return (700, 10, 10)

    def set_threshold(self, *values: Any) -> None:
        self.calls.append(f"threshold {values}")


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> RecordingCollector:
    """The command's own process (tui/cli/heap.py), its collector recorded, not changed."""
    recording = RecordingCollector()
    monkeypatch.setattr(heap, "_owned", True)
    monkeypatch.setattr(heap, "gc", recording)
    return recording


def test_eval_run_settles_the_collector_before_the_run(
    collector: RecordingCollector, settings: Settings, tmp_path: Path
) -> None:
    assert run(["eval", "run", str(echo_suite(tmp_path, 3)), "-m", MODEL, "--json"]) == 0
    assert collector.calls == ["freeze", f"threshold {(heap.YOUNG_COLLECTION_EVERY, 10, 10)}"]


# -- what the comparison tells: changed and unpaired cases, pins (QA s7) -----------------------


def test_changed_and_unpaired_cases_are_flagged_in_text_json_and_junit(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = echo_suite(tmp_path, 4)
    assert cli(capsys, "eval", "run", str(suite), "-m", MODEL)[0] == 0
    text = suite.read_text(encoding="utf-8")
    text = text.replace(
        "{id: q00, input: 'question 0', assert: [{type: icontains, value: echo}]",
        "{id: q00, input: 'question 0', assert: [{type: icontains, value: nope}]",
    )
    text = text.replace("id: q03, input: 'question 3'", "id: q09, input: 'question 9'")
    suite.write_text(text, encoding="utf-8")  # q00 checks otherwise; q03 out, q09 in
    junit = tmp_path / "out.xml"
    code, out, err = cli(capsys, "eval", "run", str(suite), "-m", MODEL, "-b", "1",
                         "--junit", str(junit))  # fmt: skip
    assert code == 0, err
    assert len(fake.chat_requests) == 5  # q00's answer came from the cache: same model, input
    assert "  broke (pass -> fail) (1): q00 (checks changed)\n" in out
    assert "  only in the baseline (1): q03\n" in out
    assert "  only in the candidate (1): q09\n" in out
    assert (
        "note: the checks of 1 paired case changed in the candidate's suite version, 1 of them"
        " flipped: not the model's doing\n"
    ) in out

    report = json.loads(cli(capsys, "eval", "compare", "1", "2", "--json")[1])
    comparison = report["comparison"]
    assert comparison["changed_checks"] == ["q00"] and comparison["changed_inputs"] == []
    assert comparison["only_in_baseline_ids"] == ["q03"]
    assert comparison["only_in_candidate_ids"] == ["q09"]
    assert (comparison["only_in_baseline"], comparison["only_in_candidate"]) == (1, 1)
    assert (report["verdict"], report["verdict_label"]) == ("unchanged", "not significant")
    assert comparison["notes"] and not set(report["notes"]) & set(comparison["notes"])

    root = ET.parse(junit).getroot()
    failure = root.find("testsuite/testcase[@name='q00']/failure")
    assert failure is not None and "its flip is not the model's doing" in (failure.text or "")
    summary = root.findtext("testsuite[2]/testcase/system-out") or ""
    assert "broke (1): q00 (checks changed)" in summary
    assert "only in the baseline (1): q03" in summary


def test_a_pin_says_which_runs_compare_with_it(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = echo_suite(tmp_path, 2)
    for model in (MODEL, "gpt-4.1"):
        assert cli(capsys, "eval", "run", str(suite), "-m", model)[0] == 0
    code, _, err = cli(capsys, "eval", "baseline", "1")
    assert code == 0 and err == (
        "run 1 is the baseline of echoes for gpt-4o-mini: runs of gpt-4o-mini, and of any model"
        " with no pinned run of its own on echoes, now compare with it by default\n"
    )
    _, _, err = cli(capsys, "eval", "baseline", "2")
    assert err == (
        "run 2 is the baseline of echoes for gpt-4.1: runs of gpt-4.1, and of any model with no"
        " pinned run of its own on echoes (all but gpt-4o-mini), now compare with it by default\n"
    )
    _, out, _ = cli(capsys, "eval", "run", str(suite), "-m", "ft-mid")  # as the note says
    assert "compared with run 2 of gpt-4.1 (pinned baseline of gpt-4.1)" in out
    _, _, err = cli(capsys, "eval", "baseline", "2", "--clear")
    assert err == (
        "run 2 is no longer a baseline: runs of gpt-4.1 now compare by default with run 1 of"
        " gpt-4o-mini, the suite's newest pinned run, as do runs of any model with no pinned"
        " run of its own on echoes\n"
    )


def test_eval_show_gives_a_reason_the_terminal_width(
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    fake: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pattern = "^" + "a-very-long-expected-answer-" * 5 + "$"
    suite = tmp_path / "long.yaml"
    case = f"{{id: q, input: hi, assert: [{{type: regex, value: '{pattern}'}}]}}"
    suite.write_text(f"name: long\ncases:\n  - {case}\n", encoding="utf-8")
    assert cli(capsys, "eval", "run", str(suite), "-m", MODEL)[0] == 0
    shown = json.loads(cli(capsys, "eval", "show", "1", "--json")[1])
    why = "regex: " + shown["results"][0]["scores"][0]["reason"]
    assert len(why) > 70  # QA: cut at ~60 characters whatever the width
    monkeypatch.setenv("COLUMNS", "250")
    _, wide, _ = cli(capsys, "eval", "show", "1", "--failed")
    assert f" {why} " in wide
    monkeypatch.setenv("COLUMNS", "80")
    _, narrow, _ = cli(capsys, "eval", "show", "1", "--failed")
    assert why not in narrow and why[:20] in narrow and "…" in narrow
    assert all(len(line) <= 80 for line in narrow.splitlines()[2:])


# -- case ids that follow the case (not its position) -------------------------------------------


def _native_without_ids(countries: list[str]) -> str:
    cases = "".join(
        f"  - {{input: 'question {c}', assert: [{{type: icontains, value: '{c}'}}]}}\n"
        if c != "Peru"
        else f"  - {{input: 'question {c}', assert: [{{type: icontains, value: nope}}]}}\n"
        for c in countries
    )
    return f"name: ids\nparams: {{temperature: 0}}\ncases:\n{cases}"


def _promptfoo_without_ids(countries: list[str]) -> str:
    tests = "".join(
        f"  - vars: {{c: {c}}}\n    assert: [{{type: icontains, value: "
        f"'{'nope' if c == 'Peru' else c}'}}]\n"
        for c in countries
    )
    return f"description: ids\nprompts: ['question {{{{c}}}}', 'again {{{{c}}}}']\ntests:\n{tests}"


@pytest.mark.parametrize(
    ("name", "make"),
    [("suite.yaml", _native_without_ids), ("promptfooconfig.yaml", _promptfoo_without_ids)],
)
def test_a_case_inserted_at_the_top_flips_no_other_case_against_the_baseline(
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    fake: FakeOpenAI,
    tmp_path: Path,
    name: str,
    make: Callable[[list[str]], str],
) -> None:
    suite = tmp_path / name
    countries = ["France", "Peru", "Japan", "Chile", "Kenya", "Peru2"]
    suite.write_text(make(countries), encoding="utf-8")
    assert cli(capsys, "eval", "run", str(suite), "-m", MODEL)[0] == 0
    suite.write_text(make(["Atlantis", *countries]), encoding="utf-8")  # one test at the top
    code, out, err = cli(capsys, "eval", "run", str(suite), "-m", MODEL, "--baseline", "1",
                         "--fail-on-regression", "--json")  # fmt: skip
    assert code == 0, err
    comparison = json.loads(out)["comparison"]
    assert comparison["broke"] == [] and comparison["fixed"] == []
    prompts = 1 if name == "suite.yaml" else 2
    assert comparison["paired"] == len(countries) * prompts  # every old case, with itself


def test_a_module_scorer_beside_the_suite_runs_from_the_console_script_and_on_resume(
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    fake: FakeOpenAI,
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, elsewhere = tmp_path / "evals", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    (folder / "beside_cli_scorers.py").write_text(
        "def check(output, context):\n"
        "    return {'pass': 'echo' in output, 'reason': 'checked beside the suite'}\n"
    )
    cases = "".join(
        f"  - {{id: q{i:02d}, input: 'question {i}',"
        " assert: [{type: python, value: 'beside_cli_scorers:check'}]}\n"
        for i in range(12)
    )
    suite = folder / "suite.yaml"
    suite.write_text(f"name: beside\ncases:\n{cases}", encoding="utf-8")
    env = {**os.environ, "FAKE_API_KEY": TEST_KEY}
    env.pop("PYTHONPATH", None)
    tunedeck = str(Path(sys.executable).with_name("tunedeck"))  # no cwd on its sys.path
    command = [tunedeck, "eval", "run", str(suite), "-m", MODEL, "--no-cache", "-c", "2"]

    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    shown = json.loads(cli(capsys, "eval", "show", "1", "--json")[1])
    reasons = {item["reason"] for r in shown["results"] for item in r["scores"]}
    assert reasons == {"checked beside the suite"}

    fake.enqueue(Reply.echo(), times=4)  # four answered, then the rest hang: killed mid-run
    fake.set_default(Reply.hang(60))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=elsewhere)  # fmt: skip
    wait_until(lambda: recorded_results(home, run_id=2) == 4)
    process.kill()
    process.communicate(timeout=30)
    fake.set_default(None)
    monkeypatch.chdir(elsewhere)  # this process has never imported the module
    assert "beside_cli_scorers" not in sys.modules
    code, out, err = cli(capsys, "eval", "resume", "2")
    assert code == 0, err
    assert "passed 12" in out
    shown = json.loads(cli(capsys, "eval", "show", "2", "--json")[1])
    reasons = {item["reason"] for r in shown["results"] for item in r["scores"]}
    assert reasons == {"checked beside the suite"}


# -- repeats: answers, then cases as the verdict counts them (QA s7) ---------------------------


def test_a_repeated_run_reports_cases_by_majority_in_text_json_and_junit(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite, junit = echo_suite(tmp_path, 2), tmp_path / "out.xml"
    args = ("eval", "run", str(suite), "-m", MODEL, "--repeat", "3")
    code, out, err = cli(capsys, *args, "--junit", str(junit))
    assert code == 0, err
    assert "passed 6, failed 0, errored 0 of 6 answers (100.0% passed)" in out
    assert "  by case (majority of 3): passed 2, failed 0, errored 0 of 2 (100.0% passed)" in out
    cases = ET.parse(junit).getroot().find("testsuite")
    assert cases is not None and [c.get("name") for c in cases.findall("testcase")] == [
        "q00",
        "q01",
    ]
    shown = json.loads(cli(capsys, "eval", "show", "1", "--json")[1])
    assert shown["by_case"] == {
        "passed": 2, "failed": 0, "errored": 0, "repeats": 3, "cases": 2, "pass_rate": 1.0,
    }  # fmt: skip
