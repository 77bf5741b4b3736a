"""The JavaScript engine's process: a regex that backtracks without end (which QuickJS's own
time limit does not stop) fails its assertion by the deadline, the next script runs on a fresh
engine, no engine process outlives its parent, and Ctrl-C ends a run stuck in such a regex.
Also: a result that is not a verdict fails `not-javascript` too, and script reasons are cut."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.evals import javascript
from core.evals.scoring import SCRIPT_REASON_MAX_CHARS
from tests.unit.evals.helpers import check
from tests.unit.evals.test_javascript import js

ROOT = Path(__file__).resolve().parents[3]
CATASTROPHIC = "/^(a+)+$/.test('a'.repeat(40) + 'b')"


def alive(pid: int) -> bool:
    """Whether a process `pid` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_backtracking_regex_fails_by_the_deadline_and_the_next_script_runs() -> None:
    assert js("output === 'warm'", "warm").passed  # the engine process is running
    stuck = javascript._engine.process
    assert stuck is not None
    began = time.monotonic()
    result = js(CATASTROPHIC, "a")
    took = time.monotonic() - began
    assert not result.passed and not result.error
    assert result.reason.startswith("stopped after the time limit (1 s)")
    assert javascript.DEADLINE_S - 0.1 <= took < javascript.DEADLINE_S + 1.0
    assert not alive(stuck.pid)  # killed and reaped, not left spinning
    began = time.monotonic()
    assert js("output === 'b'", "b").passed  # on a fresh engine
    assert time.monotonic() - began < 3.0  # a new process started (seconds on a loaded machine)


def test_a_backtracking_regex_fails_not_javascript_too() -> None:
    result = js(CATASTROPHIC, "a", kind="not-javascript")
    assert not result.passed and "time limit" in result.reason


def test_a_backtracking_regex_in_a_transform_errors_its_assertion() -> None:
    result = check({"type": "contains", "value": "a", "transform": CATASTROPHIC}, "a")
    assert (result.passed, result.error) == (False, True)
    assert result.reason.startswith("transform stopped after the time limit")


def run_script(code: str) -> subprocess.Popen[str]:
    """A Python process, in the repository, running `code`."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


HANGING_RUN = """
    import asyncio
    from core.evals import javascript

    async def main():
        await javascript.score("output === 'a'", "a", {}, None)
        print(javascript._engine.process.pid, flush=True)
        await javascript.score("%s", "a", {}, None)

    asyncio.run(main())
"""


def test_no_engine_process_is_left_when_the_process_ends() -> None:
    script = run_script(
        """
        import asyncio
        from core.evals import javascript

        print(asyncio.run(javascript.score("output === 'a'", "a", {}, None)).passed)
        print(javascript._engine.process.pid)
        """
    )
    out, _ = script.communicate(timeout=30)
    passed, child = out.split()
    assert passed == "True"
    time.sleep(0.2)
    assert not alive(int(child))


def test_ctrl_c_ends_a_process_stuck_in_a_regex_and_its_engine() -> None:
    script = run_script(HANGING_RUN % CATASTROPHIC)
    assert script.stdout is not None
    child = int(script.stdout.readline())
    time.sleep(0.3)  # now in the regex
    script.send_signal(signal.SIGINT)
    began = time.monotonic()
    script.wait(timeout=5)
    assert time.monotonic() - began < 1.5  # not after the deadline: at once
    time.sleep(0.2)
    assert not alive(child)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_an_engine_stuck_in_a_regex_dies_with_a_killed_parent() -> None:
    script = run_script(HANGING_RUN % CATASTROPHIC)
    assert script.stdout is not None
    child = int(script.stdout.readline())
    time.sleep(0.3)
    os.kill(script.pid, signal.SIGKILL)
    script.wait(timeout=5)
    deadline = time.monotonic() + 3
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


@pytest.mark.parametrize("kind", ["javascript", "not-javascript"])
@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("'yes'", "string"),
        ("NaN", "NaN"),
        ("null", "null"),
        ("[1]", "object"),
        ("const x = output.length;\nx > 0", "undefined"),  # a body that forgets `return`
    ],
)
def test_a_result_that_is_not_a_verdict_fails_whatever_the_polarity(
    kind: str, code: str, shown: str
) -> None:
    result = js(code, "a", kind=kind)
    assert not result.passed and result.score == 0.0
    assert result.reason.startswith(f"javascript returned {shown}, not a boolean")


def test_a_script_s_long_reason_is_cut() -> None:
    long = js("({pass: false, reason: 'y'.repeat(1e7)})", "a")
    assert len(long.reason) == SCRIPT_REASON_MAX_CHARS and long.reason.endswith("y…")
    thrown = js("(() => { throw new Error('z'.repeat(1e6)) })()", "a")
    assert len(thrown.reason) == SCRIPT_REASON_MAX_CHARS and thrown.reason.startswith("threw")
    python = check({"type": "python", "value": "{'pass': True, 'reason': 'p' * 10**6}"}, "a")
    assert python.passed and len(python.reason) == SCRIPT_REASON_MAX_CHARS
    transform = check(
        {"type": "contains", "value": "a", "transform": "(() => { throw 'q'.repeat(1e6) })()"},
        "a",
    )
    assert transform.error and len(transform.reason) == SCRIPT_REASON_MAX_CHARS
    short = js("({pass: false, reason: 'short'})", "a")
    assert short.reason == "short"
