"""What an evaluation run stores holds no secret: not the credentials of its endpoint's URL
(in its run row, its calls' rows, its cache hits' rows), not a key a custom scorer quotes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from core.evals.loader import load_suite
from core.settings import load_settings
from storage.evals import EvalStore
from storage.store import Store
from tests.conftest import fake_profile_toml, write_config
from tests.support.fake_openai import FakeOpenAI
from tests.unit.evals.test_runner import run, write_suite

KEY = "hunter-22-key"  # not shaped like a key: only the list of known secrets can mask it
PASSWORD = "pass-word-9"

SUITE = """
name: leaky
params: {temperature: 0}
cases:
  - id: a
    input: hi
    assert:
      - {type: python, value: "file://leaky.py:crash"}
      - {type: python, value: "file://leaky.py:chatty"}
"""

SCORERS = """
import os

def crash(output, context):
    raise RuntimeError("auth with " + os.environ["FAKE_API_KEY"] + " failed")

def chatty(output, context):
    return {"pass": True, "score": 1, "reason": "key=" + os.environ["FAKE_API_KEY"]}
"""


def test_a_run_and_its_cached_rerun_store_neither_the_url_password_nor_a_quoted_key(
    fake: FakeOpenAI, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_API_KEY", KEY)
    url = fake.base_url.replace("http://", f"http://bob:{PASSWORD}@")
    write_config(home, fake_profile_toml(url, max_retries=0))
    settings = load_settings()
    (tmp_path / "leaky.py").write_text(textwrap.dedent(SCORERS), encoding="utf-8")
    suite = load_suite(write_suite(tmp_path, SUITE))
    store = Store.open(settings.database_path)
    first = run(settings, store, suite)
    again = run(settings, store, suite)  # answered by the cache pass: its own log rows

    assert len(fake.chat_requests) == 1 and again.estimate.cached == 1
    for outcome in (first, again):
        (result,) = EvalStore(store).results(outcome.run.id)
        reasons = [score["reason"] for score in result.scores]
        assert reasons == [
            "scorer failed: RuntimeError: auth with [redacted] failed",
            "key=[redacted]",
        ]
        assert outcome.run.endpoint == url.replace(PASSWORD, "***")
    endpoints = {row[0] for row in store.db.execute("SELECT endpoint FROM calls")}
    assert endpoints == {url.replace(PASSWORD, "***")}
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    for path in home.iterdir():
        if path.name != "config.toml":
            data = path.read_bytes()
            assert PASSWORD.encode() not in data and KEY.encode() not in data, path.name
