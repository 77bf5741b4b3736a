"""An evaluation suite: cases with their inputs and the assertions their answers must meet.

A suite comes from a file (see `core.evals.loader.load_suite`) and is validated completely when
it loads: once a `Suite` exists, every case renders to messages and every assertion is known,
so a run can start without any further failure of the suite itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.evals.chatfile import ChatFile
from core.evals.conversation_var import CONVERSATION, texts_read_conversation
from core.evals.template import render
from core.params import Message, RequestParams, Role

SuiteFormat = Literal["native", "promptfoo"]


class Assertion(BaseModel):
    """One check of an answer, named as promptfoo names it (`contains`, `not-regex`, ...).

    `type` is kept as written, including a `not-` prefix; `base_type` and `negated` split it.
    `value` has already been rendered with the case's vars and normalised for its type (for
    example the list of `contains-any`, or the parsed schema of `is-json`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    value: Any = None
    threshold: float | None = None
    """Pass mark of scored types (`similar`, `llm-rubric`, `python`), ceiling of `latency`
    (milliseconds) and `cost` (USD)."""
    weight: float = Field(default=1.0, ge=0)
    """Weight of this assertion's score in the case's weighted mean score."""
    metric: str | None = None
    """Optional name to group scores under (promptfoo's named metrics)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Options of the type: `ignore_case` for `equals`, `path` for `json-field`, `config` of a
    `python` scorer, ..."""
    test_transform: str | None = None
    """The JavaScript its test's `options.transform` runs on the answer before it is scored
    (the same for every assertion of the test; see `core.evals.transforms`)."""
    transform: str | None = None
    """The JavaScript its own `transform:` runs on the output, after the test's transform."""

    @property
    def negated(self) -> bool:
        """True for a `not-` assertion: it passes when the base assertion fails."""
        return self.type.startswith("not-")

    @property
    def base_type(self) -> str:
        """The type without its `not-` prefix."""
        return self.type.removeprefix("not-")

    def describe(self) -> str:
        """A short label for reports, like `icontains "Paris"` or `numeric 42`."""
        if self.value is None or isinstance(self.value, dict | bool):
            return self.type
        text = self.value if isinstance(self.value, str) else json.dumps(self.value)
        text = " ".join(text.split())
        text = text[:57] + "..." if len(text) > 60 else text
        return f'{self.type} "{text}"' if isinstance(self.value, str) else f"{self.type} {text}"


class MessageTemplate(BaseModel):
    """One message of a prompt template; its content may hold `{{ var }}` placeholders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: str


class PromptTemplate(BaseModel):
    """A prompt that cases fill in with their vars: one user message, or a whole chat."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    """The name a case id ends with when the suite has several prompts: a promptfoo prompt's
    own `id` or `label` when it has a unique one, else `p1`, `p2`, ... by position (a prompt
    whose text is edited keeps its id, so its cases still pair with the old prompt's)."""
    label: str | None = None
    messages: list[MessageTemplate] = Field(min_length=1)
    chat_file: ChatFile | None = None
    """A chat file rendered as a whole before it is read (template tags between its
    messages: `core.evals.chatfile`); `messages` then hold its text, for display only."""
    chat: bool = False
    """Whether the prompt was written as a chat (JSON or YAML messages, a chat file), not
    as a text: a conversation's earlier turn then holds its messages as its `prompt`."""

    @cached_property
    def reads_conversation(self) -> bool:
        """Whether the prompt reads `_conversation`: its cases are turns of conversations."""
        if self.chat_file is not None:
            return texts_read_conversation((self.chat_file.text,))
        return texts_read_conversation(tuple(part.content for part in self.messages))

    def render(self, variables: Mapping[str, Any]) -> list[Message]:
        """The messages this prompt gives with `variables` (`_conversation`, promptfoo's
        earlier turns, is empty unless given: `core.evals.conversations`).

        Raises:
            core.evals.template.TemplateError: a variable is missing, a filter fails, or a
                chat file does not render to messages.
        """
        if CONVERSATION not in variables and self.reads_conversation:
            variables = {**variables, CONVERSATION: []}
        if self.chat_file is not None:
            return self.chat_file.messages(variables)
        return [
            Message(role=part.role, content=render(part.content, variables))
            for part in self.messages
        ]


class Case(BaseModel):
    """One input and the assertions its answer must meet.

    The input is either `messages` (sent as they are, after the suite's system prompt) or
    `vars` (filling in the suite's prompt template number `prompt`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    """As written in the suite, else derived from the case's content (`core.evals.caseids`):
    runs are compared case by case through it."""
    description: str | None = None
    messages: list[Message] | None = None
    vars: dict[str, Any] | None = None
    prompt: int | None = None
    """Index into `Suite.prompts` of the template `vars` fill in (None for `messages`)."""
    assertions: list[Assertion] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    critical: bool = False
    """A critical case that fails is a regression whatever the other cases do."""
    expected: str | None = None
    """The reference answer; `equals` and `similar` without a value compare with it."""
    threshold: float | None = None
    """promptfoo's test threshold: when set, the case passes when its weighted score reaches
    it, even if some assertions fail."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    line: int | None = None
    """Line of the case in its file, for messages (None when unknown)."""


class Suite(BaseModel):
    """A whole evaluation suite, validated.

    Attributes:
        name: from the file (`name:`; promptfoo: see `core.evals.promptfoo`), else the file
            name without its extension.
        path: the absolute path of the file it was loaded from (a run can reload it from anywhere).
        format: `native` (tunedeck YAML or JSONL) or `promptfoo`.
        version: sha256 hex of the file's bytes; when the suite reads other files (promptfoo
            `file://` prompts, tests, scorers), of those files' names and bytes as well.
        system: system prompt put first in every case (a template, like the prompts).
        prompts: the prompt templates cases with vars fill in.
        params: the model parameters of every request (temperature, max_tokens, ...).
        providers: models or promptfoo provider ids named by the file (a run may override).
        judge_model: the model the file names to grade `llm-rubric` assertions (native
            `judge_model:`, promptfoo `defaultTest.options.provider`); `--judge-model` wins,
            and without either the model under test grades.
        warnings: promptfoo features the file uses that tunedeck ignores, one line each.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    path: str
    format: SuiteFormat
    version: str
    description: str | None = None
    system: str | None = None
    prompts: list[PromptTemplate] = Field(default_factory=list)
    params: RequestParams = Field(default_factory=RequestParams)
    providers: list[str] = Field(default_factory=list)
    judge_model: str | None = None
    cases: list[Case]
    warnings: list[str] = Field(default_factory=list)

    @property
    def default_model(self) -> str | None:
        """The model the file names, if any (promptfoo's `openai:chat:` prefix removed)."""
        for provider in self.providers:
            model = model_of_provider(provider)
            if model:
                return model
        return None

    def case(self, case_id: str) -> Case:
        """The case with id `case_id`.

        Raises:
            KeyError: no such case.
        """
        for case in self.cases:
            if case.id == case_id:
                return case
        raise KeyError(case_id)

    def messages_for(
        self, case: Case, conversation: list[dict[str, Any]] | None = None
    ) -> list[Message]:
        """The messages to send for `case`: the system prompt, then its input; a turn of a
        promptfoo conversation rendered with its `conversation`, the earlier turns
        (`core.evals.conversations`; none when not given).

        The system prompt is left out when the case's messages or template already start
        with a system (or developer) message.

        Raises:
            core.evals.template.TemplateError: never for a suite that `load_suite` returned
                (every case was rendered once when it loaded), but for a conversation's
                turn rendered with its earlier answers.
        """
        variables = case.vars or {}
        if case.messages is not None:
            body = list(case.messages)
        else:
            if conversation is not None:
                variables = {**variables, CONVERSATION: conversation}
            body = self.prompts[case.prompt or 0].render(variables)
        if self.system is None or (body and body[0].role in ("system", "developer")):
            return body
        return [Message(role="system", content=render(self.system, variables)), *body]


BUILT_IN_PROVIDERS = frozenset(
    {"echo", "http", "https", "openai", "webhook", "sequence", "browser", "websocket", "mcp"}
    | {"manual-input", "simulated-user", "exec", "python", "golang", "file"}
)
"""promptfoo provider ids of one word that name no model: `echo` answers with the prompt,
`http` calls a URL, a bare `openai` takes its model from the config..."""


def model_of_provider(provider: str) -> str | None:
    """The model name in a provider id: `openai:chat:gpt-4o` -> `gpt-4o`, `gpt-4o` -> `gpt-4o`.

    None for ids of other promptfoo providers (`anthropic:...`, `echo`, `http`), which need
    `--model`.
    """
    if ":" not in provider:
        return None if provider in BUILT_IN_PROVIDERS else provider or None
    family, _, rest = provider.partition(":")
    if family != "openai":
        return None
    for kind in ("chat:", "responses:"):
        if rest.startswith(kind):
            return rest.removeprefix(kind) or None
    return None if rest.startswith(("completion:", "embedding:", "assistant:")) else rest or None
