"""Helpers for budget and monitor tests: calls written to the real log, a webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from core.clock import iso
from storage.records import CallOutcome, CallStart, Usage
from storage.store import Store


def log_call(
    store: Store,
    when: datetime,
    cost: float | None,
    *,
    profile: str = "openai",
    model: str = "gpt-4o-mini",
    status: str = "ok",
    latency_ms: float = 500.0,
    cache_hit: bool = False,
    completion_tokens: int = 5,
) -> int:
    """Write one finished call to the request log (through `CallLog`, as the client does)."""
    call_id = store.calls.start(
        CallStart(
            started_at=iso(when),
            profile=profile,
            endpoint="https://api.example.test/v1",
            model=model,
            stream=False,
            params={"temperature": 0.0},
            messages=[{"role": "user", "content": "hello"}],
            request_key="k",
            cache_eligible=False,
        )
    )
    store.calls.finish(
        call_id,
        CallOutcome(
            finished_at=iso(when),
            status=status,
            response_text="" if status == "error" else "answer",
            usage=Usage(10, completion_tokens),
            cost_usd=cost,
            latency_ms=latency_ms,
            cache_hit=cache_hit,
            error_type="APIError" if status == "error" else None,
        ),
    )
    return call_id


class Clock:
    """A settable clock for the guard and the monitors."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Received:
    """One request the webhook receiver got."""

    path: str
    body: dict[str, Any]


@dataclass
class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 answering POSTs with scripted statuses (then 200)."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else 200


@contextmanager
def webhook_receiver(
    statuses: list[int] | None = None, delay: float = 0.0
) -> Iterator[WebhookReceiver]:
    """Run a `WebhookReceiver` in a thread for the duration of the block."""
    receiver = WebhookReceiver(list(statuses or []), delay)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def _handler(receiver: WebhookReceiver) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            receiver.received.append(Received(self.path, body))
            status = receiver.next_status()
            if receiver.delay:
                time.sleep(receiver.delay)
            try:
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler
