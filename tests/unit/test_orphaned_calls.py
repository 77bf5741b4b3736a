"""Calls left `pending` by a process that died are closed as interrupted the next time the
database is opened for work; calls still in flight, and those logged before m013, are not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.settings import load_settings
from storage.calls import ORPHANED_MESSAGE
from storage.migrations import rebuild_usage_rollup
from storage.records import CallOutcome, CallStart, Usage
from storage.store import Store
from tui.engine import Engine

AT = "2026-11-29T12:00:00.000000Z"


def call(prompt: str) -> CallStart:
    return CallStart(
        started_at="2026-11-29T11:59:00.000000Z",
        profile="p",
        endpoint="http://x/v1",
        model="m",
        stream=False,
        params={},
        messages=[{"role": "user", "content": prompt}],
        request_key=prompt,
        cache_eligible=True,
    )


def dead_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def statuses(store: Store) -> dict[str, tuple[str, str | None, str | None]]:
    with store.read() as db:
        rows = db.execute(
            "SELECT prompt_text, status, error_type, finished_at FROM calls ORDER BY id"
        ).fetchall()
    return {prompt: (status, error, finished) for prompt, status, error, finished in rows}


def rollup(store: Store) -> list[tuple[object, ...]]:
    with store.read() as db:
        return db.execute("SELECT * FROM usage_rollup ORDER BY 1, 2, 3").fetchall()


def test_pending_calls_of_a_dead_process_are_closed_and_others_left(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.db")
    ids = {prompt: store.calls.start(call(prompt)) for prompt in ("lost", "live", "old", "done")}
    store.calls.finish(
        ids["done"], CallOutcome(finished_at=AT, status="ok", usage=Usage(3, 4), cost_usd=0.1)
    )
    gone = dead_pid()
    with store.write() as db:
        db.conn.execute("UPDATE calls SET pid = ? WHERE id = ?", [gone, ids["lost"]])
        db.conn.execute("UPDATE calls SET pid = NULL WHERE id = ?", [ids["old"]])  # pre-m013
    assert store.calls.cancel_orphaned(AT) == 1
    assert statuses(store) == {
        "lost": ("cancelled", "interrupted", AT),
        "live": ("pending", None, None),  # this process's: in flight
        "old": ("pending", None, None),
        "done": ("ok", None, AT),
    }
    record = store.calls.get(ids["lost"])
    assert record is not None and record.outcome is not None
    assert record.outcome.error_message == ORPHANED_MESSAGE
    assert record.outcome.cost_usd is None  # unknown: the provider may have billed it
    assert store.calls.cancel_orphaned(AT) == 0  # nothing left to close
    # the usage rollup follows the update as it follows a call's own outcome
    summed = rollup(store)
    rebuild_usage_rollup(store.db)
    assert rollup(store) == summed


def test_a_live_process_keeps_its_pending_calls(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "t.db")
    call_id = store.calls.start(call("elsewhere"))
    with store.write() as db:
        db.conn.execute("UPDATE calls SET pid = 12345 WHERE id = ?", [call_id])
    asked: list[int] = []
    assert store.calls.cancel_orphaned(AT, pid_alive=lambda pid: asked.append(pid) or True) == 0
    assert asked == [12345]
    assert statuses(store)["elsewhere"][0] == "pending"


def test_opening_the_engines_store_closes_them(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    settings = load_settings(tmp_path)
    store = Store.open(settings.database_path)
    call_id = store.calls.start(call("killed"))
    with store.write() as db:
        db.conn.execute("UPDATE calls SET pid = ? WHERE id = ?", [dead_pid(), call_id])
    store.close()
    engine = Engine(settings)
    try:
        assert statuses(engine.store)["killed"][:2] == ("cancelled", "interrupted")
    finally:
        engine.close()
