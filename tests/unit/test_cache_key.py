"""The cache key covers the whole request: equal requests match, any change misses."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.cache_key import RequestKeys, cache_key, key_components
from core.params import ChatRequest, Message, RequestParams

ENDPOINT = "http://127.0.0.1:8000/v1"

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=5))
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
messages = st.lists(
    st.builds(
        Message,
        role=st.sampled_from(["system", "user", "assistant"]),
        content=st.text(max_size=20),
        name=st.none() | st.text(min_size=1, max_size=5),
    ),
    min_size=1,
    max_size=4,
)
tools = st.none() | st.lists(
    st.builds(
        lambda name, props: {"type": "function", "function": {"name": name, "parameters": props}},
        st.text(min_size=1, max_size=6),
        st.dictionaries(st.text(max_size=4), json_leaf, max_size=3),
    ),
    min_size=1,
    max_size=2,
)
params = st.builds(
    RequestParams,
    temperature=st.none() | st.floats(0, 2),
    top_p=st.none() | st.floats(0, 1),
    max_tokens=st.none() | st.integers(1, 10_000),
    seed=st.none() | st.integers(-(2**31), 2**31),
    stop=st.none() | st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=4),
    presence_penalty=st.none() | st.floats(-2, 2),
    frequency_penalty=st.none() | st.floats(-2, 2),
    response_format=st.none() | st.sampled_from([{"type": "text"}, {"type": "json_object"}]),
    tools=tools,
    tool_choice=st.none() | st.sampled_from(["auto", "none", "required"]),
    extra=st.dictionaries(
        st.sampled_from(["top_k", "min_p", "repetition_penalty", "x"]), json_value, max_size=3
    ),
)
requests = st.builds(
    ChatRequest, model=st.text(min_size=1, max_size=10), messages=messages, params=params
)
endpoints = st.sampled_from([ENDPOINT, "https://api.openai.com/v1", "http://localhost:11434/v1"])


def _louder_first(messages: list[Message]) -> list[Message]:
    first = messages[0].model_copy(update={"content": (messages[0].content or "") + "!"})
    return [first, *messages[1:]]


# One mutation per field of the request: each must change the key.
MUTATIONS: dict[str, Any] = {
    "endpoint": None,
    "model": lambda r: r.model_copy(update={"model": r.model + "x"}),
    "messages": lambda r: r.model_copy(
        update={"messages": [*r.messages, Message(role="user", content="more")]}
    ),
    "message content": lambda r: r.model_copy(update={"messages": _louder_first(r.messages)}),
}
for field, new in {
    "temperature": lambda v: 1.5 if v != 1.5 else 0.5,
    "top_p": lambda v: 0.5 if v != 0.5 else 0.25,
    "max_tokens": lambda v: (v or 0) + 1,
    "seed": lambda v: (v or 0) + 1,
    "stop": lambda v: ["<stop>"] if v != ["<stop>"] else ["<end>"],
    "presence_penalty": lambda v: 1.0 if v != 1.0 else -1.0,
    "frequency_penalty": lambda v: 1.0 if v != 1.0 else -1.0,
    "response_format": lambda v: (
        {"type": "json_object"} if v != {"type": "json_object"} else {"type": "text"}
    ),
    "tools": lambda v: [{"type": "function", "function": {"name": "other_tool"}}],
    "tool_choice": lambda v: "required" if v != "required" else "auto",
    "extra": lambda v: {**v, "tunedeck_probe": len(v)},
}.items():
    MUTATIONS[field] = (
        lambda f, n: (
            lambda r: r.model_copy(
                update={"params": r.params.model_copy(update={f: n(getattr(r.params, f))})}
            )
        )
    )(field, new)


def reorder(value: Any) -> Any:
    """The same value with every dict's keys in reverse order."""
    if isinstance(value, dict):
        return {key: reorder(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reorder(item) for item in value]
    return value


@settings(max_examples=150, deadline=None)
@given(requests, endpoints)
def test_equal_requests_give_equal_keys_whatever_the_dict_order(
    request: ChatRequest, endpoint: str
) -> None:
    shuffled = ChatRequest.model_validate(reorder(request.model_dump()))
    assert cache_key(endpoint, shuffled) == cache_key(endpoint, request)
    assert cache_key(endpoint + "/", request) == cache_key(endpoint, request)


@settings(max_examples=60, deadline=None)
@given(requests, endpoints, st.sampled_from(sorted(MUTATIONS)))
def test_changing_any_one_field_changes_the_key(
    request: ChatRequest, endpoint: str, field: str
) -> None:
    before = cache_key(endpoint, request)
    if field == "endpoint":
        assert cache_key(endpoint.replace("/v1", "/v2"), request) != before
        return
    changed = MUTATIONS[field](request)
    assert changed != request
    assert cache_key(endpoint, changed) != before


def test_every_parameter_is_covered_by_a_mutation() -> None:
    assert set(RequestParams.model_fields) <= set(MUTATIONS)


def test_components_show_what_went_into_the_key() -> None:
    request = ChatRequest(
        model="m",
        messages=[Message(role="user", content="hi")],
        params=RequestParams(temperature=0, extra={"top_k": 3}),
    )
    parts = key_components(ENDPOINT, request)
    assert parts["endpoint"] == ENDPOINT and parts["model"] == "m"
    assert parts["messages"] == [{"role": "user", "content": "hi"}]
    assert parts["params"] == {"temperature": 0.0, "extra": {"top_k": 3}}


@settings(max_examples=150, deadline=None)
@given(requests, endpoints)
def test_a_key_is_the_sha256_of_the_components_canonical_json_whichever_way_it_is_made(
    request: ChatRequest, endpoint: str
) -> None:
    # The definition every cache entry was keyed by: a key must never change between versions.
    text = json.dumps(
        key_components(endpoint, request),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    defined = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert cache_key(endpoint, request) == defined
    keys = RequestKeys(endpoint, request.model, request.params)  # once for many requests
    assert keys.key(request.api_messages()) == defined
