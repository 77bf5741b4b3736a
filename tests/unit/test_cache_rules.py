"""What reads and fills the response cache (`cache_eligible`, `reads_cache`), and how a cache
entry keeps an answer (`StoredAnswer`): one rule for a lone call and an evaluation's cache pass."""

from __future__ import annotations

import json
from itertools import product

import pytest

from core.answer import StoredAnswer
from core.call import cache_eligible, reads_cache
from core.params import RequestParams
from core.results import CacheMode, CallOptions
from core.settings import Settings
from storage.records import Usage

DETERMINISTIC = RequestParams(temperature=0)
RANDOM = RequestParams(temperature=0.7)


def settings(enabled: bool = True, nondeterministic: bool = False) -> Settings:
    return Settings.model_validate(
        {"cache": {"enabled": enabled, "nondeterministic": nondeterministic}}
    )


@pytest.mark.parametrize("mode", ["use", "refresh", "off"])
def test_a_disabled_cache_is_neither_read_nor_filled(mode: CacheMode) -> None:
    options = CallOptions(cache=mode, cache_nondeterministic=True)
    assert not cache_eligible(settings(enabled=False), options, DETERMINISTIC)
    assert not reads_cache(settings(enabled=False), options, DETERMINISTIC)


def test_off_skips_the_cache_and_refresh_fills_it_without_reading() -> None:
    on = settings()
    assert not cache_eligible(on, CallOptions(cache="off"), DETERMINISTIC)
    assert cache_eligible(on, CallOptions(cache="refresh"), DETERMINISTIC)
    assert not reads_cache(on, CallOptions(cache="refresh"), DETERMINISTIC)
    assert reads_cache(on, CallOptions(cache="use"), DETERMINISTIC)


def test_a_request_that_is_not_deterministic_is_cached_only_when_asked() -> None:
    assert not reads_cache(settings(), CallOptions(), RANDOM)
    assert reads_cache(settings(), CallOptions(cache_nondeterministic=True), RANDOM)
    assert reads_cache(settings(nondeterministic=True), CallOptions(), RANDOM)
    assert reads_cache(settings(), CallOptions(), RequestParams(temperature=0.7, seed=3))


@pytest.mark.parametrize(
    ("enabled", "nondeterministic", "mode", "params"),
    list(product([True, False], [True, False], ["use", "refresh", "off"], [DETERMINISTIC, RANDOM])),
)
def test_an_evaluations_first_repeat_reads_the_cache_as_it_always_did(
    enabled: bool, nondeterministic: bool, mode: CacheMode, params: RequestParams
) -> None:
    """A run asks repeat 0 with `cache_nondeterministic` and further repeats with the cache
    off: the cache pass's rule was `repeat == 0 and mode == "use" and enabled`."""
    chosen = settings(enabled, nondeterministic)
    first = CallOptions(cache=mode, cache_nondeterministic=True)
    later = CallOptions(cache="off", cache_nondeterministic=True)
    assert reads_cache(chosen, first, params) == (mode == "use" and enabled)
    assert not reads_cache(chosen, later, params)


def test_a_stored_answer_is_the_json_cache_entries_have_always_held() -> None:
    stored = StoredAnswer(
        text="Paris",
        finish_reason="stop",
        model="gpt-4o-mini-2024",
        tool_calls=[{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        usage=Usage(prompt_tokens=9, completion_tokens=2, cached_tokens=4, reasoning_tokens=1),
    )
    written = json.dumps(stored.as_response())
    assert written == json.dumps(
        {
            "text": "Paris",
            "finish_reason": "stop",
            "tool_calls": stored.tool_calls,
            "model": "gpt-4o-mini-2024",
            "usage": {
                "prompt_tokens": 9,
                "completion_tokens": 2,
                "cached_tokens": 4,
                "reasoning_tokens": 1,
                "estimated": False,
            },
        }
    )
    assert StoredAnswer.read(json.loads(written)) == stored


def test_a_sparse_entry_reads_as_an_empty_answer_without_tools() -> None:
    assert StoredAnswer.read({"tool_calls": []}) == StoredAnswer(
        text="", finish_reason=None, model=None, tool_calls=None, usage=Usage()
    )
