"""A deterministic database for pane tests and snapshots: calls over ten days, cache entries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from core.clock import iso
from storage.records import CacheEntry, CallOutcome, CallStart, Usage
from storage.store import Store

MODELS = [("openai", "gpt-4o-mini"), ("openai", "gpt-4.1"), ("vllm", "llama-3.1-8b")]
PROMPTS = [
    "Summarise the attached release notes in three bullet points",
    "Translate 'good morning' into French",
    "Write a haiku about gradient descent",
    "Classify the sentiment: the update broke my workflow",
    "Extract the invoice number from: INV-2026-0042 due Friday",
    "Explain LoRA rank in one sentence",
]


def seed_database(store: Store, now: datetime, days: int = 10, per_day: int = 4) -> None:
    """Fill the log with `days * per_day` calls before `now`, and one cache entry per prompt."""
    number = 0
    for day in range(days):
        for slot in range(per_day):
            number += 1
            profile, model = MODELS[number % len(MODELS)]
            prompt = PROMPTS[number % len(PROMPTS)]
            started = now - timedelta(days=day, hours=slot * 2 + 1)
            call_id = store.calls.start(_start(profile, model, prompt, started))
            store.calls.finish(call_id, _outcome(number, model, started))
    for index, prompt in enumerate(PROMPTS):
        store.cache.put(_entry(index, prompt, now - timedelta(hours=index * 5)))


def _start(profile: str, model: str, prompt: str, started: datetime) -> CallStart:
    return CallStart(
        started_at=iso(started),
        profile=profile,
        endpoint="http://127.0.0.1:8000/v1" if profile == "vllm" else "https://api.openai.com/v1",
        model=model,
        stream=True,
        params={"temperature": 0.0, "max_tokens": 256},
        messages=[{"role": "user", "content": prompt}],
        request_key=f"{abs(hash((model, prompt))) % 10**12:012d}",
        cache_eligible=True,
    )


def _outcome(number: int, model: str, started: datetime) -> CallOutcome:
    failed = number % 9 == 0
    hit = number % 5 == 0 and not failed
    usage = Usage(prompt_tokens=100 + number * 7, completion_tokens=40 + number * 3)
    cost = None if model.startswith("llama") else round(0.0004 * number, 6)
    return CallOutcome(
        finished_at=iso(started + timedelta(seconds=2)),
        status="error" if failed else "ok",
        response_text="" if failed else f"Answer number {number} from {model}.",
        response_model=model,
        finish_reason=None if failed else "stop",
        usage=Usage() if failed else usage,
        cost_usd=0.0 if (hit or failed) else cost,
        cost_saved_usd=cost if hit else None,
        ttft_ms=None if failed else 120.0 + number,
        latency_ms=900.0 + number * 10,
        cache_hit=hit,
        retries=2 if failed else 0,
        error_type="RateLimitError" if failed else None,
        error_message="HTTP 429 from https://api.openai.com/v1: slow down" if failed else None,
    )


def _entry(index: int, prompt: str, created: datetime) -> CacheEntry:
    model = MODELS[index % len(MODELS)][1]
    answer = f"Cached answer {index}: " + "lorem ipsum " * (index + 1)
    components = {
        "version": 1,
        "endpoint": "https://api.openai.com/v1",
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "params": {"temperature": 0.0, "extra": {}},
    }
    return CacheEntry(
        key=f"{index:02d}" + "ab" * 31,
        endpoint="https://api.openai.com/v1",
        model=model,
        components=components,
        response={"text": answer, "finish_reason": "stop", "usage": {"prompt_tokens": 50}},
        prompt_excerpt=prompt,
        prompt_tokens=50 + index,
        completion_tokens=20 + index,
        cost_usd=0.0001 * (index + 1),
        size_bytes=len(json.dumps(answer)),
        created_at=iso(created),
        expires_at=iso(created + timedelta(days=30)) if index != 5 else iso(created),
        last_hit_at=None,
        hits=index,
    )
