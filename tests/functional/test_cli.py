"""The command line through its real entry point: output, JSON, and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.clock import iso, utc_now
from storage.records import CacheEntry
from storage.store import Store
from tests.conftest import TEST_KEY, fake_profile_toml, write_config
from tests.support.fake_openai import FakeOpenAI, Reply
from tui.cli import run

TUNEDECK = str(Path(sys.executable).with_name("tunedeck"))  # the installed console script


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_console_script_answers_from_the_demo_with_no_key_and_no_network(
    home: Path,
) -> None:
    done = subprocess.run(
        [TUNEDECK, "prompt", "hello offline world", "--temperature", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr
    assert "offline demo model" in done.stdout and "3 words" in done.stdout
    assert "demo/tunedeck-demo" in done.stderr and "cache miss" in done.stderr
    assert (home / "tunedeck.db").exists()


def test_bad_input_exits_2_with_one_line(home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "prompt", "hi", "--temperature", "3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "tunedeck: error: temperature: must be at most 2"


def test_prompt_json_and_cache_flags(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    code, out, _ = cli(capsys, "prompt", "hi", "-t", "0", "--json")
    first = json.loads(out)
    assert code == 0 and first["cache_hit"] is False and first["usage"]["prompt_tokens"] > 0
    second = json.loads(cli(capsys, "prompt", "hi", "-t", "0", "--json")[1])
    assert second["cache_hit"] is True and second["text"] == first["text"]
    assert (
        json.loads(cli(capsys, "prompt", "hi", "-t", "0", "--json", "--no-cache")[1])["cache_hit"]
        is False
    )
    assert (
        json.loads(cli(capsys, "prompt", "hi", "-t", "0", "--json", "--refresh")[1])["cache_hit"]
        is False
    )
    code, _, err = cli(capsys, "prompt", "hi", "--no-cache", "--refresh")
    assert code == 2 and "cannot be used together" in err


def test_prompt_reads_stdin(
    capsys: pytest.CaptureFixture[str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("from a pipe with five words"))
    code, out, _ = cli(capsys, "prompt", "-", "--no-stream")
    assert code == 0 and "6 words" in out


def test_a_failed_request_exits_1_and_is_logged(
    capsys: pytest.CaptureFixture[str],
    home: Path,
    fake: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_API_KEY", TEST_KEY)
    write_config(home, fake_profile_toml(fake.base_url, max_retries=1))
    fake.enqueue(Reply.error(503, "overloaded", headers={"retry-after-ms": "1"}))
    fake.enqueue(Reply.error(503, "overloaded", headers={"retry-after-ms": "1"}))
    code, _, err = cli(capsys, "prompt", "hi")
    assert code == 1
    assert err.strip() == f"tunedeck: error: HTTP 503 from {fake.base_url}: overloaded"
    code, out, _ = cli(capsys, "log", "--errors", "--json")
    (call,) = json.loads(out)
    assert call["status"] == "error" and call["outcome"]["retries"] == 1
    assert TEST_KEY not in out


def test_bad_config_exits_2_naming_file_and_line(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    path = write_config(home, "[profiles.x]\nbase_url = 'http://h/v1'\ntimeout = 0\n")
    code, _, err = cli(capsys, "profiles")
    assert code == 2
    assert err.strip() == f"tunedeck: error: {path}:3: profiles.x.timeout: must be greater than 0"


def test_unknown_profile_and_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    assert cli(capsys, "prompt", "hi", "--profile", "nope")[0] == 2
    assert cli(capsys, "log", "--since", "yesterday-ish")[0] == 2
    assert cli(capsys, "prompt")[0] == 2
    assert cli(capsys, "usage", "--by", "planet")[0] == 2


def test_log_search_and_show(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    cli(capsys, "prompt", "tell me about cheese", "-t", "0")
    cli(capsys, "prompt", "tell me about rivers", "-t", "0")
    code, out, _ = cli(capsys, "log", "--search", "cheese", "--json")
    (call,) = json.loads(out)
    assert code == 0 and call["start"]["messages"][0]["content"] == "tell me about cheese"
    code, out, _ = cli(capsys, "log", "show", str(call["id"]))
    assert code == 0 and "tell me about cheese" in out and "offline demo model" in out
    assert cli(capsys, "log", "show", "999")[0] == 2
    code, out, _ = cli(capsys, "log", "--since", "1h", "--model", "tunedeck-demo")
    assert code == 0 and out.count("tunedeck-demo") == 2


def test_log_search_lists_the_call_sent_not_its_cache_hits(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    cli(capsys, "prompt", "tell me about cheese", "-t", "0")
    cli(capsys, "prompt", "tell me about cheese", "-t", "0")  # answered from the cache
    logged = json.loads(cli(capsys, "log", "--json")[1])
    assert [call["outcome"]["cache_hit"] for call in logged] == [True, False]
    found = json.loads(cli(capsys, "log", "--search", "cheese", "--json")[1])
    assert [call["id"] for call in found] == [logged[1]["id"]]


def test_cache_commands(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    cli(capsys, "prompt", "first", "-t", "0")
    cli(capsys, "prompt", "second", "-t", "0")
    cli(capsys, "prompt", "second", "-t", "0")
    entries = json.loads(cli(capsys, "cache", "ls", "--json")[1])
    assert [e["prompt_excerpt"] for e in entries] == ["second", "first"]
    key = entries[0]["key"]
    code, out, _ = cli(capsys, "cache", "show", key[:8])
    assert code == 0 and "param temperature" in out and "tunedeck-demo" in out
    stats = json.loads(cli(capsys, "cache", "stats", "--json")[1])
    assert (stats["entries"], stats["hits"], stats["lookups"]) == (2, 1, 3)
    assert cli(capsys, "cache", "show", "abc")[0] == 2
    assert cli(capsys, "cache", "rm", key[:8])[0] == 0
    assert cli(capsys, "cache", "show", key[:8])[0] == 2
    assert cli(capsys, "cache", "clear", "--expired")[0] == 0
    assert cli(capsys, "cache", "clear", "--yes")[0] == 0
    assert json.loads(cli(capsys, "cache", "ls", "--json")[1]) == []


def test_cache_ls_lists_entries_of_the_same_instant_and_matches_text_literally(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    store = Store.open(home / "tunedeck.db")
    now = iso(utc_now())
    for n, prompt in enumerate(["100% sure", "1000 sure", "a_b", "axb"]):
        entry = CacheEntry(
            f"{n:064d}", "e", "m", {}, {"text": "x"}, prompt, 1, 1, 0.0, 1, now, None
        )
        store.cache.put(entry)  # all created in the same microsecond
    store.close()
    listed = json.loads(cli(capsys, "cache", "ls", "--json", "-n", "3")[1])
    assert [e["key"][-1] for e in listed] == ["0", "1", "2"]  # by key within the instant
    found = json.loads(cli(capsys, "cache", "ls", "--json", "--search", "100%")[1])
    assert [e["prompt_excerpt"] for e in found] == ["100% sure"]
    found = json.loads(cli(capsys, "cache", "ls", "--json", "--search", "a_b")[1])
    assert [e["prompt_excerpt"] for e in found] == ["a_b"]


def test_usage_by_model_day_and_profile(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    cli(capsys, "prompt", "one", "-t", "0")
    cli(capsys, "prompt", "one", "-t", "0")
    (row,) = json.loads(cli(capsys, "usage", "--by", "model", "--json")[1])
    assert (row["group"], row["calls"], row["cache_hits"]) == ("tunedeck-demo", 2, 1)
    (day,) = json.loads(cli(capsys, "usage", "--by", "day", "--json")[1])
    assert day["calls"] == 2 and len(day["group"]) == 10
    code, out, _ = cli(capsys, "usage", "--by", "profile")
    assert code == 0 and "demo" in out


def test_profiles_show_where_keys_come_from_never_the_key(
    capsys: pytest.CaptureFixture[str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    code, out, _ = cli(capsys, "profiles")
    assert code == 0 and "$OPENAI_API_KEY" in out and TEST_KEY not in out
    rows = json.loads(cli(capsys, "profiles", "--json")[1])
    assert {r["name"] for r in rows} == {"default", "demo"}
    assert TEST_KEY not in json.dumps(rows)


def test_profiles_mask_a_password_in_an_endpoint_url(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    write_config(home, "[profiles.proxy]\nbase_url = 'https://bob:hunter-22@proxy.example/v1'\n")
    code, out, _ = cli(capsys, "profiles", "--json")
    (proxy,) = [row for row in json.loads(out) if row["name"] == "proxy"]
    assert code == 0 and proxy["base_url"] == "https://bob:***@proxy.example/v1"
    assert "hunter-22" not in cli(capsys, "profiles")[1]


def test_tokens_counts_a_request_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    body = {
        "messages": [{"role": "user", "content": "hello world"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
    }
    path = tmp_path / "req.json"
    path.write_text(json.dumps(body))
    code, out, _ = cli(capsys, "tokens", str(path), "--model", "gpt-4o-mini", "--json")
    counted = json.loads(out)
    assert code == 0 and counted["exact"] is True and counted["tokens"] > 8
    bad = tmp_path / "bad.json"
    bad.write_text('{"messages": [\n  {"role": "user",, }\n]}')
    code, _, err = cli(capsys, "tokens", str(bad), "--model", "gpt-4o-mini")
    assert code == 2 and f"{bad}:2:19: invalid JSON" in err
    code, _, err = cli(capsys, "tokens", str(tmp_path / "none.json"), "--model", "m")
    assert code == 2 and "cannot be read" in err


def test_the_debug_log_never_holds_the_key(
    capsys: pytest.CaptureFixture[str],
    home: Path,
    fake: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_API_KEY", TEST_KEY)
    monkeypatch.setenv("TUNEDECK_LOG_LEVEL", "DEBUG")
    write_config(home, fake_profile_toml(fake.base_url, max_retries=1))
    fake.enqueue(Reply.invalid_api_key())  # a 401 is not retried
    assert cli(capsys, "prompt", "hi")[0] == 1
    assert cli(capsys, "prompt", "hi again", "--no-stream")[0] == 0
    log = (home / "tunedeck.log").read_text()
    assert "chat/completions" in log  # the SDK's debug lines are there...
    assert TEST_KEY not in log and TEST_KEY[8:20] not in log  # ...without the key


def test_kill_9_mid_stream_leaves_the_partial_answer_in_the_log(
    capsys: pytest.CaptureFixture[str],
    home: Path,
    fake: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import signal
    import time

    from storage.records import CallFilter
    from storage.store import Store

    monkeypatch.setenv("FAKE_API_KEY", TEST_KEY)
    write_config(home, fake_profile_toml(fake.base_url))
    words = " ".join(f"word{i}" for i in range(40))
    fake.enqueue(Reply.text(words, chunk_delay=0.1))
    process = subprocess.Popen(
        [TUNEDECK, "prompt", "talk slowly"], stdout=subprocess.PIPE, env=os.environ.copy()
    )
    assert process.stdout is not None
    received = b""
    while b"word12" not in received:
        received += process.stdout.read1(100)
    time.sleep(0.7)  # past the 0.5 s between saves of the partial text
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    store = Store.open(home / "tunedeck.db")
    (call,) = store.calls.find(CallFilter())
    assert call.status == "pending"  # never finished
    partial = call.outcome.response_text
    assert partial.startswith("word0 word1") and len(partial) < len(words)
    assert "interrupted" in cli(capsys, "log")[1]
    # the command closed the dead process's call, keeping what it had streamed
    (call,) = store.calls.find(CallFilter())
    assert (call.status, call.outcome.error_type) == ("cancelled", "interrupted")
    assert call.outcome.response_text == partial
