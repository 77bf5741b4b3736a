"""A scriptable, local, OpenAI-compatible HTTP server for tests.

Real HTTP on ``127.0.0.1`` (ephemeral port) served by a stdlib ``ThreadingHTTPServer`` running in a
background thread, so the real ``openai`` SDK (and its ``httpx2`` transport, retries, timeouts and
SSE parsing) is exercised end to end::

    with FakeOpenAI() as server:
        client = OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
        server.enqueue(Reply.error(429, headers={"retry-after-ms": "1"}), Reply.text("hi"))
        ...
        assert len(server.chat_requests) == 2

Endpoints
    ``POST /v1/chat/completions``  JSON, or SSE when the body has ``"stream": true``
    ``GET  /v1/models``            ``server.models`` (a list of ids, settable)
    ``GET  /v1/models/{id}``       one model or a 404 ``model_not_found``
    anything else                  404 in OpenAI's error shape
    (the ``/v1`` prefix is optional.)

Default answer (no script): ``"echo: " + <text of the last user message>``.

Usage (unless a reply overrides the numbers):
    ``prompt_tokens``     = number of whitespace-separated words in every message's ``content``
                            (string contents, or the ``text`` of ``{"type": "text"}`` parts);
                            see :func:`prompt_tokens_for`.
    ``completion_tokens`` = number of whitespace-separated words in the answer (for a tool call: in
                            its ``arguments`` string); see :func:`count_words`.
    ``total_tokens``      = the sum.
    ``prompt_tokens_details.cached_tokens`` / ``completion_tokens_details.reasoning_tokens`` appear
    only when the reply sets ``cached_tokens`` / ``reasoning_tokens``.
    What was reported for each request is recorded: ``server.chat_requests[i].usage`` (``None`` when
    the reply omitted usage) and ``.answer``.

Streaming (``"stream": true``): HTTP/1.1 chunked transfer encoding, ``text/event-stream``,
``data: {chunk}\\n\\n`` events then ``data: [DONE]\\n\\n``. The first chunk carries the role
delta (``{"role": "assistant", "content": ""}``), then one chunk per word of the answer (whitespace
kept, so the concatenation equals the answer); ``finish_reason`` is set on the last content chunk
(or on an empty-delta chunk when the answer is empty). With ``stream_options.include_usage`` every
chunk has ``"usage": null`` and a final chunk has ``"choices": []`` and the usage (never sent for
``usage=False``). Ids are deterministic (``chatcmpl-fake-000001``, counting chat requests since
the start or the last :meth:`FakeOpenAI.reset`; ``x-request-id: req_fake_000001`` counting all
requests) and ``created`` is fixed (:data:`CREATED`).

JSON responses use ``Content-Length`` and keep-alive. Every socket sets ``TCP_NODELAY`` (without it
a stdlib server answers in ~46 ms instead of ~1-3 ms).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import selectors
import socket
import threading
import time
import traceback
from collections import deque
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

__all__ = [
    "CREATED",
    "DEFAULT_MODELS",
    "FakeOpenAI",
    "RecordedRequest",
    "Reply",
    "count_words",
    "echo_answer",
    "fake_openai_server",
    "mask_key",
    "prompt_tokens_for",
]

CREATED = 1_700_000_000
"""The fixed ``created`` timestamp of every completion, chunk and model."""

DEFAULT_MODELS: tuple[str, ...] = (
    "gpt-4o-mini",
    "gpt-4.1",
    "ft:gpt-4o-mini-2024-07-18:acme::abc123",
)

ReplyKind = Literal[
    "text", "tool_call", "error", "hang", "drop", "bad_json", "stream_error", "echo"
]

JSON = dict[str, Any]

_WORD_PIECES = re.compile(r"\S+\s*|\s+")
_DEFAULT_ERROR_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", None),
    409: ("invalid_request_error", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


# --------------------------------------------------------------------------------------------------
# Helpers shared with tests (so they can compute what the server reports)
# --------------------------------------------------------------------------------------------------


def count_words(text: str | None) -> int:
    """Whitespace-separated words in ``text``: the fake's notion of a token."""
    return len(text.split()) if text else 0


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type") in ("text", "input_text")
        ]
        return " ".join(parts)
    return ""


def prompt_tokens_for(messages: Iterable[Mapping[str, Any]]) -> int:
    """Default ``prompt_tokens``: words in every message's content."""
    return sum(count_words(_content_text(m.get("content"))) for m in messages)


def echo_answer(messages: Sequence[Mapping[str, Any]]) -> str:
    """Default answer: ``"echo: "`` + the text of the last user message."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return "echo: " + _content_text(message.get("content"))
    return "echo: "


def mask_key(key: str) -> str:
    """Mask an API key the way OpenAI echoes it in 401 messages: ``sk-abc***xyz``."""
    if len(key) <= 9:
        return "***"
    return f"{key[:6]}***{key[-3:]}"


def _split_words(text: str) -> list[str]:
    """Split keeping whitespace, so ``"".join(pieces) == text``."""
    return _WORD_PIECES.findall(text)


def _split_fixed(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


# --------------------------------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one chat-completions request. Build with the class methods."""

    kind: ReplyKind
    content: str | None = None  # the answer text (``None``: echo); ``Reply.text`` builds one
    usage: bool = True
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None
    finish_reason: str = "stop"
    model: str | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    status: int = 200
    message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: str | bytes | Mapping[str, Any] | None = None
    seconds: float = 0.0
    after_chunks: int | None = None
    tool_name: str | None = None
    tool_arguments: str | None = None
    tool_call_id: str | None = None

    # -- constructors ------------------------------------------------------------------------------

    @classmethod
    def text(
        cls,
        text: str | None,
        *,
        usage: bool = True,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        cached_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        finish_reason: str = "stop",
        model: str | None = None,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
    ) -> Reply:
        """An assistant answer. ``text=None`` echoes the last user message.

        ``usage=False`` omits ``usage`` (JSON) and never sends the usage chunk (stream), like old
        llama.cpp servers. Token counts default to the word counts (see the module docstring).
        ``chunk_delay`` sleeps between stream chunks (to watch a stream arrive).
        """
        return cls(
            kind="text" if text is not None else "echo",
            content=text,
            usage=usage,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=cached_tokens,
            reasoning_tokens=reasoning_tokens,
            finish_reason=finish_reason,
            model=model,
            delay=delay,
            chunk_delay=chunk_delay,
        )

    @classmethod
    def echo(cls, **options: Any) -> Reply:
        """The default behaviour (``"echo: " + last user message``), with :meth:`text` options."""
        return cls.text(None, **options)

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | bytes | Mapping[str, Any] | None = None,
        *,
        error_type: str | None = None,
        code: str | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """An HTTP error in OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``.

        ``message`` may contain ``{masked_key}``, replaced by the request's API key masked as OpenAI
        does (``sk-abc***xyz``). ``body`` (dict, str or bytes) replaces the whole JSON body.
        ``headers`` are added (or override ``content-type``), e.g. ``{"retry-after-ms": "1"}``.
        """
        return cls(
            kind="error",
            status=status,
            message=message,
            headers=tuple((headers or {}).items()),
            body=body,
            error_type=error_type,
            error_code=code,
            delay=delay,
        )

    @classmethod
    def rate_limited(
        cls, retry_after_ms: float | None = 1, message: str | None = None, delay: float = 0.0
    ) -> Reply:
        """A 429 with ``retry-after-ms`` (default 1 ms so retries cost nothing)."""
        headers = {} if retry_after_ms is None else {"retry-after-ms": f"{retry_after_ms:g}"}
        return cls.error(
            429,
            message or "Rate limit reached for requests. Please try again later.",
            headers=headers,
            delay=delay,
        )

    @classmethod
    def invalid_api_key(cls, delay: float = 0.0) -> Reply:
        """A 401 like OpenAI's, echoing part of the key.

        Message: ``Incorrect API key provided: sk-abc***xyz. You can find your API key at ...``.
        """
        return cls.error(
            401,
            "Incorrect API key provided: {masked_key}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
            delay=delay,
        )

    @classmethod
    def hang(
        cls, seconds: float, *, after_chunks: int | None = None, text: str | None = None
    ) -> Reply:
        """Accept the request and send nothing for ``seconds``, then cut the connection.

        With ``after_chunks`` (streaming requests only) the headers and that many chunks are sent
        first, so the read timeout fires mid-stream. Server shutdown interrupts the wait.
        """
        return cls(kind="hang", seconds=seconds, after_chunks=after_chunks, content=text)

    @classmethod
    def drop_mid_stream(
        cls, after_chunks: int = 2, *, text: str | None = None, delay: float = 0.0
    ) -> Reply:
        """Send ``after_chunks`` SSE chunks (the role chunk counts), then cut the connection.

        No ``[DONE]``, no final chunk of the chunked encoding: the socket is shut down. For a
        non-streaming request, headers with the full ``Content-Length`` and half the body are sent.
        ``text`` defaults to the echo answer.
        """
        return cls(kind="drop", after_chunks=after_chunks, content=text, delay=delay)

    @classmethod
    def bad_json(cls, body: str | bytes | None = None, *, delay: float = 0.0) -> Reply:
        """200 ``application/json`` with a body that is not JSON (stream: a non-JSON SSE event)."""
        return cls(kind="bad_json", body=body, delay=delay)

    @classmethod
    def tool_call(
        cls,
        name: str,
        arguments_json: str,
        *,
        call_id: str | None = None,
        usage: bool = True,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        model: str | None = None,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
    ) -> Reply:
        """An assistant message with one function tool call; finish_reason ``tool_calls``.

        Streaming: the first chunk has the role, id and name, then the arguments in 8-character
        pieces, then an empty delta with the finish reason.
        """
        return cls(
            kind="tool_call",
            tool_name=name,
            tool_arguments=arguments_json,
            tool_call_id=call_id,
            finish_reason="tool_calls",
            usage=usage,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            model=model,
            delay=delay,
            chunk_delay=chunk_delay,
        )

    @classmethod
    def stream_error(
        cls, after_chunks: int = 2, message: str = "The server had an error while processing."
    ) -> Reply:
        """Streaming: ``after_chunks`` chunks then ``data: {"error": {...}}`` (then ``[DONE]``).

        The SDK raises ``openai.APIError`` while iterating. A non-streaming request gets a 500.
        """
        return cls(kind="stream_error", after_chunks=after_chunks, message=message)

    def with_delay(self, delay: float) -> Reply:
        """A copy that waits ``delay`` seconds before answering."""
        return dataclasses.replace(self, delay=delay)


# --------------------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """What the client sent (and, for chat requests, what the fake answered)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    at: float
    reply_kind: str | None = None
    answer: str | None = None
    usage: JSON | None = None
    status: int | None = None
    seq: int = 0  # 1-based arrival number since start/reset (also in the x-request-id header)
    peer: tuple[str, int] = ("", 0)  # the client's address: one port per kept-alive connection

    @property
    def json(self) -> Any:
        return self.body

    @property
    def is_chat(self) -> bool:
        return self.method == "POST" and self.path.rstrip("/").endswith("/chat/completions")

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))

    @property
    def api_key(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None


# --------------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------------


class _Cut(Exception):
    """Raised inside the handler to abandon a connection."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # handler threads are joined by FakeOpenAI.stop with a timeout
    request_queue_size = 256
    fake: FakeOpenAI

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can be slow.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="fake-openai-conn",
            daemon=True,
        )
        self.fake._track_thread(thread)
        thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.fake._record_error(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    server_version = "fake-openai/1.0"

    # -- connection lifecycle ----------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._register_connection(self.connection)

    def finish(self) -> None:
        try:
            with contextlib.suppress(OSError):
                super().finish()
        finally:
            self.server.fake._unregister_connection(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    # -- low-level writing -------------------------------------------------------------------------

    def _head(self, status: int, headers: Mapping[str, str]) -> bytes:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [f"HTTP/1.1 {status} {phrase}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _base_headers(self, request_id: str, content_type: str) -> dict[str, str]:
        return {"Content-Type": content_type, "x-request-id": request_id}

    def _send_body(
        self, status: int, body: bytes, headers: Mapping[str, str], *, truncate: bool = False
    ) -> None:
        all_headers = dict(headers)
        all_headers["Content-Length"] = str(len(body))
        if truncate:
            self.wfile.write(self._head(status, all_headers) + body[: len(body) // 2])
            raise _Cut
        self.wfile.write(self._head(status, all_headers) + body)

    def _start_stream(self, headers: Mapping[str, str]) -> None:
        all_headers = dict(headers)
        all_headers["Cache-Control"] = "no-cache"
        all_headers["Transfer-Encoding"] = "chunked"
        self.wfile.write(self._head(200, all_headers))

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _send_event(self, payload: JSON | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        self._send_chunk(b"data: " + data.encode() + b"\n\n")

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def _cut(self) -> None:
        """Really cut the connection (FIN both ways), no clean end of the HTTP message."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self.server.fake._stopping.wait(seconds):
            raise _Cut

    # -- request handling --------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        fake = self.server.fake
        try:
            raw = self._read_body()
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = None
            split = urlsplit(self.path)
            record = RecordedRequest(
                method=self.command,
                path=split.path,
                query=dict(parse_qsl(split.query)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                raw_body=raw,
                at=time.monotonic(),
                peer=(str(self.client_address[0]), int(self.client_address[1])),
            )
            fake._record_request(record)
            self._wait(fake.latency)
            path = split.path.rstrip("/")
            if path.startswith("/v1/"):
                path = path[3:]
            if self.command == "POST" and path == "/chat/completions":
                self._chat(record, fake)
            elif self.command == "GET" and path == "/models":
                self._models(record, fake)
            elif self.command == "GET" and path.startswith("/models/"):
                self._model(record, fake, unquote(path[len("/models/") :]))
            else:
                self._error_json(
                    record, 404, f"Unknown request URL: {self.command} {split.path}.", None, None
                )
        except _Cut:
            self._cut()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except OSError:
            self.close_connection = True
        except Exception:
            fake._record_error(traceback.format_exc())
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send_body(
                    500,
                    json.dumps(
                        {"error": {"message": "fake server bug", "type": "server_error"}}
                    ).encode(),
                    {"Content-Type": "application/json"},
                )

    # -- endpoints ---------------------------------------------------------------------------------

    def _request_id(self, record: RecordedRequest) -> str:
        return f"req_fake_{record.seq:06d}"

    def _models(self, record: RecordedRequest, fake: FakeOpenAI) -> None:
        data = [_model_object(m) for m in fake.models]
        record.status = 200
        payload = json.dumps({"object": "list", "data": data}).encode()
        self._send_body(
            200, payload, self._base_headers(self._request_id(record), "application/json")
        )

    def _model(self, record: RecordedRequest, fake: FakeOpenAI, model_id: str) -> None:
        if model_id not in fake.models:
            self._error_json(
                record,
                404,
                f"The model '{model_id}' does not exist",
                "invalid_request_error",
                "model_not_found",
            )
            return
        record.status = 200
        payload = json.dumps(_model_object(model_id)).encode()
        self._send_body(
            200, payload, self._base_headers(self._request_id(record), "application/json")
        )

    def _error_json(
        self,
        record: RecordedRequest,
        status: int,
        message: str,
        error_type: str | None,
        code: str | None,
        extra_headers: Iterable[tuple[str, str]] = (),
        body: str | bytes | Mapping[str, Any] | None = None,
    ) -> None:
        record.status = status
        if body is None:
            default_type, default_code = _DEFAULT_ERROR_TYPES.get(
                status, ("server_error" if status >= 500 else "invalid_request_error", None)
            )
            payload: bytes = json.dumps(
                {
                    "error": {
                        "message": message,
                        "type": error_type or default_type,
                        "param": None,
                        "code": code if code is not None else default_code,
                    }
                }
            ).encode()
        elif isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = json.dumps(dict(body)).encode()
        headers = self._base_headers(self._request_id(record), "application/json")
        lower = {k.lower(): k for k in headers}
        for name, value in extra_headers:
            if name.lower() in lower:
                del headers[lower[name.lower()]]
            headers[name] = value
        self._send_body(status, payload, headers)

    def _chat(self, record: RecordedRequest, fake: FakeOpenAI) -> None:
        reply, number = fake._next_reply()
        record.reply_kind = reply.kind
        body = record.body if isinstance(record.body, dict) else {}
        messages = [m for m in body.get("messages") or [] if isinstance(m, Mapping)]
        stream = bool(body.get("stream"))
        stream_options = body.get("stream_options") or {}
        include_usage = isinstance(stream_options, Mapping) and bool(
            stream_options.get("include_usage")
        )
        request_id = self._request_id(record)

        if reply.kind == "hang":
            if stream and reply.after_chunks:
                chunks = self._text_chunks(reply, record, messages, body, number, False)
                self._start_stream(self._base_headers(request_id, "text/event-stream"))
                for chunk in chunks[: reply.after_chunks]:
                    self._send_event(chunk)
            self._wait(reply.seconds)
            raise _Cut

        self._wait(reply.delay)

        if reply.kind == "error" or (reply.kind == "stream_error" and not stream):
            message = reply.message or HTTPStatus(reply.status).phrase
            message = message.replace("{masked_key}", mask_key(record.api_key or ""))
            status = reply.status if reply.kind == "error" else 500
            self._error_json(
                record,
                status,
                message,
                reply.error_type,
                reply.error_code,
                reply.headers,
                reply.body,
            )
            return

        if reply.kind == "bad_json":
            record.status = 200
            raw = reply.body if reply.body is not None else b'{"id": "chatcmpl-fake", not json'
            payload = raw.encode() if isinstance(raw, str) else cast(bytes, raw)
            if stream:
                self._start_stream(self._base_headers(request_id, "text/event-stream"))
                self._send_chunk(b"data: " + payload + b"\n\n")
                self._send_event("[DONE]")
                self._end_stream()
            else:
                self._send_body(200, payload, self._base_headers(request_id, "application/json"))
            return

        record.status = 200
        if stream:
            chunks = self._text_chunks(reply, record, messages, body, number, include_usage)
            self._start_stream(self._base_headers(request_id, "text/event-stream"))
            limit = reply.after_chunks if reply.kind in ("drop", "stream_error") else None
            for index, chunk in enumerate(chunks):
                if limit is not None and index >= limit:
                    break
                if index:
                    self._wait(reply.chunk_delay)
                self._send_event(chunk)
            if reply.kind == "drop":
                raise _Cut
            if reply.kind == "stream_error":
                self._send_event(
                    {
                        "error": {
                            "message": reply.message,
                            "type": "server_error",
                            "param": None,
                            "code": None,
                        }
                    }
                )
            self._send_event("[DONE]")
            self._end_stream()
        else:
            payload = json.dumps(self._completion(reply, record, messages, body, number)).encode()
            self._send_body(
                200,
                payload,
                self._base_headers(request_id, "application/json"),
                truncate=reply.kind == "drop",
            )

    # -- payload builders --------------------------------------------------------------------------

    def _answer(self, reply: Reply, messages: Sequence[Mapping[str, Any]]) -> str:
        if reply.content is not None:
            return reply.content
        return echo_answer(messages)

    def _usage(
        self,
        reply: Reply,
        record: RecordedRequest,
        messages: Sequence[Mapping[str, Any]],
        completion_text: str,
    ) -> JSON | None:
        if not reply.usage:
            record.usage = None
            return None
        prompt = reply.prompt_tokens
        if prompt is None:
            prompt = prompt_tokens_for(messages)
        completion = reply.completion_tokens
        if completion is None:
            completion = count_words(completion_text)
        usage: JSON = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        if reply.cached_tokens is not None:
            usage["prompt_tokens_details"] = {"cached_tokens": reply.cached_tokens}
        if reply.reasoning_tokens is not None:
            usage["completion_tokens_details"] = {"reasoning_tokens": reply.reasoning_tokens}
        record.usage = usage
        return usage

    def _tool_call_id(self, reply: Reply, number: int) -> str:
        return reply.tool_call_id or f"call_fake_{number:06d}"

    def _completion(
        self,
        reply: Reply,
        record: RecordedRequest,
        messages: Sequence[Mapping[str, Any]],
        body: Mapping[str, Any],
        number: int,
    ) -> JSON:
        model = reply.model or str(body.get("model") or "gpt-4o-mini")
        if reply.kind == "tool_call":
            arguments = reply.tool_arguments or "{}"
            record.answer = arguments
            message: JSON = {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {
                        "id": self._tool_call_id(reply, number),
                        "type": "function",
                        "function": {"name": reply.tool_name, "arguments": arguments},
                    }
                ],
            }
            usage = self._usage(reply, record, messages, arguments)
        else:
            answer = self._answer(reply, messages)
            record.answer = answer
            message = {"role": "assistant", "content": answer, "refusal": None}
            usage = self._usage(reply, record, messages, answer)
        completion: JSON = {
            "id": f"chatcmpl-fake-{number:06d}",
            "object": "chat.completion",
            "created": CREATED,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "system_fingerprint": "fp_fake",
        }
        if usage is not None:
            completion["usage"] = usage
        return completion

    def _text_chunks(
        self,
        reply: Reply,
        record: RecordedRequest,
        messages: Sequence[Mapping[str, Any]],
        body: Mapping[str, Any],
        number: int,
        include_usage: bool,
    ) -> list[JSON]:
        model = reply.model or str(body.get("model") or "gpt-4o-mini")
        completion_id = f"chatcmpl-fake-{number:06d}"

        def chunk(delta: JSON, finish_reason: str | None) -> JSON:
            obj: JSON = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }
            if include_usage:
                obj["usage"] = None
            return obj

        chunks: list[JSON] = []
        if reply.kind == "tool_call":
            arguments = reply.tool_arguments or "{}"
            record.answer = arguments
            completion_text = arguments
            chunks.append(
                chunk(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": self._tool_call_id(reply, number),
                                "type": "function",
                                "function": {"name": reply.tool_name, "arguments": ""},
                            }
                        ],
                    },
                    None,
                )
            )
            for piece in _split_fixed(arguments):
                chunks.append(
                    chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}, None)
                )
            chunks.append(chunk({}, reply.finish_reason))
        else:
            answer = self._answer(reply, messages)
            record.answer = answer
            completion_text = answer
            chunks.append(chunk({"role": "assistant", "content": "", "refusal": None}, None))
            pieces = _split_words(answer)
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                chunks.append(chunk({"content": piece}, reply.finish_reason if last else None))
            if not pieces:
                chunks.append(chunk({}, reply.finish_reason))
        usage = self._usage(reply, record, messages, completion_text)
        if include_usage and usage is not None:
            chunks.append(
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": CREATED,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [],
                    "usage": usage,
                }
            )
        return chunks


def _model_object(model_id: str) -> JSON:
    return {
        "id": model_id,
        "object": "model",
        "created": CREATED,
        "owned_by": "organization-owner" if model_id.startswith("ft:") else "openai",
    }


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------


class FakeOpenAI:
    """A scriptable OpenAI-compatible server on ``127.0.0.1:<ephemeral>`` in a background thread.

    Use as a context manager (or :meth:`start` / :meth:`stop`). Thread-safe.

    Attributes:
        latency: seconds added before answering every request (any endpoint).
        models: model ids listed by ``GET /v1/models``.
        errors: tracebacks of unexpected exceptions in the fake itself (should stay empty).
    """

    def __init__(
        self,
        *,
        models: Sequence[str] = DEFAULT_MODELS,
        latency: float = 0.0,
        default: Reply | None = None,
    ) -> None:
        self.latency: float = latency
        self.models: list[str] = list(models)
        self.errors: list[str] = []
        self._default: Reply = default or Reply.echo()
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._chat_count = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._httpd: _HTTPServer | None = None
        self._serve_thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self.host = "127.0.0.1"
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer((self.host, 0), _Handler)
        httpd.fake = self
        self.port = int(httpd.server_address[1])
        self._wake_r, self._wake_w = socket.socketpair()
        self._httpd = httpd
        self._serve_thread = threading.Thread(target=self._serve, name="fake-openai", daemon=True)
        self._serve_thread.start()
        return self

    def _serve(self) -> None:
        httpd = self._httpd
        assert httpd is not None and self._wake_r is not None
        with selectors.DefaultSelector() as selector:
            selector.register(httpd.socket, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r or self._stopping.is_set():
                        return
                    httpd.handle_request()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, close the port, cut open connections, join the threads."""
        httpd = self._httpd
        if httpd is None:
            return
        with self._lock:
            self._stopping.set()
            self._changed.notify_all()
        assert self._wake_w is not None and self._wake_r is not None
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._serve_thread is not None:
            self._serve_thread.join(timeout)
        httpd.server_close()  # the listening socket: the port is closed from here on
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._wake_r.close()
        self._wake_w.close()
        self._httpd = None
        self._serve_thread = None
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` (pass as ``base_url=`` to the SDK)."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no ``/v1``)."""
        return f"http://{self.host}:{self.port}"

    # -- scripting ---------------------------------------------------------------------------------

    def enqueue(self, *replies: Reply, times: int = 1) -> None:
        """Queue replies (FIFO), one consumed per chat request; ``times`` repeats the batch."""
        with self._lock:
            for _ in range(times):
                self._queue.extend(replies)

    def set_default(self, reply: Reply | None) -> None:
        """The reply used when the queue is empty (``None``: back to the echo default)."""
        with self._lock:
            self._default = reply or Reply.echo()

    @property
    def pending(self) -> int:
        """Replies still queued."""
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        """Clear the queue, the records, the default reply, the errors and the id counter."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._chat_count = 0
            self._default = Reply.echo()
            self.errors.clear()

    # -- recording ---------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """A snapshot of the ``POST .../chat/completions`` requests."""
        with self._lock:
            return [r for r in self._requests if r.is_chat]

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self._requests[-1]

    def wait_for_requests(
        self, count: int, timeout: float = 2.0, *, chat_only: bool = True
    ) -> bool:
        """Block until at least ``count`` (chat) requests arrived; False on timeout."""

        def enough() -> bool:
            records = [r for r in self._requests if r.is_chat] if chat_only else self._requests
            return len(records) >= count

        with self._changed:
            return self._changed.wait_for(enough, timeout)

    # -- convenience -------------------------------------------------------------------------------

    def client_kwargs(self, api_key: str = "sk-test", **kwargs: Any) -> dict[str, Any]:
        return {"api_key": api_key, "base_url": self.base_url, **kwargs}

    def openai_client(self, api_key: str = "sk-test", **kwargs: Any) -> OpenAI:
        """A real ``openai.OpenAI`` pointed here (``max_retries`` etc. via kwargs). Close it."""
        from openai import OpenAI

        return OpenAI(**self.client_kwargs(api_key, **kwargs))

    def async_openai_client(self, api_key: str = "sk-test", **kwargs: Any) -> AsyncOpenAI:
        """A real ``openai.AsyncOpenAI`` pointed here. Close it (``async with``)."""
        from openai import AsyncOpenAI

        return AsyncOpenAI(**self.client_kwargs(api_key, **kwargs))

    # -- called from handler threads ---------------------------------------------------------------

    def _next_reply(self) -> tuple[Reply, int]:
        with self._lock:
            self._chat_count += 1
            reply = self._queue.popleft() if self._queue else self._default
            return reply, self._chat_count

    def _record_request(self, record: RecordedRequest) -> None:
        with self._changed:
            self._requests.append(record)
            record.seq = len(self._requests)
            self._changed.notify_all()

    def _record_error(self, text: str) -> None:
        if "ConnectionResetError" in text or "BrokenPipeError" in text:
            return
        with self._lock:
            self.errors.append(text)

    def _register_connection(self, connection: socket.socket) -> None:
        with self._lock:
            if not self._stopping.is_set():
                self._connections.add(connection)
                return
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)

    def _unregister_connection(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _track_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)


def fake_openai_server(**kwargs: Any) -> Generator[FakeOpenAI, None, None]:
    """Generator usable as a pytest fixture body: ``yield from fake_openai_server()``."""
    with FakeOpenAI(**kwargs) as server:
        yield server
