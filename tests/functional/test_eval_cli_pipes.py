"""`tunedeck eval run` whose stderr goes to a pipe its reader closed (`2>&1 | head -1`): the
run goes on to the end instead of dying half-way as `failed` at its first notice."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from core.settings import Settings
from tests.conftest import TEST_KEY
from tests.support.fake_openai import FakeOpenAI

SUITE = """name: piped
params: {temperature: 0}
cases:
  - {id: a, input: first, assert: [{type: icontains, value: echo}]}
  - {id: b, input: second, assert: [{type: icontains, value: echo}]}
"""


def test_a_closed_stderr_does_not_stop_the_run(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = tmp_path / "piped.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before anything is written: every write is EPIPE
    process = subprocess.run(
        [sys.executable, "-m", "tui", "eval", "run", str(suite), "-m", "gpt-4o-mini"],
        stdout=subprocess.PIPE,
        stderr=writer,
        text=True,
        env={**os.environ, "FAKE_API_KEY": TEST_KEY},
        timeout=120,
        check=False,
    )
    os.close(writer)
    with sqlite3.connect(settings.database_path) as db:
        status, recorded = db.execute(
            "SELECT status, (SELECT count(*) FROM eval_results) FROM eval_runs"
        ).fetchone()
    assert (status, recorded) == ("completed", 2)
    assert len(fake.chat_requests) == 2
    assert process.returncode == 0 and "passed 2" in process.stdout
