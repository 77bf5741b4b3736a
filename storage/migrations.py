"""Numbered schema migrations. Never edit one that has shipped: add the next."""

from __future__ import annotations

import sqlite_utils

migrations = sqlite_utils.Migrations("tunedeck")


@migrations()
def m001_calls(db: sqlite_utils.Database) -> None:
    """The request log: one row per call to a model, whatever its outcome."""
    db["calls"].create(  # type: ignore[union-attr]
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "profile": str,
            "endpoint": str,
            "model": str,
            "response_model": str,
            "stream": int,
            "params_json": str,
            "messages_json": str,
            "prompt_text": str,
            "request_key": str,
            "cache_eligible": int,
            "cache_hit": int,
            "status": str,
            "response_text": str,
            "finish_reason": str,
            "tool_calls_json": str,
            "incomplete": int,
            "prompt_tokens": int,
            "completion_tokens": int,
            "cached_tokens": int,
            "reasoning_tokens": int,
            "usage_estimated": int,
            "cost_usd": float,
            "cost_saved_usd": float,
            "ttft_ms": float,
            "latency_ms": float,
            "retries": int,
            "error_type": str,
            "error_message": str,
        },
        pk="id",
        not_null={"started_at", "profile", "endpoint", "model", "status"},
        defaults={"cache_hit": 0, "incomplete": 0, "retries": 0, "usage_estimated": 0},
    )
    calls = db["calls"]
    calls.create_index(["started_at"])  # type: ignore[union-attr]
    calls.create_index(["model", "started_at"])  # type: ignore[union-attr]
    calls.create_index(["request_key"])  # type: ignore[union-attr]
    calls.create_index(  # type: ignore[union-attr]
        [
            "started_at",
            "model",
            "profile",
            "status",
            "cache_hit",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "cost_saved_usd",
        ],
        index_name="idx_calls_usage",
    )
    calls.enable_fts(  # type: ignore[union-attr]
        ["prompt_text", "response_text"], create_triggers=True, tokenize="porter"
    )


@migrations()
def m002_cache_entries(db: sqlite_utils.Database) -> None:
    """The response cache, with the components of each key kept for inspection."""
    db["cache_entries"].create(  # type: ignore[union-attr]
        {
            "key": str,
            "endpoint": str,
            "model": str,
            "components_json": str,
            "prompt_excerpt": str,
            "response_json": str,
            "prompt_tokens": int,
            "completion_tokens": int,
            "cost_usd": float,
            "size_bytes": int,
            "created_at": str,
            "expires_at": str,
            "last_hit_at": str,
            "hits": int,
            "source_call_id": int,
        },
        pk="key",
        not_null={"endpoint", "model", "components_json", "response_json", "created_at"},
        defaults={"hits": 0},
        foreign_keys=[("source_call_id", "calls", "id")],
    )
    entries = db["cache_entries"]
    entries.create_index(["created_at"])  # type: ignore[union-attr]
    entries.create_index(["expires_at"])  # type: ignore[union-attr]
    entries.create_index(["model"])  # type: ignore[union-attr]
