"""User code (a `python` scorer, a Python transform) that may block, run off the event loop.

`asyncio.to_thread` runs it in the loop's default executor, whose threads the loop waits for
when it closes: a scorer stuck for good (a network call with no timeout, a `sleep`) then kept
Ctrl-C from ending the run, the run recorded `interrupted` but the process never exiting.
Here each call has a daemon thread of its own, which nothing waits for: the run ends at once,
and the thread ends with the process. A thread costs ~0.1 ms to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import Any


async def run_in_daemon_thread(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` in a daemon thread (with this context's variables), awaited; what it
    raises is raised here (a `BaseException` that is not an `Exception`, such as `SystemExit`,
    as a `RuntimeError` naming it)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def work() -> None:
        try:
            value, error = context.run(function, *args), None
        except Exception as raised:
            value, error = None, raised
        except BaseException as raised:
            value, error = None, RuntimeError(f"the code raised {type(raised).__name__}")
        with contextlib.suppress(RuntimeError):  # the loop is closed: the run ended meanwhile
            loop.call_soon_threadsafe(_settle, done, value, error)

    threading.Thread(target=work, name="tunedeck-user-code", daemon=True).start()
    return await done


def _settle(done: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if done.done():  # cancelled meanwhile
        return
    if error is None:
        done.set_result(value)
    else:
        done.set_exception(error)
