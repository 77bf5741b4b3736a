"""Group commit: the writes asked for in one turn of the loop share one transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.client import ChatClient
from core.params import ChatRequest, Message, RequestParams
from storage.group_commit import GroupCommit
from storage.store import Store
from tests.support.fake_openai import FakeOpenAI


@pytest.fixture
def notes(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "t.db")
    store.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT UNIQUE)")
    yield store
    store.close()


def add(text: str) -> object:
    def write(conn: sqlite3.Connection) -> int:
        return int(conn.execute("INSERT INTO notes (text) VALUES (?)", [text]).lastrowid or 0)

    return write


def texts(store: Store) -> list[str]:
    return [row[0] for row in store.db.execute("SELECT text FROM notes ORDER BY id").fetchall()]


def test_the_writes_of_one_turn_are_one_transaction_and_each_gets_its_result(
    notes: Store,
) -> None:
    commits = GroupCommit(notes)

    async def scenario() -> list[int]:
        return await asyncio.gather(*(commits.write(add(f"n{i}")) for i in range(20)))

    before = notes._commits
    ids = asyncio.run(scenario())
    assert notes._commits - before == 1
    assert ids == list(range(1, 21))
    assert texts(notes) == [f"n{i}" for i in range(20)]


def test_a_write_that_fails_is_undone_alone_and_raises_in_its_own_task(notes: Store) -> None:
    commits = GroupCommit(notes)

    def half_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO notes (text) VALUES ('half')")
        conn.execute("INSERT INTO notes (text) VALUES ('a')")  # UNIQUE: fails

    async def scenario() -> list[object]:
        writes = [add("a"), half_then_fail, add("b")]
        return await asyncio.gather(*(commits.write(w) for w in writes), return_exceptions=True)

    first, failed, last = asyncio.run(scenario())
    assert isinstance(failed, sqlite3.IntegrityError)
    assert (first, last) == (1, 2)  # 'half' took id 2 and was undone with its write
    assert texts(notes) == ["a", "b"]


def test_a_write_whose_task_is_cancelled_before_the_turn_ends_is_not_made(notes: Store) -> None:
    commits = GroupCommit(notes)

    async def scenario() -> None:
        kept = asyncio.create_task(commits.write(add("kept")))
        dropped = asyncio.create_task(commits.write(add("dropped")))
        await asyncio.sleep(0)  # both asked, the commit not yet made
        dropped.cancel()
        await kept
        with pytest.raises(asyncio.CancelledError):
            await dropped

    asyncio.run(scenario())
    assert texts(notes) == ["kept"]


def test_when_the_transaction_cannot_start_every_write_of_the_turn_raises(notes: Store) -> None:
    @contextmanager
    def locked() -> Iterator[object]:
        raise sqlite3.OperationalError("database is locked")
        yield  # pragma: no cover

    notes.write = locked  # type: ignore[method-assign]
    commits = GroupCommit(notes)

    async def scenario() -> list[object]:
        writes = [commits.write(add(f"n{i}")) for i in range(3)]
        return await asyncio.gather(*writes, return_exceptions=True)

    outcomes = asyncio.run(scenario())
    assert [str(error) for error in outcomes] == ["database is locked"] * 3


def test_concurrent_calls_share_commits_and_each_is_logged_once(
    client: ChatClient, store: Store, fake: FakeOpenAI
) -> None:
    def ask(i: int) -> ChatRequest:
        messages = [Message(role="user", content=f"question {i}")]
        return ChatRequest(model="gpt-4o-mini", messages=messages, params=RequestParams())

    async def scenario() -> list[int]:
        results = await asyncio.gather(*(client.acomplete(ask(i)) for i in range(16)))
        return [result.call_id for result in results]

    before = store._commits
    call_ids = asyncio.run(scenario())
    rows = store.db.execute("SELECT id, status, response_text FROM calls ORDER BY id").fetchall()
    assert sorted(call_ids) == [row[0] for row in rows] and len(set(call_ids)) == 16
    assert {row[1] for row in rows} == {"ok"}
    assert sorted(row[2] for row in rows) == sorted(f"echo: question {i}" for i in range(16))
    assert store._commits - before < 2 * 16  # a start and an end each, some shared
