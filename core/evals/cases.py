"""Turn a case as read from a file into a validated `Case`, and gather cases into a `Suite`.

Shared by the native and the promptfoo readers: both produce the same fields, and every check
(templates render, assertions are valid, ids are unique) happens here once.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from core.evals.checks import AssertionContext, build_assertion
from core.evals.conversation_var import (
    CONVERSATION,
    PLACEHOLDER_ANSWER,
    earlier_turn,
    turn_problem,
)
from core.evals.sources import Sources, SuiteProblem
from core.evals.suite import Case, MessageTemplate, PromptTemplate
from core.evals.template import TemplateError, render
from core.evals.yamlfile import line_of
from core.params import Message, RequestParams
from core.validation import describe_errors

_MESSAGES = TypeAdapter(list[Message])
_TEMPLATES = TypeAdapter(list[MessageTemplate])


@dataclass
class SuiteParts:
    """What cases are checked against while a suite is read: its templates and its files."""

    sources: Sources
    system: str | None = None
    prompts: list[PromptTemplate] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """Record a warning once."""
        if message not in self.warnings:
            self.warnings.append(message)


def build_case(
    fields: dict[str, Any],
    raw_assertions: Sequence[Any],
    parts: SuiteParts,
    test_transform: str | None = None,
) -> Case:
    """Validate one case: its input renders, its assertions are valid.

    Args:
        fields: the `Case` fields but `assertions` (`id` and `line` included).
        raw_assertions: the assertions as written in the file.
        parts: the suite's templates and files.
        test_transform: the transform (normalised) the case's promptfoo test applies to the
            answer before each of its assertions (`core.evals.transforms`).

    Raises:
        SuiteProblem: located at the case (and the assertion's line when known).
    """
    case_id, line = str(fields["id"]), fields.get("line")
    try:
        _check_renders(fields, parts)
        variables = fields.get("vars") or {}
        context = AssertionContext(
            parts.sources, variables, fields.get("expected"), parts.warn, test_transform
        )
        assertions = []
        for raw in raw_assertions:
            try:
                assertions.append(build_assertion(raw, context))
            except SuiteProblem as problem:
                raise problem.located(line=line_of(raw) or line) from None
        case = Case(**fields, assertions=assertions)
    except SuiteProblem as problem:
        raise problem.located(line=line, case=case_id) from None
    except ValidationError as error:
        raise SuiteProblem(describe_errors(error), line=line, case=case_id) from None
    if not assertions:
        parts.warn(f"case {case_id} has no assertions: it always passes")
    return case


def _check_renders(fields: Mapping[str, Any], parts: SuiteParts) -> None:
    variables, messages = fields.get("vars"), fields.get("messages") or []
    own_system = bool(messages) and messages[0].role in ("system", "developer")
    try:
        if parts.system is not None and not own_system:
            render(parts.system, variables or {})
        if variables is None:
            return
        if not parts.prompts:
            raise SuiteProblem("has vars but the suite has no prompt template to fill in")
        template = parts.prompts[fields.get("prompt") or 0]
        if template.reads_conversation:
            _check_renders_turns(template, variables)
            return
        template.render(variables)
    except TemplateError as error:
        where = "system prompt" if variables is None else "prompt"
        raise SuiteProblem(f"{where}: {error}") from None


def _check_renders_turns(template: PromptTemplate, variables: Mapping[str, Any]) -> None:
    """Render a conversation's turn as its first (no earlier turn), then as a later one
    (one made-up earlier turn, shaped as a real one is), so that a template whose loop
    cannot read a turn is refused before any turn is sent and paid for."""
    body = template.render(variables)
    turn = earlier_turn(body, PLACEHOLDER_ANSWER, chat=template.chat)
    try:
        template.render({**variables, CONVERSATION: [turn]})
    except TemplateError as error:
        texts = tuple(part.content for part in template.messages)
        raise SuiteProblem(turn_problem(error, texts, 1)) from None


def check_unique_ids(cases: Sequence[Case]) -> None:
    """Refuse a second case with an id already used.

    Raises:
        SuiteProblem: at the second case, naming the line of the first when known.
    """
    seen: dict[str, Case] = {}
    for case in cases:
        first = seen.get(case.id)
        if first is not None:
            where = f" (line {first.line})" if first.line else ""
            raise SuiteProblem(
                f"duplicate case id; the first is earlier{where}", line=case.line, case=case.id
            )
        seen[case.id] = case


def text_list(value: Any, name: str) -> list[str]:
    """A list of texts from a YAML list or a comma-separated text (tags, for example)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [item for item in next(csv.reader([value], skipinitialspace=True), []) if item]
    if isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        return [str(item) for item in value]
    raise SuiteProblem(f"{name} must be a list of texts")


def optional_text(value: Any, name: str) -> str | None:
    """A text field that may be absent; numbers are accepted as their text."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SuiteProblem(f"{name} must be text")
    return str(value)


def case_id(value: Any) -> str | None:
    """A case id as written (text or a whole number), or None when there is none (then
    `core.evals.caseids` derives one from the case's content)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SuiteProblem("id must be text or a whole number")
    text = str(value).strip()
    if not text or any(char in text for char in "\r\n\t"):
        raise SuiteProblem("id must be one line of text, not empty")
    return text


def flag(value: Any, name: str) -> bool:
    """A true/false field (absent is false)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise SuiteProblem(f"{name} must be true or false")
    return value


def mapping(value: Any, name: str) -> dict[str, Any]:
    """A mapping field (absent is empty)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SuiteProblem(f"{name} must be a mapping")
    return dict(value)


def assertion_list(value: Any, name: str = "assert") -> list[Any]:
    """The list of assertions of a case (absent is none)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SuiteProblem(f"{name} must be a list of assertions")
    return value


def merged(defaults: Mapping[str, Any], case: Mapping[str, Any]) -> dict[str, Any]:
    """Vars (or metadata) of the defaults overridden by the case's own."""
    return {**defaults, **case}


def chat_template(value: Any, name: str) -> list[MessageTemplate]:
    """A chat prompt template: a non-empty list of {role, content} with text content."""
    if not isinstance(value, list) or not value or not all(isinstance(i, dict) for i in value):
        raise SuiteProblem(f"{name} must be a text or a list of {{role, content}} messages")
    try:
        return _TEMPLATES.validate_python(value)
    except ValidationError as error:
        raise SuiteProblem(f"{name}.{describe_errors(error)}", line=line_of(value[0])) from None


def request_params(value: Any, line: int | None) -> RequestParams:
    """Model parameters from a suite, validated as a request's are."""
    try:
        return RequestParams.model_validate(mapping(value, "params"))
    except ValidationError as error:
        raise SuiteProblem(f"params.{describe_errors(error)}", line=line) from None


def chat_messages(value: Any) -> list[Message]:
    """Literal chat messages of a case (sent as written)."""
    if not isinstance(value, list) or not value or not all(isinstance(i, dict) for i in value):
        raise SuiteProblem("messages must be a non-empty list of {role, content} mappings")
    try:
        return _MESSAGES.validate_python(value)
    except ValidationError as error:
        raise SuiteProblem(f"messages.{describe_errors(error)}") from None
