"""Plain records that go into and come out of the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CallStart:
    """What is known of a call before it is sent."""

    started_at: str
    profile: str
    endpoint: str
    model: str
    stream: bool
    params: dict[str, Any]
    messages: list[dict[str, Any]]
    request_key: str
    cache_eligible: bool


@dataclass(frozen=True)
class Usage:
    """Token usage of one call; `estimated` when counted locally rather than reported."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class CallOutcome:
    """How a call ended: its answer, usage, cost and timings, or its error."""

    finished_at: str
    status: str
    """`ok`, `error`, `incomplete` (a stream cut before its end) or `cancelled` (stopped
    before its answer came: by the user, escape or Ctrl-C, or by the run it belonged to
    stopping; not an error of the endpoint, so error rates and monitors leave it out)."""
    response_text: str = ""
    response_model: str | None = None
    finish_reason: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    cost_saved_usd: float | None = None
    ttft_ms: float | None = None
    latency_ms: float | None = None
    cache_hit: bool = False
    retries: int = 0
    error_type: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class CallRecord:
    """One row of the request log."""

    id: int
    start: CallStart
    status: str
    """`pending` (not finished, or its process died), `ok`, `error`, `incomplete` or
    `cancelled`."""
    outcome: CallOutcome


@dataclass(frozen=True)
class CacheEntry:
    """A cached answer and the request components its key was made from."""

    key: str
    endpoint: str
    model: str
    components: dict[str, Any]
    response: dict[str, Any]
    prompt_excerpt: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    size_bytes: int
    created_at: str
    expires_at: str | None
    last_hit_at: str | None = None
    hits: int = 0
    source_call_id: int | None = None


@dataclass(frozen=True)
class CacheStats:
    """Figures of the response cache and of its use by logged calls."""

    entries: int
    size_bytes: int
    expired: int
    lookups: int
    hits: int
    tokens_saved: int
    cost_saved_usd: float

    @property
    def hit_rate(self) -> float | None:
        """Hits per cache-eligible call, or None before the first one."""
        return self.hits / self.lookups if self.lookups else None


@dataclass(frozen=True)
class UsageRow:
    """Totals of the request log for one group (a model, a day, a profile, or all)."""

    group: str
    calls: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    unpriced_calls: int
    cache_hits: int
    cost_saved_usd: float


@dataclass(frozen=True)
class CallFilter:
    """Which calls of the log to list."""

    model: str | None = None
    since: str | None = None
    search: str | None = None
    errors_only: bool = False
    before_id: int | None = None
    limit: int = 50
