"""Custom python scorers inside a run: a module's function runs off the event loop (a slow one
holds back neither the other cases nor the console)."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path

from core.evals.loader import load_suite
from core.settings import Settings
from storage.store import Store
from tests.support.fake_openai import FakeOpenAI
from tests.unit.evals.test_runner import run, write_suite

SLOW_SCORER = """
import threading, time

def check(output, context):
    began = time.monotonic()
    time.sleep(0.3)  # a file read, a model of its own...
    with open(__file__ + ".log", "a") as log:
        log.write(f"{began} {time.monotonic()} {threading.get_ident()}\\n")
    return True
"""


def test_a_slow_module_scorer_runs_off_the_event_loop_and_cases_overlap(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    (tmp_path / "scorer.py").write_text(textwrap.dedent(SLOW_SCORER), encoding="utf-8")
    cases = "\n".join(
        f"  - {{id: c{i}, input: 'q{i}', assert: [{{type: python, value: 'file://scorer.py:check'}}]}}"
        for i in range(4)
    )
    suite = load_suite(write_suite(tmp_path, f"name: slow\ncases:\n{cases}\n"))
    outcome = run(settings, store, suite, concurrency=4)

    assert outcome.run.summary is not None and outcome.run.summary.passed == 4
    spans = [line.split() for line in (tmp_path / "scorer.py.log").read_text().splitlines()]
    assert len(spans) == 4
    assert all(int(thread) != threading.main_thread().ident for _, _, thread in spans)
    began = sorted(float(start) for start, _, _ in spans)
    ended = sorted(float(end) for _, end, _ in spans)
    assert began[-1] < ended[0]  # all four were scoring at once, not one after the other
