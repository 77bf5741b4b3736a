"""User code run in a daemon thread of its own: its value and errors come back, with the
caller's context variables, and nothing waits for a thread that never returns."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from core.evals.user_threads import run_in_daemon_thread

SEEN: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")


def test_the_value_comes_back_from_another_thread_with_the_context() -> None:
    async def main() -> tuple[str, str, bool]:
        SEEN.set("the run's")
        return await run_in_daemon_thread(
            lambda suffix: (SEEN.get() + suffix, threading.current_thread().name, True), "!"
        )

    value, thread, _ = asyncio.run(main())
    assert value == "the run's!"
    assert thread == "tunedeck-user-code"


def test_an_error_is_raised_to_the_caller_and_system_exit_does_not_escape() -> None:
    def fails() -> None:
        raise ValueError("bad answer")

    def exits() -> None:
        raise SystemExit(3)

    with pytest.raises(ValueError, match="bad answer"):
        asyncio.run(run_in_daemon_thread(fails))
    with pytest.raises(RuntimeError, match="raised SystemExit"):
        asyncio.run(run_in_daemon_thread(exits))


def test_a_call_that_never_returns_does_not_hold_the_loop_closing() -> None:
    release, running = threading.Event(), threading.Event()

    def stuck() -> None:
        running.set()
        release.wait()

    async def main() -> None:
        call = asyncio.ensure_future(run_in_daemon_thread(stuck))
        while not running.is_set():
            await asyncio.sleep(0)
        call.cancel()  # as Ctrl-C cancels a run

    asyncio.run(asyncio.wait_for(main(), timeout=5))  # asyncio.to_thread's would wait here
    assert not release.is_set()
    release.set()
