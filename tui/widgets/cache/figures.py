"""How the Cache pane words its figures: ages, sizes, tokens saved and the stats line."""

from __future__ import annotations

from datetime import datetime

from storage.records import CacheEntry, CacheStats
from tui.text import money

_SPANS = [(86400, "d"), (3600, "h"), (60, "m")]


def moment(stamp: str) -> datetime:
    """A stored UTC ISO time as an aware datetime."""
    return datetime.fromisoformat(stamp)


def age(stamp: str, now: datetime) -> str:
    """How long ago `stamp` was, in the largest whole unit: `45s`, `12m`, `5h`, `3d`."""
    seconds = int((now - moment(stamp)).total_seconds())
    return "soon" if seconds < 0 else span(seconds)


def span(seconds: int) -> str:
    """A duration in its largest whole unit: `45s`, `12m`, `5h`, `3d`."""
    for length, unit in _SPANS:
        if seconds >= length:
            return f"{seconds // length}{unit}"
    return f"{seconds}s"


def until(stamp: str | None, now: datetime) -> str:
    """`in 29d`, `expired 5h ago` or `never`, for an expiry time."""
    if stamp is None:
        return "never"
    seconds = int((moment(stamp) - now).total_seconds())
    return f"in {span(seconds)}" if seconds > 0 else f"expired {span(-seconds)} ago"


def is_expired(entry: CacheEntry, now: datetime) -> bool:
    """Whether the entry's time to live has run out (lookups no longer return it)."""
    return entry.expires_at is not None and moment(entry.expires_at) <= now


def size(size_bytes: int) -> str:
    """Bytes for people: `512 B`, `1.2 KiB`, `3.4 MiB`."""
    if size_bytes < 1024:
        return f"{size_bytes} B"
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.1f} KiB"
    return f"{size_bytes / 1024 / 1024:.1f} MiB"


def tokens_saved(entry: CacheEntry) -> int:
    """Tokens not sent or generated again thanks to this entry: hits × its call's tokens."""
    return entry.hits * (entry.prompt_tokens + entry.completion_tokens)


def stats_line(stats: CacheStats) -> str:
    """Entries, size, expired, hit rate, tokens and money saved, on one line."""
    rate = "-" if stats.hit_rate is None else f"{stats.hit_rate:.0%}"
    noun = "entry" if stats.entries == 1 else "entries"
    return (
        f"{stats.entries:,} {noun} · {size(stats.size_bytes)} · {stats.expired:,} expired · "
        f"hit rate {rate} · saved {stats.tokens_saved:,} tokens, {money(stats.cost_saved_usd)}"
    )
