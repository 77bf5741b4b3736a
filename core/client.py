"""The chat client: every call goes through the official openai SDK, cached and logged.

Retries are the SDK's own (exponential backoff with jitter, honouring Retry-After), set per
profile with `max_retries`. The HTTP client counts each request it sends so the log records
how many retries a call took.
"""

from __future__ import annotations

import contextvars
import logging
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from core.async_sdks import AsyncSdks
from core.budget_hook import BudgetHook
from core.budgets import Reservation
from core.call import ChatCall
from core.clock import Clock, utc_now
from core.errors import ConfigError
from core.params import ChatRequest
from core.results import CallOptions, ChatResult
from core.sending import apost_chat, post_chat
from core.settings import Profile, Settings
from storage.group_commit import GroupCommit
from storage.store import Store

if TYPE_CHECKING:
    from openai import AsyncOpenAI, AsyncStream, OpenAI, Stream
    from openai.types.chat import ChatCompletionChunk

_current_call: contextvars.ContextVar[ChatCall | None] = contextvars.ContextVar(
    "tunedeck_current_call", default=None
)
_log = logging.getLogger("tunedeck.client")
_NO_KEY = "unused"  # the SDK insists on a key; self-hosted servers ignore it


class ChatClient:
    """Sends chat requests to any OpenAI-compatible endpoint, sync or async.

    Every call is logged to the store whatever its outcome, and deterministic requests are
    answered from the response cache when they can be.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Clock = utc_now,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.environ = os.environ if environ is None else environ
        self._sync: dict[str, OpenAI] = {}
        self._async = AsyncSdks(self._sdk_options, _count_attempt_async)
        self._commits = GroupCommit(store)
        self._saver: ThreadPoolExecutor | None = None
        self.budget = BudgetHook(store, settings, clock)
        """Budgets: paid calls are reserved before sending; `budget.listeners` get alerts."""

    def complete(
        self, request: ChatRequest, profile: str | None = None, options: CallOptions | None = None
    ) -> ChatResult:
        """Send `request` (or answer it from the cache) and wait for the whole answer.

        Raises:
            RequestFailed: the call failed; it is logged with its error.
            ConfigError: the profile's key is missing.
            BudgetExceeded: a budget covering this paid call is used up (nothing sent or
                logged; `CallOptions.over_budget` sends it anyway).
        """
        call = self._prepare(request, profile, options or CallOptions())
        cached = call.from_cache()
        if cached is not None:
            return cached
        sdk = self.sync_sdk(call.profile_name)
        held = self._reserve_and_begin(call)
        token = _current_call.set(call)
        try:
            response = post_chat(sdk, call.request_body())
            if call.options.stream:
                for chunk in cast("Stream[ChatCompletionChunk]", response):
                    call.take_chunk(chunk)
            else:
                call.take_completion(cast("dict[str, Any]", response))
            result = call.succeed()
        except Exception as error:
            failure = call.fail(error)
            self.budget.release(held)
            raise failure from None
        except BaseException as interrupt:
            call.fail(interrupt)
            self.budget.release(held)
            raise
        finally:
            _current_call.reset(token)
        return self._settled(held, result)

    async def acomplete(
        self, request: ChatRequest, profile: str | None = None, options: CallOptions | None = None
    ) -> ChatResult:
        """`complete`, for asyncio code (the console, evaluation runs)."""
        call = self._prepare(request, profile, options or CallOptions())
        cached = call.from_cache()
        if cached is not None:
            return cached
        sdk = self.async_sdk(call.profile_name)
        held = await self._reserve_and_begin_async(call)
        token = _current_call.set(call)
        try:
            response = await apost_chat(sdk, call.request_body())
            if call.options.stream:
                async for chunk in cast("AsyncStream[ChatCompletionChunk]", response):
                    call.take_chunk(chunk)
            else:
                call.take_completion(cast("dict[str, Any]", response))
            result, write = call.success()
            await self._commits.write(write)
        except Exception as error:
            failure = call.fail(error)
            self.budget.release(held)
            raise failure from None
        except BaseException as interrupt:  # cancelled (escape in the console) or Ctrl-C
            call.fail(interrupt)
            self.budget.release(held)
            raise
        finally:
            _current_call.reset(token)
        return self._settled(held, result)

    def list_models(self, profile: str | None = None) -> list[str]:
        """Model ids the endpoint offers (`GET /models`), sorted."""
        name, _ = self.settings.resolve_profile(profile, self.environ)
        return sorted(model.id for model in self.sync_sdk(name).models.list())

    def sync_sdk(self, profile_name: str) -> OpenAI:
        """The SDK client for a profile, made once and kept."""
        if profile_name not in self._sync:
            from openai import DefaultHttpxClient, OpenAI

            options, transport = self._sdk_options(profile_name)
            http = DefaultHttpxClient(event_hooks={"request": [_count_attempt]}, **transport)
            self._sync[profile_name] = OpenAI(http_client=http, **options)
        return self._sync[profile_name]

    def async_sdk(self, profile_name: str) -> AsyncOpenAI:
        """The async SDK client for a profile in the running event loop, made once and kept
        until the loop ends (see `core.async_sdks`)."""
        return self._async.get(profile_name)

    async def aclose(self) -> None:
        """Close the async clients' connections of the running loop now, rather than at its
        end (they are made again if needed)."""
        await self._async.aclose()

    def _sdk_options(self, profile_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Keyword arguments for the SDK client and for its HTTP client."""
        profile, key = self._profile_and_key(profile_name)
        options = {
            "api_key": key or _NO_KEY,
            "base_url": profile.base_url,
            "timeout": profile.timeout,
            "max_retries": profile.max_retries,
        }
        if not profile.demo:
            return options, {}
        from core.demo import demo_transport

        return options, {"transport": demo_transport()}

    def close(self) -> None:
        """Close the HTTP connections of the sync clients (async ones close at their loop's
        end, or with `aclose`)."""
        for sdk in self._sync.values():
            sdk.close()
        self._sync.clear()
        self.budget.close()
        if self._saver is not None:
            self._saver.shutdown(wait=True)
            self._saver = None

    def _partial_saver(self) -> ThreadPoolExecutor:
        """One thread that writes streams' partial answers: SQLite stays off the event loop."""
        if self._saver is None:
            self._saver = ThreadPoolExecutor(1, thread_name_prefix="tunedeck-partial-save")
        return self._saver

    def _reserve_and_begin(self, call: ChatCall) -> Reservation | None:
        """Hold budget for a call about to be sent (or refuse it), then log its start."""
        held = self.budget.reserve(
            call.profile_name, call.profile, call.request, call.options.over_budget
        )
        try:
            call.begin()
        except BaseException:
            self.budget.release(held)
            raise
        return held

    async def _reserve_and_begin_async(self, call: ChatCall) -> Reservation | None:
        """`_reserve_and_begin`, the log row committed with other tasks' writes."""
        held = self.budget.reserve(
            call.profile_name, call.profile, call.request, call.options.over_budget
        )
        try:
            await self._commits.write(call.begin_write())
        except BaseException:
            self.budget.release(held)
            raise
        return held

    def _settled(self, held: Reservation | None, result: ChatResult) -> ChatResult:
        """Settle the call's hold with its real cost; the result carries the new alerts."""
        try:
            alerts = self.budget.settle(held, result.cost_usd)
        except Exception:  # the call is paid and logged: its answer must not be lost
            _log.exception("call %s: settling its budget reservation failed", result.call_id)
            return result
        return replace(result, alerts=tuple(alerts)) if alerts else result

    def _prepare(self, request: ChatRequest, profile: str | None, options: CallOptions) -> ChatCall:
        return self._call(*self._resolved(profile), request, options)

    def _resolved(self, profile: str | None) -> tuple[str, Profile, str | None]:
        """The profile's name, settings and key (resolved once, not once more for the key)."""
        name, chosen = self.settings.resolve_profile(profile, self.environ)
        try:
            return name, chosen, chosen.api_key(self.environ)
        except ConfigError as error:
            raise ConfigError(f"profile '{name}': {error}") from None

    def _call(
        self,
        name: str,
        chosen: Profile,
        key: str | None,
        request: ChatRequest,
        options: CallOptions,
    ) -> ChatCall:
        return ChatCall(
            settings=self.settings,
            store=self.store,
            clock=self.clock,
            profile_name=name,
            profile=chosen,
            secrets=[*([key] if key else []), *chosen.url_secrets()],
            request=request,
            options=options,
            saver=self._partial_saver() if options.stream else None,
        )

    def _profile_and_key(self, name: str) -> tuple[Profile, str | None]:
        _, profile = self.settings.resolve_profile(name, self.environ)
        try:
            return profile, profile.api_key(self.environ)
        except ConfigError as error:
            raise ConfigError(f"profile '{name}': {error}") from None


def _count_attempt(request: Any) -> None:
    call = _current_call.get()
    if call is not None:
        call.count_attempt()


async def _count_attempt_async(request: Any) -> None:
    _count_attempt(request)
