"""A whole answer is read from the API's JSON: its fields as documented, nulls left out, a
shape that has no message refused as a bad answer."""

from __future__ import annotations

from typing import Any

import pytest

from core.answer import Answer
from core.failures import BadResponse
from storage.records import Usage


def whole(message: Any, **fields: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], **fields}


def test_text_model_finish_and_usage_with_its_details() -> None:
    answer = Answer()
    usage = {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "prompt_tokens_details": {"cached_tokens": 8, "audio_tokens": None},
        "completion_tokens_details": {"reasoning_tokens": 2},
    }
    answer.take_completion(
        whole({"role": "assistant", "content": "héllo"}, model="m-1", usage=usage)
    )
    assert (answer.text, answer.model, answer.finish) == ("héllo", "m-1", "stop")
    assert answer.usage == Usage(
        prompt_tokens=12, completion_tokens=3, cached_tokens=8, reasoning_tokens=2
    )


def test_null_content_details_and_usage_read_as_nothing() -> None:
    answer = Answer()
    usage = {"prompt_tokens": None, "completion_tokens": 1, "prompt_tokens_details": None}
    answer.take_completion(whole({"role": "assistant", "content": None}, usage=usage))
    assert answer.text == "" and answer.model is None
    assert answer.usage == Usage(prompt_tokens=0, completion_tokens=1)
    unreported = Answer()
    unreported.take_completion(whole({"role": "assistant", "content": "x"}))
    assert unreported.usage is None


def test_tool_calls_keep_their_order_and_lose_their_nulls() -> None:
    calls = [
        {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
        {"id": "b", "type": "function", "function": {"name": "g", "arguments": "[]", "x": None}},
    ]
    answer = Answer()
    answer.take_completion(whole({"role": "assistant", "content": None, "tool_calls": calls}))
    assert answer.tool_list() == [
        calls[0],
        {"id": "b", "type": "function", "function": {"name": "g", "arguments": "[]"}},
    ]


@pytest.mark.parametrize(
    "completion",
    [
        {},
        {"choices": []},
        {"choices": None},
        {"choices": ["text"]},
        {"choices": [{"message": None}]},
    ],
)
def test_an_answer_without_a_message_is_a_bad_response(completion: dict[str, Any]) -> None:
    with pytest.raises(BadResponse, match="no choices in the answer"):
        Answer().take_completion(completion)


@pytest.mark.parametrize(
    "error", [{"message": "model  overloaded", "type": "server_error"}, "model overloaded"]
)
def test_an_error_in_a_200_answer_is_told_in_the_servers_words(error: Any) -> None:
    with pytest.raises(BadResponse, match=r"^the server answered an error: model overloaded$"):
        Answer().take_completion({"error": error})


def test_odd_shapes_from_lenient_servers_are_read_without_crashing() -> None:
    answer = Answer()
    usage = {"prompt_tokens": "12", "completion_tokens": 3, "prompt_tokens_details": [1]}
    parts = [
        {"type": "text", "text": "Hello, "},
        {"type": "image"},
        {"type": "text", "text": "you"},
    ]
    message = {"role": "assistant", "content": parts, "tool_calls": "not a list"}
    answer.take_completion(whole(message, usage=usage))
    assert answer.text == "Hello, you" and answer.tool_list() is None
    assert answer.usage == Usage(prompt_tokens=0, completion_tokens=3)
