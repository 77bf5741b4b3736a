"""`tunedeck cache`: browse, inspect and evict the response cache."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from core.clock import iso, utc_now
from core.errors import BadInput
from storage.records import CacheEntry
from tui.cli.output import excerpt, local_time, print_json, print_table, say
from tui.engine import engine
from tui.text import money

cache_app = typer.Typer(help="The response cache.")


@cache_app.command("ls")
def cache_ls(
    search: Annotated[str, typer.Option("--search", "-q", help="Filter by model or prompt.")] = "",
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Cached answers, newest first."""
    entries = engine().store.cache.browse(limit, search=search)
    if as_json:
        print_json(entries)
        return
    print_table(
        ["key", "model", "hits", "created", "size", "tokens", "prompt"],
        [_row(entry) for entry in entries],
    )


@cache_app.command("show")
def cache_show(
    key: Annotated[str, typer.Argument(help="The key or its first characters (6 or more).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One entry: what went into its key, and the cached answer."""
    entry = _entry(key)
    if as_json:
        print_json(entry)
        return
    components = entry.components
    fields = [
        ("key", entry.key),
        ("endpoint", components.get("endpoint")),
        ("model", components.get("model")),
        *((f"param {name}", value) for name, value in components.get("params", {}).items()),
        ("created", local_time(entry.created_at)),
        ("expires", local_time(entry.expires_at) if entry.expires_at else "never"),
        ("hits", entry.hits),
        ("last hit", local_time(entry.last_hit_at)),
        ("original cost", money(entry.cost_usd)),
    ]
    print_table(["field", "value"], fields)
    for message in components.get("messages", []):
        print_table([f"[{message.get('role')}]"], [[message.get("content")]])
    print_table(["[cached answer]"], [[entry.response.get("text", "")]])


@cache_app.command("rm")
def cache_rm(key: Annotated[str, typer.Argument(help="The key or its first characters.")]) -> None:
    """Delete one entry."""
    entry = _entry(key)
    engine().store.cache.delete(entry.key)
    say(f"deleted cache entry {entry.key[:12]}")


@cache_app.command("clear")
def cache_clear(
    expired: Annotated[bool, typer.Option("--expired", help="Only expired entries.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every entry (or only the expired ones)."""
    if not (expired or yes) and sys.stdin.isatty():
        typer.confirm("Delete every cached answer?", abort=True)
    now = iso(utc_now())
    deleted = engine().store.cache.clear(expired_before=now if expired else None)
    say(f"deleted {deleted} cache entr{'y' if deleted == 1 else 'ies'}")


@cache_app.command("stats")
def cache_stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Entries, size, hit rate, tokens and money saved."""
    stats = engine().store.cache.stats(iso(utc_now()))
    if as_json:
        print_json({**stats.__dict__, "hit_rate": stats.hit_rate})
        return
    rate = "-" if stats.hit_rate is None else f"{stats.hit_rate:.1%}"
    print_table(
        ["entries", "expired", "size", "lookups", "hits", "hit rate", "tokens saved", "saved"],
        [
            [
                stats.entries,
                stats.expired,
                _size(stats.size_bytes),
                stats.lookups,
                stats.hits,
                rate,
                stats.tokens_saved,
                money(stats.cost_saved_usd),
            ]
        ],
    )


def _entry(key: str) -> CacheEntry:
    cache = engine().store.cache
    if len(key) < 6:
        raise BadInput(f"cache key '{key}': give at least 6 characters")
    entry = cache.get(key)
    if entry is None:
        many = cache.matches(key) > 1
        raise BadInput(f"cache key '{key}': {'matches several entries' if many else 'not found'}")
    return entry


def _size(size: int) -> str:
    return f"{size / 1024:.1f} KiB" if size >= 1024 else f"{size} B"


def _row(entry: CacheEntry) -> list[object]:
    return [
        entry.key[:12],
        entry.model,
        entry.hits,
        local_time(entry.created_at),
        _size(entry.size_bytes),
        entry.prompt_tokens + entry.completion_tokens,
        excerpt(entry.prompt_excerpt, 40),
    ]
