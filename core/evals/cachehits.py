"""Many requests of one run answered from the cache at once, and the log rows of the hits.

`ChatClient.acomplete` answers a request from the cache through a `ChatCall`: its key, its
log row and its result, each made for that one request. The requests of a run's cache pass
differ only in their messages, so here what they share is worked out once (the profile, the
key's other parts, the parameters' JSON, the clock) and a request costs its messages' key, its
entry's answer and its row. What is logged and returned for a hit is what a lone cache hit
through `acomplete` logs and returns (tests/unit/evals/test_runner_cache_pass.py compares
the rows column by column). A hit is one `HitCall` (a tuple): the pass scores it
(`CaseWork.scored_hit`) and logs it as it is, with no `ChatResult` made for it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.answer import StoredAnswer
from core.cache_key import RequestKeys
from core.clock import iso
from core.params import RequestParams
from storage.cache import CachedResponse
from storage.calls import HitBatch, HitCall

if TYPE_CHECKING:
    from core.client import ChatClient

CaseMessages = tuple[str, list[dict[str, Any]]]
"""A case's id and its request's API messages (`CaseWork.case_messages`)."""


@dataclass(frozen=True)
class CacheLookup:
    """What one lookup found: the log rows of the hits, to be recorded (until they are,
    nothing of them is in the database), and the request each of them answers. A request
    that is not among `answered` is not in the cache: it is to be sent."""

    hits: HitBatch
    answered: list[int]
    """The position, among the requests looked up, of the request `hits.calls[i]` answers."""


class RunCache:
    """Reads the cache for requests that share a profile, model and parameters, read the
    cache and are not streamed: the first repeat of a run's cases
    (`CaseWork.answered_through_cache` says which). One serves a whole run: a case's key is
    computed once (the estimate looks the cases up before the cache pass answers them)."""

    def __init__(self, client: ChatClient, profile: str, model: str, params: RequestParams) -> None:
        self.client = client
        self.profile, chosen = client.settings.resolve_profile(profile, client.environ)
        self.endpoint = chosen.endpoint  # as logged: credentials in the URL masked
        self.model = model
        self.logged_params = params.as_logged()
        self.keys = RequestKeys(chosen.base_url, model, params)  # as `ChatCall` keys a request
        self._known: dict[str, str] = {}

    def key(self, case_id: str, messages: list[dict[str, Any]]) -> str:
        """The cache key of the request of case `case_id`, whose API messages are
        `messages`: computed the first time only (a case's messages are the same whenever a
        run asks for it), then `messages` are not read."""
        known = self._known.get(case_id)
        if known is None:
            known = self._known[case_id] = self.keys.key(messages)
        return known

    def in_cache(self, cases: Sequence[CaseMessages]) -> list[bool]:
        """Whether each case's request has a live entry now (what `look_up` would answer).
        Reads only the keys."""
        keys = [self.key(*case) for case in cases]
        live = self.client.store.cache.live_keys(keys, iso(self.client.clock()))
        return [key in live for key in keys]

    def live(self, requests: Sequence[list[dict[str, Any]]]) -> list[bool]:
        """Whether each request (its API messages; its key not remembered, unlike a case's)
        has a live entry now. Reads only the keys."""
        keys = [self.keys.key(messages) for messages in requests]
        live = self.client.store.cache.live_keys(keys, iso(self.client.clock()))
        return [key in live for key in keys]

    def look_up(self, cases: Sequence[CaseMessages]) -> CacheLookup:
        """Answer each case's request from the cache if a live entry has it. Reads only; one
        query per 500 distinct requests."""
        began = time.perf_counter()
        now = iso(self.client.clock())
        keys = [self.key(*case) for case in cases]
        found = self.client.store.cache.live_responses(keys, now)
        latency = (time.perf_counter() - began) * 1000 / max(len(keys), 1)
        answered: list[int] = []
        calls: list[HitCall] = []
        for index, ((_, messages), key) in enumerate(zip(cases, keys, strict=True)):
            cached = found.get(key)
            if cached is not None:
                answered.append(index)
                calls.append(_hit_call(messages, key, cached))
        hits = HitBatch(
            at=now,
            profile=self.profile,
            endpoint=self.endpoint,
            model=self.model,
            params=self.logged_params,
            latency_ms=latency,
            calls=calls,
        )
        return CacheLookup(hits, answered)


def _hit_call(messages: list[dict[str, Any]], key: str, cached: CachedResponse) -> HitCall:
    """A hit's own log values, from its entry's answer (`ChatCall` reads it the same way)."""
    stored = StoredAnswer.read(cached.response)
    return HitCall(
        messages=messages,
        request_key=key,
        response_text=stored.text,
        response_model=stored.model,
        finish_reason=stored.finish_reason,
        tool_calls=stored.tool_calls,
        usage=stored.usage,
        cost_saved_usd=cached.cost_usd,
    )
