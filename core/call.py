"""One call's life: cache lookup, log row, answer assembly, pricing, cache fill.

The sync and async clients share this: only sending differs between them.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from decimal import Decimal
from typing import Any

from core.answer import Answer, StoredAnswer
from core.cache_key import cache_key, key_components
from core.clock import Clock, iso, iso_after
from core.errors import RequestFailed
from core.failures import BadResponse, describe_failure
from core.params import ChatRequest, RequestParams
from core.prices import price_of
from core.results import CallOptions, ChatResult
from core.settings import Profile, Settings
from core.tokens import count_messages, count_text
from storage.calls import insert_finished, insert_start, write_outcome
from storage.records import CacheEntry, CallOutcome, CallStart, Usage
from storage.store import Store

PARTIAL_SAVE_SECONDS = 0.5
_FREE = Decimal(0)
Write = Callable[[sqlite3.Connection], None]
"""A write of the log (and cache), made in the caller's transaction."""
_EXCERPT = 160
_log = logging.getLogger("tunedeck.call")


def cache_eligible(settings: Settings, options: CallOptions, params: RequestParams) -> bool:
    """Whether a request's answer goes to the cache (and a hit of it may answer it): the
    cache is on, the call does not turn it off, and the request is deterministic or
    non-deterministic answers are cached too."""
    if not settings.cache.enabled or options.cache == "off":
        return False
    return params.deterministic or options.cache_nondeterministic or settings.cache.nondeterministic


def reads_cache(settings: Settings, options: CallOptions, params: RequestParams) -> bool:
    """Whether a request is answered from the cache when a live entry has its key (rather
    than sent, its answer then cached: `options.cache == "refresh"`)."""
    return options.cache == "use" and cache_eligible(settings, options, params)


class ChatCall:
    """Bookkeeping of a single request, from cache lookup to the finished log row."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        clock: Clock,
        profile_name: str,
        profile: Profile,
        secrets: list[str],
        request: ChatRequest,
        options: CallOptions,
        saver: Executor | None = None,
    ) -> None:
        """`saver` runs the partial saves of a stream off the caller's thread when given."""
        self.store, self.clock, self.settings = store, clock, settings
        self.profile_name, self.profile, self.secrets = profile_name, profile, secrets
        self.request, self.options = request, options
        self.key = cache_key(profile.base_url, request)
        self.eligible = cache_eligible(settings, options, request.params)
        self.call_id = 0
        self.attempts = 0
        self.answer = Answer(options.on_text)
        self._usage: Usage | None = None  # the answer's, or estimated when it has none
        self._started = time.perf_counter()
        self._last_save = self._started
        self._saver = saver
        self._saving: Future[None] | None = None

    # -- before sending ---------------------------------------------------------------------

    def from_cache(self) -> ChatResult | None:
        """The cached answer, logged as a cache hit (its finished row, inserted at once);
        None when the call must be sent."""
        if not reads_cache(self.settings, self.options, self.request.params):
            return None
        entry = self.store.cache.lookup(self.key, iso(self.clock()))
        if entry is None:
            return None
        saved = self._take_entry(entry)
        start = self._call_start()
        usage = self._usage or Usage()
        latency = (time.perf_counter() - self._started) * 1000
        outcome = self._outcome(
            status="ok", usage=usage, cost=_FREE, saved=saved, cache_hit=True, latency=latency
        )

        def write(conn: sqlite3.Connection) -> None:
            self.call_id = insert_finished(conn, start, outcome)

        _write_now(self.store, write)
        return self._ok_result(usage, _FREE, saved, True, latency)

    def _take_entry(self, entry: CacheEntry) -> Decimal | None:
        """Take a cached answer as this call's; returns the cost it saves (None: unpriced)."""
        self.answer.take_cached(StoredAnswer.read(entry.response))
        self._usage = self.answer.usage
        return None if entry.cost_usd is None else Decimal(str(entry.cost_usd))

    def begin(self, *, start_timer: bool = True) -> None:
        """Write the log row (status `pending`) just before the request is sent."""
        _write_now(self.store, self.begin_write(start_timer=start_timer))

    def begin_write(self, *, start_timer: bool = True) -> Write:
        """`begin`'s write, for the caller to make (it sets `call_id` when made)."""
        if start_timer:
            self._started = time.perf_counter()
        start = self._call_start()

        def write(conn: sqlite3.Connection) -> None:
            self.call_id = insert_start(conn, start)

        return write

    def _call_start(self) -> CallStart:
        """The log row's start, stamped now."""
        return CallStart(
            started_at=iso(self.clock()),
            profile=self.profile_name,
            endpoint=self.profile.endpoint,
            model=self.request.model,
            stream=self.options.stream,
            params=self.request.params.as_logged(),
            messages=self.request.api_messages(),
            request_key=self.key,
            cache_eligible=self.eligible,
        )

    def request_body(self) -> dict[str, Any]:
        """The request's JSON body, as `chat.completions.create` would send it (its
        `extra_body` merged in, over the rest)."""
        params = self.request.params.as_api()
        extra = params.pop("extra_body", {})
        body: dict[str, Any] = {
            "model": self.request.model,
            "messages": self.request.api_messages(),
            **params,
        }
        if self.options.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return {**body, **extra}

    # -- while receiving --------------------------------------------------------------------

    def count_attempt(self) -> None:
        """Called by the HTTP client for each request it sends (the first and each retry)."""
        self.attempts += 1

    def take_completion(self, completion: dict[str, Any]) -> None:
        """Read a whole (non-streamed) chat completion: the JSON the API answers."""
        self.answer.take_completion(completion)
        self._usage = self.answer.usage

    def take_chunk(self, chunk: Any) -> None:
        """Read one streamed chunk; the text so far is saved to the log now and then."""
        self.answer.take_chunk(chunk)
        self._usage = self.answer.usage
        now = time.perf_counter()
        if now - self._last_save >= PARTIAL_SAVE_SECONDS:
            self._last_save = now
            self._save_partial()

    def _save_partial(self) -> None:
        """Keep the text so far in the log; on the saver's thread when there is one.

        A save still running is not queued behind: the next one, half a second later, has
        the newer text.
        """
        if self._saver is None:
            self.store.calls.save_partial(self.call_id, self.answer.text)
        elif self._saving is None or self._saving.done():
            text = self.answer.text
            self._saving = self._saver.submit(self.store.calls.save_partial, self.call_id, text)

    def _partial_save_done(self) -> None:
        """Wait for a partial save in flight: it must not land after the final row."""
        if self._saving is None:
            return
        error = self._saving.exception()
        if error is not None:  # the final write follows, with the whole answer
            _log.warning("call %s: saving the partial answer failed: %s", self.call_id, error)
        self._saving = None

    # -- after ------------------------------------------------------------------------------

    def succeed(self) -> ChatResult:
        """Log the finished call, fill the cache, and return the result."""
        result, write = self.success()
        _write_now(self.store, write)
        return result

    def success(self) -> tuple[ChatResult, Write]:
        """`succeed`'s result and its write (the log row and the cache entry), for the
        caller to make: the async client commits it with other calls' (group commit)."""
        if self.options.stream and self.answer.finish is None:
            raise BadResponse("the stream ended before the answer was finished")
        usage = self._usage or self._estimated_usage()
        self._usage = usage
        cost = price_of(self.request.model, usage, self.profile)
        # The log row and the cache entry in one transaction: one commit less per answer.
        entry = self._cache_entry(usage, cost) if self.eligible else None
        latency, write = self._outcome_write(status="ok", usage=usage, cost=cost, cache_entry=entry)
        return self._ok_result(usage, cost, None, False, latency), write

    def fail(self, error: BaseException) -> RequestFailed:
        """Log a failed call (keeping any partial answer); return the error to raise."""
        kind, message = describe_failure(error, self.profile.endpoint, self.secrets)
        text = self.answer.text
        answered = bool(text or self.answer.tool_calls)
        if not isinstance(error, Exception):  # cancelled (escape, Ctrl-C, its run stopping)
            status, message = "cancelled", "cancelled before the answer was complete"
        else:
            status = "incomplete" if answered else "error"
        usage = self._usage or (self._estimated_usage() if answered else Usage())
        self._log_outcome(
            status=status,
            usage=usage,
            cost=price_of(self.request.model, usage, self.profile) if text else Decimal(0),
            error_type=kind,
            error_message=message,
        )
        return RequestFailed(message, call_id=self.call_id, error_type=kind, retries=self.retries)

    @property
    def retries(self) -> int:
        """Retries the SDK made (requests sent beyond the first)."""
        return max(self.attempts - 1, 0)

    def _ok_result(
        self,
        usage: Usage,
        cost: Decimal | None,
        saved: Decimal | None,
        cache_hit: bool,
        latency: float,
    ) -> ChatResult:
        return ChatResult(
            call_id=self.call_id,
            profile=self.profile_name,
            model=self.request.model,
            text=self.answer.text,
            finish_reason=self.answer.finish,
            tool_calls=self.answer.tool_list(),
            usage=usage,
            cost_usd=cost,
            cost_saved_usd=saved,
            ttft_ms=self._ttft_ms(),
            latency_ms=latency,
            cache_hit=cache_hit,
            cache_key=self.key,
            retries=self.retries,
        )

    def _log_outcome(self, **how: Any) -> None:
        """Write how the call ended now (see `_outcome_write`)."""
        _, write = self._outcome_write(**how)
        _write_now(self.store, write)

    def _outcome_write(
        self,
        *,
        status: str,
        usage: Usage,
        cost: Decimal | None,
        saved: Decimal | None = None,
        cache_hit: bool = False,
        error_type: str | None = None,
        error_message: str | None = None,
        cache_entry: CacheEntry | None = None,
    ) -> tuple[float, Write]:
        """The call's latency, and the write of how it ended (and of `cache_entry`, in the
        same transaction)."""
        latency = (time.perf_counter() - self._started) * 1000
        self._partial_save_done()
        if not self.call_id:
            self.begin(start_timer=False)
        outcome = self._outcome(
            status=status,
            usage=usage,
            cost=cost,
            saved=saved,
            cache_hit=cache_hit,
            latency=latency,
            error_type=error_type,
            error_message=error_message,
        )

        def write(conn: sqlite3.Connection) -> None:
            write_outcome(conn, self.call_id, outcome, cache_entry)

        return latency, write

    def _outcome(
        self,
        *,
        status: str,
        usage: Usage,
        cost: Decimal | None,
        saved: Decimal | None,
        cache_hit: bool,
        latency: float,
        error_type: str | None = None,
        error_message: str | None = None,
    ) -> CallOutcome:
        """The log row's outcome, stamped now."""
        return CallOutcome(
            finished_at=iso(self.clock()),
            status=status,
            response_text=self.answer.text,
            response_model=self.answer.model,
            finish_reason=self.answer.finish,
            tool_calls=self.answer.tool_list(),
            usage=usage,
            cost_usd=None if cost is None else float(cost),
            cost_saved_usd=None if saved is None else float(saved),
            ttft_ms=self._ttft_ms(),
            latency_ms=latency,
            cache_hit=cache_hit,
            retries=self.retries,
            error_type=error_type,
            error_message=error_message,
        )

    def _cache_entry(self, usage: Usage, cost: Decimal | None) -> CacheEntry:
        """The cache entry of this call's answer (written with its finished log row)."""
        now = self.clock()
        text = self.answer.text
        stored = StoredAnswer(
            text, self.answer.finish, self.answer.model, self.answer.tool_list(), usage
        )
        # Shown in the cache's views: the endpoint with its credentials masked (the key was
        # made from the URL itself, so two credentials never share an entry).
        components = key_components(self.profile.endpoint, self.request)
        return CacheEntry(
            key=self.key,
            endpoint=self.profile.endpoint,
            model=self.request.model,
            components=components,
            response=stored.as_response(),
            prompt_excerpt=_excerpt(self.request),
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=None if cost is None else float(cost),
            size_bytes=len(text.encode("utf-8")),
            created_at=iso(now),
            expires_at=iso_after(now, self.settings.cache.ttl_seconds),
            source_call_id=self.call_id,
        )

    def _ttft_ms(self) -> float | None:
        if self.answer.first_token_at is None:
            return None
        return (self.answer.first_token_at - self._started) * 1000

    def _estimated_usage(self) -> Usage:
        params = self.request.params
        prompt = count_messages(self.request.api_messages(), self.request.model, params.tools)
        completion = count_text(self.answer.text, self.request.model)
        return Usage(
            prompt_tokens=prompt.tokens, completion_tokens=completion.tokens, estimated=True
        )


def _excerpt(request: ChatRequest) -> str:
    for message in reversed(request.messages):
        if message.role == "user" and isinstance(message.content, str):
            return " ".join(message.content.split())[:_EXCERPT]
    return ""


def _write_now(store: Store, write: Write) -> None:
    """Make one write in a transaction of its own."""
    with store.write() as db:
        write(db.conn)
