"""The async SDK clients of a `ChatClient`: one per profile and event loop, on aiohttp.

The SDK's async client runs on aiohttp (`openai.DefaultAioHttpClient`, the SDK's own option
"for improved concurrency performance"): at 32 requests in flight it costs ~20% less CPU a
call than the default httpx2 transport (tests/bench/bench_eval_runner.py), and an evaluation
run is bound by that CPU (`core.aio_transport` makes it name a refused connection as the
sync client does, not as a timeout). An aiohttp session belongs to the loop that opened it
and must be closed in it, so clients are kept per loop, and each loop gets a task that
closes its clients when the loop shuts down: `asyncio.run` (a command, the console) and
pytest's loops cancel the tasks left at their end, and the task closes the connections then.
A client made in one `asyncio.run` is therefore never reused, half-dead, by the next.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openai import AsyncOpenAI

SdkOptions = Callable[[str], tuple[dict[str, Any], dict[str, Any]]]
"""A profile's name -> keyword arguments for the SDK client and for its HTTP client."""


class AsyncSdks:
    """Async SDK clients by profile, for the running event loop."""

    def __init__(self, options: SdkOptions, request_hook: Callable[[Any], Any]) -> None:
        """`request_hook` is an async httpx2 event hook run before every request sent."""
        self._options = options
        self._hook = request_hook
        self._clients: dict[tuple[str, asyncio.AbstractEventLoop], AsyncOpenAI] = {}
        self._closers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}

    def get(self, profile_name: str) -> AsyncOpenAI:
        """The client for a profile in the running loop, made on first use."""
        loop = asyncio.get_running_loop()
        client = self._clients.get((profile_name, loop))
        if client is None:
            client = self._make(profile_name)
            self._clients[(profile_name, loop)] = client
            if loop not in self._closers:
                self._closers[loop] = loop.create_task(self._close_at_end(loop))
        return client

    async def aclose(self) -> None:
        """Close the running loop's clients now (they close by themselves at its end too)."""
        loop = asyncio.get_running_loop()
        closer = self._closers.pop(loop, None)
        if closer is not None:
            closer.cancel()
        await self._close_loop_clients(loop)

    def _make(self, profile_name: str) -> AsyncOpenAI:
        from openai import AsyncOpenAI

        from core.aio_transport import AioHttpClient

        options, transport = self._options(profile_name)
        http = AioHttpClient(event_hooks={"request": [self._hook]}, **transport)
        return AsyncOpenAI(http_client=http, **options)

    async def _close_at_end(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            await asyncio.Event().wait()
        finally:  # cancelled: the loop is shutting down (or `aclose` closes them itself)
            if self._closers.get(loop) is asyncio.current_task():
                del self._closers[loop]
                await self._close_loop_clients(loop)

    async def _close_loop_clients(self, loop: asyncio.AbstractEventLoop) -> None:
        for key in [key for key in self._clients if key[1] is loop]:
            client = self._clients.pop(key)
            with contextlib.suppress(Exception):  # closing is best effort at shutdown
                await client.close()
