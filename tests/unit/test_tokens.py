"""Token counting: offline vocabularies, cookbook-verified counts, batch equals single."""

from __future__ import annotations

import hashlib
import inspect
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tiktoken
import tiktoken.load
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiktoken_ext import openai_public

from core import tokens
from core.tokens import (
    TokenCount,
    count_messages,
    count_messages_batch,
    count_text,
    encoding_for_model,
    ensure_offline_vocabularies,
    seed_vocabularies,
    vocabulary_cache_name,
)

ROOT = Path(__file__).parents[2]
CACHE_NAMES = {
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
}
URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"

# The cookbook's example conversation ("How to count tokens with tiktoken"), with the prompt
# token counts the OpenAI API reported for it.
COOKBOOK_MESSAGES: list[dict[str, Any]] = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities "
        "for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client "
        "deliverable.",
    },
]
COOKBOOK_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA",
                    },
                    "unit": {
                        "type": "string",
                        "description": "The unit of temperature to return",
                        "enum": ["celsius", "fahrenheit"],
                    },
                },
                "required": ["location"],
            },
        },
    }
]
COOKBOOK_TOOL_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful assistant that can answer to questions about the weather.",
    },
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]


class DownloadAttempted(Exception):
    """Raised by the patched tiktoken.load.read_file: tiktoken tried the network."""


@pytest.fixture
def no_download(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any tiktoken download attempt fail loudly instead of reaching for the network."""

    def refuse(blobpath: str) -> bytes:
        raise DownloadAttempted(blobpath)

    monkeypatch.setattr(tiktoken.load, "read_file", refuse)


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty TIKTOKEN_CACHE_DIR, with the module's once-per-process state forgotten."""
    cache = tmp_path / "fresh-tiktoken"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    tokens._reset_for_tests()
    yield cache
    tokens._reset_for_tests()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def o200k(text: str) -> int:
    return len(encoding_for_model("gpt-4o")[0].encode_ordinary(text))


# --- offline vocabularies ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_cache_names_and_hashes_match_what_tiktoken_loads(name: str) -> None:
    source = inspect.getsource(getattr(openai_public, name))
    assert f'"{URL.format(name)}"' in source
    assert f'expected_hash="{tokens.VOCABULARY_SHA256[name]}"' in source
    assert vocabulary_cache_name(name) == CACHE_NAMES[name]
    assert hashlib.sha1(URL.format(name).encode()).hexdigest() == CACHE_NAMES[name]


def test_first_use_seeds_the_cache_under_tiktoken_names(fresh_cache: Path) -> None:
    assert not fresh_cache.exists()
    assert ensure_offline_vocabularies() == fresh_cache
    assert sorted(p.name for p in fresh_cache.iterdir()) == sorted(CACHE_NAMES.values())
    for name, cache_name in CACHE_NAMES.items():
        assert sha256(fresh_cache / cache_name) == tokens.VOCABULARY_SHA256[name]
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(fresh_cache)


def test_tiktoken_loads_the_seeded_vocabulary_without_downloading(
    fresh_cache: Path, no_download: None
) -> None:
    ensure_offline_vocabularies()
    ranks = tiktoken.load.load_tiktoken_bpe(
        URL.format("cl100k_base"), expected_hash=tokens.VOCABULARY_SHA256["cl100k_base"]
    )
    assert len(ranks) == 100256


def test_a_corrupt_cache_file_makes_tiktoken_download_and_we_repair_it(
    fresh_cache: Path, no_download: None
) -> None:
    url, expected = URL.format("o200k_base"), tokens.VOCABULARY_SHA256["o200k_base"]
    seed_vocabularies(fresh_cache)
    cached = fresh_cache / CACHE_NAMES["o200k_base"]
    cached.write_bytes(b"not a vocabulary\n")
    with pytest.raises(DownloadAttempted):  # tiktoken checks the hash and goes to the network
        tiktoken.load.read_file_cached(url, expected)

    assert not cached.exists()  # tiktoken deleted it before trying the download
    cached.write_bytes(b"truncated vocabulary")
    assert ensure_offline_vocabularies() == fresh_cache
    assert sha256(cached) == expected
    assert hashlib.sha256(tiktoken.load.read_file_cached(url, expected)).hexdigest() == expected
    assert not [p for p in fresh_cache.iterdir() if p.name.endswith(".tmp")]


def test_a_valid_cache_file_is_left_alone(fresh_cache: Path) -> None:
    seed_vocabularies(fresh_cache)
    cached = fresh_cache / CACHE_NAMES["cl100k_base"]
    os.utime(cached, (1_000_000, 1_000_000))
    seed_vocabularies(fresh_cache)
    assert cached.stat().st_mtime == 1_000_000


@pytest.mark.parametrize("unset", ["empty", "absent"])
def test_without_tiktoken_cache_dir_the_user_cache_dir_is_used(
    unset: str, fresh_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda app: str(tmp_path / "user" / app))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # recorded, so restored after the test
    if unset == "absent":
        monkeypatch.delenv("TIKTOKEN_CACHE_DIR")
    expected = tmp_path / "user" / "tunedeck" / "tiktoken"
    assert ensure_offline_vocabularies() == expected
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(expected)
    assert (expected / CACHE_NAMES["o200k_base"]).is_file()


def test_seeding_happens_once_even_from_many_threads(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    real_seed = tokens.seed_vocabularies

    def counting_seed(cache_dir: Path) -> None:
        calls.append(cache_dir)
        real_seed(cache_dir)

    monkeypatch.setattr(tokens, "seed_vocabularies", counting_seed)
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(ensure_offline_vocabularies()))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [fresh_cache] * 8
    assert calls == [fresh_cache]
    (fresh_cache / CACHE_NAMES["o200k_base"]).unlink()
    ensure_offline_vocabularies()  # cached: no second look at the disk
    assert calls == [fresh_cache]


def test_importing_the_module_does_not_import_tiktoken() -> None:
    code = "import sys, core.tokens; print(sorted(m for m in sys.modules if 'tiktoken' in m))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- encodings per model ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "encoding", "exact"),
    [
        ("gpt-4o-mini", "o200k_base", True),
        ("gpt-4.1", "o200k_base", True),
        ("ft:gpt-4o-mini-2024-07-18:org::id", "o200k_base", True),
        ("gpt-4", "cl100k_base", True),
        ("gpt-3.5-turbo-0301", "cl100k_base", True),
        ("llama-3.1-8b-instruct", "o200k_base", False),
        ("text-davinci-003", "o200k_base", False),  # p50k_base: not available offline
        ("davinci", "o200k_base", False),  # r50k_base
        ("gpt2", "o200k_base", False),
        ("gpt-oss-20b", "o200k_base", False),  # o200k_harmony
    ],
)
def test_encoding_for_model(model: str, encoding: str, exact: bool, no_download: None) -> None:
    enc, is_exact = encoding_for_model(model)
    assert (enc.name, is_exact) == (encoding, exact)
    assert encoding_for_model(model)[0] is enc


def test_hello_world_is_two_o200k_tokens() -> None:
    assert count_text("hello world", "gpt-4o-mini") == TokenCount(2, True, "o200k_base")


def test_unknown_model_counts_with_o200k_and_says_so() -> None:
    assert count_text("hello world", "mistral-large") == TokenCount(2, False, "o200k_base")
    count = count_messages([{"role": "user", "content": "hello world"}], "mistral-large")
    assert count == TokenCount(3 + 1 + 2 + 3, False, "o200k_base")


def test_special_token_text_is_counted_as_plain_text() -> None:
    text = "before <|endoftext|> after <|endofprompt|>"
    assert count_text(text, "gpt-4o").tokens == o200k(text) > 5
    messages = [{"role": "user", "content": "<|endoftext|>"}]
    assert count_messages(messages, "gpt-4").tokens > 3 + 1 + 1 + 3
    assert count_messages_batch([messages], "gpt-4") == [count_messages(messages, "gpt-4")]


# --- chat messages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "api_count"),
    [("gpt-4o-mini", 124), ("gpt-4o", 124), ("gpt-4", 129), ("gpt-3.5-turbo", 129)],
)
def test_cookbook_example_matches_the_api_count(model: str, api_count: int) -> None:
    enc, _ = encoding_for_model(model)
    by_hand = 3  # reply priming
    for message in COOKBOOK_MESSAGES:
        by_hand += 3 + sum(len(enc.encode_ordinary(v)) for v in message.values())
        by_hand += 1 if "name" in message else 0
    count = count_messages(COOKBOOK_MESSAGES, model)
    assert count.tokens == by_hand == api_count
    assert count.exact


def test_gpt_35_turbo_0301_has_its_own_overheads() -> None:
    assert count_messages(COOKBOOK_MESSAGES, "gpt-3.5-turbo-0301").tokens == 127
    plain = [{"role": "user", "content": "hi"}]
    named = [{"role": "user", "content": "hi", "name": "bob"}]
    name_tokens = len(encoding_for_model("gpt-4")[0].encode_ordinary("bob"))
    old, new = "gpt-3.5-turbo-0301", "gpt-3.5-turbo-0125"
    assert count_messages(plain, old).tokens == count_messages(plain, new).tokens + 1
    assert count_messages(named, old).tokens - count_messages(plain, old).tokens == name_tokens - 1


def test_a_name_costs_its_tokens_plus_one() -> None:
    plain = [{"role": "user", "content": "hi"}]
    named = [{"role": "user", "content": "hi", "name": "example_user"}]
    added = (
        count_messages(named, "gpt-4o-mini").tokens - count_messages(plain, "gpt-4o-mini").tokens
    )
    assert added == o200k("example_user") + 1


def test_content_parts_and_none_content() -> None:
    as_string = [{"role": "user", "content": "look at this"}]
    as_parts = [{"role": "user", "content": [{"type": "text", "text": "look at this"}]}]
    assert count_messages(as_parts, "gpt-4o") == count_messages(as_string, "gpt-4o")
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    with_image = [{"role": "user", "content": [{"type": "text", "text": "look at this"}, image]}]
    counted = count_messages(with_image, "gpt-4o")
    assert counted.tokens == count_messages(as_string, "gpt-4o").tokens
    assert not counted.exact
    empty = [{"role": "assistant", "content": None}]
    assert count_messages(empty, "gpt-4o") == TokenCount(
        3 + o200k("assistant") + 3, True, "o200k_base"
    )


def test_tool_calls_count_function_names_and_arguments() -> None:
    arguments = '{"location": "Paris, France", "unit": "celsius"}'
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc123",
                    "type": "function",
                    "function": {"name": "get_current_weather", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc123", "content": "18C, cloudy"},
    ]
    expected = (
        3 * 3
        + 3
        + sum(
            o200k(text)
            for text in [
                "user",
                "Weather in Paris?",
                "assistant",
                "get_current_weather",
                arguments,
                "tool",
                "call_abc123",
                "18C, cloudy",
            ]
        )
    )
    assert count_messages(messages, "gpt-4o-mini") == TokenCount(expected, True, "o200k_base")
    assert count_messages_batch([messages], "gpt-4o-mini") == [
        count_messages(messages, "gpt-4o-mini")
    ]


def test_fine_tuning_weight_is_not_text() -> None:
    plain = [{"role": "assistant", "content": "ok"}]
    weighted = [{"role": "assistant", "content": "ok", "weight": 0}]
    assert count_messages(weighted, "gpt-4o-mini") == count_messages(plain, "gpt-4o-mini")


# --- tools --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "api_count"), [("gpt-4o-mini", 101), ("gpt-4o", 101), ("gpt-4", 105)]
)
def test_cookbook_tools_example_matches_the_api_count(model: str, api_count: int) -> None:
    count = count_messages(COOKBOOK_TOOL_MESSAGES, model, tools=COOKBOOK_TOOLS)
    assert count.tokens == api_count
    assert count.exact


def test_enums_cost_three_each_plus_their_tokens_minus_three() -> None:
    without = [
        {
            "type": "function",
            "function": {
                **COOKBOOK_TOOLS[0]["function"],
                "parameters": {
                    "type": "object",
                    "properties": {
                        "location": COOKBOOK_TOOLS[0]["function"]["parameters"]["properties"][
                            "location"
                        ],
                        "unit": {
                            "type": "string",
                            "description": "The unit of temperature to return",
                        },
                    },
                },
            },
        }
    ]
    model = "gpt-4o-mini"
    with_enum = count_messages(COOKBOOK_TOOL_MESSAGES, model, tools=COOKBOOK_TOOLS).tokens
    no_enum = count_messages(COOKBOOK_TOOL_MESSAGES, model, tools=without).tokens
    assert with_enum - no_enum == -3 + (3 + o200k("celsius")) + (3 + o200k("fahrenheit"))


def test_tools_add_tokens_and_nested_schemas_are_estimates() -> None:
    model = "gpt-4o-mini"
    bare = count_messages(COOKBOOK_TOOL_MESSAGES, model)
    assert count_messages(COOKBOOK_TOOL_MESSAGES, model, tools=COOKBOOK_TOOLS).tokens > bare.tokens
    nested = [
        {
            "type": "function",
            "function": {
                "name": "book",
                "description": "Book a trip.",
                "parameters": {
                    "type": "object",
                    "properties": {"legs": {"type": "array", "items": {"type": "string"}}},
                },
            },
        }
    ]
    counted = count_messages(COOKBOOK_TOOL_MESSAGES, model, tools=nested)
    expected_tools = 7 + o200k("book:Book a trip") + 3 + 3 + o200k("legs:array:") + 12
    assert counted.tokens == bare.tokens + expected_tools
    assert not counted.exact


# --- batch --------------------------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "<|endoftext|>", "hello world", "日本語のテキスト", "\n\n  x"]),
)
parts = st.lists(
    st.one_of(
        st.fixed_dictionaries({"type": st.just("text"), "text": texts}),
        st.fixed_dictionaries(
            {"type": st.just("image_url"), "image_url": st.just({"url": "https://x/y.png"})}
        ),
    ),
    max_size=3,
)
tool_calls = st.lists(
    st.fixed_dictionaries(
        {
            "id": texts,
            "type": st.just("function"),
            "function": st.fixed_dictionaries({"name": texts, "arguments": texts}),
        }
    ),
    max_size=2,
)
messages = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["system", "developer", "user", "assistant", "tool"]),
        "content": st.one_of(texts, st.none(), parts),
    },
    optional={"name": texts, "tool_calls": tool_calls, "tool_call_id": texts, "weight": st.just(1)},
)
models = st.sampled_from(["gpt-4o-mini", "gpt-4", "gpt-3.5-turbo-0301", "some-local-model"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(st.lists(messages, max_size=6), max_size=8), model=models)
def test_batch_counts_equal_single_counts(batch: list[list[dict[str, Any]]], model: str) -> None:
    assert count_messages_batch(batch, model) == [count_messages(m, model) for m in batch]


def test_empty_batch_and_empty_conversation() -> None:
    assert count_messages_batch([], "gpt-4o") == []
    assert count_messages_batch([[]], "gpt-4o") == [TokenCount(3, True, "o200k_base")]
