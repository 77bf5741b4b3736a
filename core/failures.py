"""Describe a failed call in one line, whatever the SDK or the transport raised."""

from __future__ import annotations

import json
from typing import Any

from core.redact import redact


def describe_failure(error: BaseException, base_url: str, secrets: list[str]) -> tuple[str, str]:
    """(error type, one-line message) for a failed call, with secrets masked."""
    import openai

    kind = type(error).__name__
    disconnect = _disconnect_taken_for_timeout(error)
    if disconnect is not None:
        kind = "APIConnectionError"
        message = f"connection to {base_url} failed: {type(disconnect).__name__}: {disconnect}"
    elif isinstance(error, openai.APIStatusError):
        message = f"HTTP {error.status_code} from {base_url}: {_server_message(error)}"
    elif isinstance(error, openai.APITimeoutError):
        message = f"no answer from {base_url} in time"
    elif isinstance(error, openai.APIConnectionError):
        cause = error.__cause__ or error
        message = f"connection to {base_url} failed: {type(cause).__name__}: {cause}"
    elif isinstance(error, json.JSONDecodeError | openai.APIResponseValidationError):
        message = f"the answer from {base_url} is not valid JSON"
    elif isinstance(error, BadResponse):
        message = f"bad answer from {base_url}: {error}"
    else:
        message = f"{kind}: {error}" if str(error) else kind
    return kind, redact(" ".join(message.split()), secrets)


class BadResponse(Exception):
    """The server answered 200 with something that is not a chat completion."""


def _disconnect_taken_for_timeout(error: BaseException) -> BaseException | None:
    """The aiohttp error behind an `APITimeoutError` that was no timeout, or None.

    The SDK's aiohttp transport maps every aiohttp connection error, a server closing the
    connection without answering included, to a connect timeout; the SDK retries it the same
    way, but the log must not say "no answer in time" for a server that hung up.
    """
    import openai

    if not isinstance(error, openai.APITimeoutError):
        return None
    root: BaseException = error
    while root.__cause__ is not None:
        root = root.__cause__
    if type(root).__module__.startswith("aiohttp") and not isinstance(root, TimeoutError):
        return root
    return None


def _server_message(error: Any) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(error, "message", error))
