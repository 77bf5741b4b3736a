"""A chat request and its parameters, validated before anything is sent."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import BadInput
from core.validation import describe_errors

Role = Literal["system", "developer", "user", "assistant", "tool"]

# Parameters the request has as fields: `extra` may not smuggle in another value for them.
_RESERVED = {"model", "messages", "stream", "stream_options", "n"}


class Message(BaseModel):
    """One chat message, as the OpenAI chat API takes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    def as_api(self) -> dict[str, Any]:
        """The message as the API expects it (unset fields left out)."""
        return self.model_dump(exclude_none=True)


class RequestParams(BaseModel):
    """Sampling and output parameters of a chat request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, gt=0)
    seed: int | None = None
    stop: list[str] | None = Field(default=None, max_length=4)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    """Pass-through parameters the server understands (sent in the request body)."""

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("response_format")
    @classmethod
    def _known_format(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        kind = value.get("type")
        if kind not in ("text", "json_object", "json_schema"):
            raise ValueError("type must be text, json_object or json_schema")
        if kind == "json_schema" and not isinstance(value.get("json_schema"), dict):
            raise ValueError("type json_schema needs a json_schema object")
        return value

    @field_validator("tools")
    @classmethod
    def _function_tools(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for index, tool in enumerate(value or []):
            function = tool.get("function")
            if tool.get("type") != "function" or not isinstance(function, dict):
                raise ValueError(
                    f"tool {index} must be {{'type': 'function', 'function': {{...}}}}"
                )
            if not function.get("name"):
                raise ValueError(f"tool {index} has no function name")
        return value

    @field_validator("extra")
    @classmethod
    def _no_reserved(cls, value: dict[str, Any]) -> dict[str, Any]:
        clash = sorted(_RESERVED.intersection(value) | set(cls.model_fields).intersection(value))
        if clash:
            raise ValueError(f"{', '.join(clash)} cannot be passed as an extra parameter")
        return value

    @property
    def deterministic(self) -> bool:
        """True when the same request should give the same answer (temperature 0 or a seed)."""
        return self.temperature == 0 or self.seed is not None

    def as_logged(self) -> dict[str, Any]:
        """The parameters that were set, as the request log keeps them."""
        return self.model_dump(exclude_none=True, exclude={} if self.extra else {"extra"})

    def as_api(self) -> dict[str, Any]:
        """Keyword arguments for `chat.completions.create` (unset ones left out)."""
        body = self.model_dump(exclude_none=True, exclude={"extra"})
        if self.extra:
            body["extra_body"] = dict(self.extra)
        return body


class ChatRequest(BaseModel):
    """A whole chat request: the model, its messages and its parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    params: RequestParams = Field(default_factory=RequestParams)

    def api_messages(self) -> list[dict[str, Any]]:
        """The messages as plain dicts for the API, the cache key and the log."""
        return [message.as_api() for message in self.messages]


def build_request(model: str, messages: list[dict[str, Any]], **params: Any) -> ChatRequest:
    """Validate a request from plain values.

    Raises:
        BadInput: one line naming the parameter and the rule it breaks.
    """
    try:
        return ChatRequest(
            model=model,
            messages=[Message.model_validate(message) for message in messages],
            params=RequestParams.model_validate(
                {key: value for key, value in params.items() if value is not None}
            ),
        )
    except ValidationError as error:
        raise BadInput(describe_errors(error)) from None
