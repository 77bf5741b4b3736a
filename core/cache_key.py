"""The response cache key: a hash of everything that can change the answer."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from core.params import ChatRequest

KEY_VERSION = 1


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
        "params": request.params.model_dump(exclude_none=True, exclude_defaults=False),
    }


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cache_key(endpoint: str, request: ChatRequest) -> str:
    """SHA-256 (hex) of the canonical JSON of `key_components`."""
    text = canonical_json(key_components(endpoint, request))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
