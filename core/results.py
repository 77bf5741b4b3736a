"""What a chat call gives back, and how the caller wants it made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from storage.alerts import AlertRow
from storage.records import Usage

CacheMode = Literal["use", "refresh", "off"]
"""`use` reads and fills the cache; `refresh` skips the read but stores the new answer;
`off` neither reads nor writes."""


@dataclass(frozen=True)
class CallOptions:
    """How to make one call."""

    stream: bool = False
    cache: CacheMode = "use"
    cache_nondeterministic: bool = False
    """Cache this call even when it is not deterministic (temperature > 0 and no seed)."""
    on_text: Callable[[str], None] | None = None
    """Receives each piece of the answer as it arrives (the whole answer on a cache hit)."""
    over_budget: bool = False
    """Send this paid call even when a budget covering it is used up (it is still counted)."""


@dataclass(frozen=True)
class ChatResult:
    """The answer of a call and its figures, as logged under `call_id`."""

    call_id: int
    profile: str
    model: str
    text: str
    finish_reason: str | None
    tool_calls: list[dict[str, Any]] | None
    usage: Usage
    cost_usd: Decimal | None
    """None when the model's price is unknown; 0 on a cache hit or a local endpoint."""
    cost_saved_usd: Decimal | None
    ttft_ms: float | None
    latency_ms: float
    cache_hit: bool
    cache_key: str
    retries: int
    incomplete: bool = False
    alerts: tuple[AlertRow, ...] = ()
    """Budget alerts this call's cost raised (each is raised once per budget period)."""
