"""Request parameters are validated with messages a user understands."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import BadInput
from core.params import build_request

USER = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"temperature": 2.5}, "temperature: must be at most 2"),
        ({"temperature": -0.1}, "temperature: must be at least 0"),
        ({"top_p": 1.5}, "top_p: must be at most 1"),
        ({"max_tokens": 0}, "max_tokens: must be greater than 0"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop: may hold at most 4 items"),
        ({"response_format": {"type": "yaml"}}, "response_format: type must be text, json_object"),
        ({"tools": [{"type": "function", "function": {}}]}, "tools: tool 0 has no function name"),
        ({"extra": {"model": "x"}}, "extra: model cannot be passed as an extra parameter"),
        ({"extra": {"temperature": 1}}, "extra: temperature cannot be passed"),
        ({"logprobz": True}, "logprobz: is not a known setting"),
    ],
)
def test_invalid_parameters_are_refused_with_the_rule(params: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=message.replace("(", r"\(")):
        build_request("gpt-4o-mini", USER, **params)


def test_messages_are_validated() -> None:
    with pytest.raises(BadInput, match="role"):
        build_request("m", [{"role": "wizard", "content": "x"}])
    with pytest.raises(BadInput, match="messages: "):
        build_request("m", [])


def test_parameters_become_sdk_arguments() -> None:
    request = build_request("m", USER, temperature=0, stop="END", extra={"top_k": 5})
    assert request.params.as_api() == {
        "temperature": 0.0,
        "stop": ["END"],
        "extra_body": {"top_k": 5},
    }
    assert request.params.deterministic
    assert not build_request("m", USER, temperature=0.2).params.deterministic
    assert build_request("m", USER, temperature=0.2, seed=1).params.deterministic
