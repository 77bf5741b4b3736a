"""The response cache key: a hash of everything that can change the answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from core.params import ChatRequest, RequestParams

KEY_VERSION = 1

# One encoder for every key: json.dumps with options builds a new one each call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def key_components(endpoint: str, request: ChatRequest) -> dict[str, Any]:
    """Every input of the answer: endpoint, model, messages and every parameter.

    Unset parameters are left out, so a parameter set to its absent value does not split the
    cache; any value that is sent is part of the key.
    """
    return {
        "version": KEY_VERSION,
        "endpoint": endpoint.rstrip("/"),
        "model": request.model,
        "messages": request.api_messages(),
        "params": _key_params(request.params),
    }


def cache_key(endpoint: str, request: ChatRequest) -> str:
    """SHA-256 (hex) of the canonical JSON of `key_components`."""
    return RequestKeys(endpoint, request.model, request.params).key(request.api_messages())


class RequestKeys:
    """Cache keys of requests that differ only in their messages (the cases of a run).

    The canonical JSON of `key_components` is its sorted keys in order, so the text around
    the messages (endpoint before them; model, parameters and version after) is the same
    for every such request and is encoded once: a key then costs the messages' JSON and a
    hash.
    """

    def __init__(self, endpoint: str, model: str, params: RequestParams) -> None:
        encode = _CANONICAL.encode
        self._head = f'{{"endpoint":{encode(endpoint.rstrip("/"))},"messages":'
        self._tail = (
            f',"model":{encode(model)},"params":{encode(_key_params(params))},'
            f'"version":{encode(KEY_VERSION)}}}'
        )

    def key(self, api_messages: Sequence[dict[str, Any]]) -> str:
        """The key of the request with these messages (`ChatRequest.api_messages`)."""
        text = self._head + _CANONICAL.encode(api_messages) + self._tail
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _key_params(params: RequestParams) -> dict[str, Any]:
    return params.model_dump(exclude_none=True, exclude_defaults=False)
