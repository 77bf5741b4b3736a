"""Chat prompt files that are templates as a whole, as promptfoo reads them.

promptfoo renders a prompt file's text before it reads it (`renderPrompt` in its
`src/evaluatorHelpers.ts`): a file that is valid JSON as written has each of its strings
rendered (tunedeck does the same: `core.evals.cases.chat_template`); one that is not, because
template tags (`{% for %}`, `{% if %}`) stand between its messages, is rendered whole with the
test's vars and then parsed as the chat. `ChatFile` is such a file: rendering it gives its
messages, or a `TemplateError` saying which file, and where the rendered text stopped being
JSON (or YAML).

Values are written into the text as they are, as promptfoo writes them (no JSON escaping):
a value holding a double quote breaks the JSON, and the render says so and suggests
`{{ value | dump }}`, which writes a JSON string. Raw line breaks and tabs inside a JSON
string are accepted (promptfoo's `JSON.parse` refuses them; a model's answers hold them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from core.evals.sources import SuiteProblem
from core.evals.template import TemplateError, render, variables_in
from core.evals.yamlfile import read_yaml
from core.params import Message
from core.validation import describe_errors

ChatFormat = Literal["json", "yaml"]

_MESSAGES = TypeAdapter(list[Message])


class ChatFile(BaseModel):
    """A chat prompt file rendered as a whole template, then read as its messages.

    Attributes:
        text: the file's text, a nunjucks template.
        format: `json` or `yaml`: how the rendered text is read.
        file: the file's name as messages show it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    format: ChatFormat
    file: str

    def messages(self, variables: Mapping[str, Any]) -> list[Message]:
        """The chat this file renders to with `variables`.

        Raises:
            TemplateError: the render fails, or its result is not a list of messages.
        """
        try:
            rendered = render(self.text, variables)
        except TemplateError as error:
            raise TemplateError(f"{self.file}: {error}") from None
        chat = self._parsed(rendered)
        if not isinstance(chat, list) or not chat or not all(isinstance(m, dict) for m in chat):
            raise TemplateError(
                f"{self.file}: rendered, it is not a list of {{role, content}} messages"
            )
        try:
            return _MESSAGES.validate_python(chat)
        except ValidationError as error:
            raise TemplateError(f"{self.file}: rendered, {describe_errors(error)}") from None

    def names(self) -> list[str]:
        """The variables the file's template reads.

        Raises:
            TemplateError: its syntax is invalid.
        """
        return variables_in(self.text)

    def _parsed(self, rendered: str) -> Any:
        if self.format == "yaml":
            return _yaml(rendered, self.file)
        try:
            return json.loads(rendered, strict=False)
        except json.JSONDecodeError as error:
            line = rendered.splitlines()[error.lineno - 1].strip()[:60] if rendered else ""
            raise TemplateError(
                f"{self.file}: rendered, it is not valid JSON ({error.msg} at line"
                f" {error.lineno} column {error.colno} of the rendered text: {line!r});"
                " a value holding a double quote must be written {{ value | dump }}"
            ) from None
        except RecursionError:
            raise TemplateError(f"{self.file}: rendered, its JSON is nested too deeply") from None


def _yaml(rendered: str, name: str) -> Any:
    try:
        return read_yaml(rendered, name, as_promptfoo=True)
    except SuiteProblem as problem:
        raise TemplateError(f"{name}: rendered, it is not valid YAML: {problem.reason}") from None


def is_whole_template(text: str, chat_format: ChatFormat) -> bool:
    """Whether a chat file must be rendered as a whole before it is read: it holds template
    tags and does not parse as written (one that parses has its strings rendered instead)."""
    if "{%" not in text:
        return False
    if chat_format == "json":
        try:
            json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return True
        return False
    try:
        read_yaml(text, "", as_promptfoo=True)
    except SuiteProblem:
        return True
    return False
