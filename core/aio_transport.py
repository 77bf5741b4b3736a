"""The SDK's aiohttp client, with a refused or unresolvable connection named as such.

The aiohttp transport the SDK vendors (`openai._vendor.httpx_aiohttp`) maps every aiohttp
connection error to `httpx2.ConnectTimeout`, `ClientConnectorError` included (its table
picks the base class's entry): a closed port or an unknown host then fails in a fraction of
a second as "no answer in time". The httpx2 transport of the sync client raises
`ConnectError` for these, with the socket's words ("[Errno 111] Connection refused"); this
client does the same. True timeouts stay timeouts. The SDK retries both alike, so only the
error's name and words change.

Credentials in the URL (`https://user:pass@proxy/v1`): httpx2 turns them into the request's
`Authorization: Basic` header, as the sync client sends it, and aiohttp refuses a URL that
still holds them next to that header; the transport sends the URL without them.

Importing this module imports openai (~0.9 s): import it lazily.
"""

from __future__ import annotations

import os
import socket
import ssl
from typing import Any, TypeGuard

import aiohttp
import httpx2
from openai import DefaultAioHttpClient


class AioHttpClient(DefaultAioHttpClient):
    """`openai.DefaultAioHttpClient` whose transports raise `ConnectError` when no
    connection could be made (refused, unresolvable host, TLS failure)."""

    # httpx2's hooks for making the transports, as the vendored aiohttp client overrides them
    def _init_transport(self, *args: Any, **options: Any) -> httpx2.AsyncBaseTransport:
        made: httpx2.AsyncBaseTransport = super()._init_transport(*args, **options)
        return made if options.get("transport") is not None else NamedConnectErrors(made)

    def _init_proxy_transport(self, *args: Any, **options: Any) -> httpx2.AsyncBaseTransport:
        return NamedConnectErrors(super()._init_proxy_transport(*args, **options))


class NamedConnectErrors(httpx2.AsyncBaseTransport):
    """Wraps an aiohttp transport: a connection that could not be made raises `ConnectError`;
    the URL's credentials, already in the `Authorization` header, are left out of the URL."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.userinfo:
            request.url = request.url.copy_with(userinfo=b"")
        try:
            return await self.inner.handle_async_request(request)
        except httpx2.ConnectTimeout as error:
            cause = error.__cause__
            if not _no_connection(cause):
                raise
            raise httpx2.ConnectError(connect_error_words(cause), request=request) from cause

    async def aclose(self) -> None:
        await self.inner.aclose()


def _no_connection(error: BaseException | None) -> TypeGuard[aiohttp.ClientConnectorError]:
    """Whether aiohttp could not connect for a reason other than time running out."""
    return isinstance(error, aiohttp.ClientConnectorError) and not isinstance(
        error.os_error, TimeoutError
    )


def connect_error_words(error: aiohttp.ClientConnectorError) -> str:
    """What the socket said, as httpx2 words it ("[Errno 111] Connection refused")."""
    cause = error.os_error
    if isinstance(cause, socket.gaierror | ssl.SSLError | ssl.CertificateError):
        return str(cause)  # "[Errno -2] Name or service not known", the TLS failure
    if cause.errno:  # asyncio replaces the socket's words by "Connect call failed (...)"
        return f"[Errno {cause.errno}] {os.strerror(cause.errno)}"
    return str(error)  # several addresses failed: aiohttp lists them
