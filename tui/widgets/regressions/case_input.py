"""What a case asked and what it expects, from the suite version its run ran: the messages as
they were sent (system prompt included), its vars, its assertions and tags, shown above its
answers.

A view reads a run's suite version once (`read_suite_cases`, in a thread worker) and keeps it
by suite id (`CaseInputs`); a case is parsed only when it is shown. Everything here comes from
suite files: shown inert (markup stays text, escape sequences show as `\\x1b...`) and folded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rich.text import Text

from core.evals.suite import Assertion, Case, Suite
from core.evals.template import TemplateError
from core.params import Message
from tui.text import inert

if TYPE_CHECKING:
    from storage.evals import EvalStore

MAX_TEXT = 600  # characters of a message, of a rubric, of an expected answer shown
MAX_LINES = 8  # lines of each of them
MAX_VAR = 100  # characters of a var's value (on one line)
RAW_VALUES = frozenset({"regex", "python"})
"""Assertion types whose value reads best as written (a pattern, an import path)."""


@dataclass
class SuiteCases:
    """One suite version's cases (see `read_suite_cases`), parsed one at a time when asked."""

    suite_id: int
    suite: Suite | None
    """The suite without its cases (system prompt, templates); None: its content is not
    readable as a suite (not recorded, or recorded by an older tunedeck)."""
    texts: dict[str, str]
    """Each case's JSON text by case id."""
    version: str = ""
    _cases: dict[str, Case | None] = field(default_factory=dict, repr=False)

    def case(self, case_id: str) -> Case | None:
        """The case with this id (parsed the first time), None if it is not readable."""
        if case_id not in self._cases:
            self._cases[case_id] = _parsed_case(self.texts.get(case_id))
        return self._cases[case_id]

    def describe(self, case_id: str, note: str = "") -> Text:
        """The case's input, assertions and tags (`describe_case`), or why they are not
        shown; `note` follows the `input` heading (dim)."""
        if self.suite is None:
            return Text("input not recorded with this suite version\n", style="dim")
        if case_id not in self.texts:
            return Text(f"no case {inert(case_id)} in suite version {self.version}\n", style="dim")
        case = self.case(case_id)
        if case is None:
            return Text("input not readable in this suite version\n", style="dim")
        return describe_case(self.suite, case, note)


def read_suite_cases(evals: EvalStore, suite_id: int) -> SuiteCases:
    """Suite version `suite_id` as `SuiteCases` (an unknown or unreadable one reads as
    `suite=None`). Reads SQLite: call it in a thread worker."""
    found = evals.suite_case_texts(suite_id)
    if found is None or not isinstance(found.suite, dict):
        return SuiteCases(suite_id, None, {})
    try:
        suite = Suite.model_validate({**found.suite, "cases": []})
    except ValidationError:
        return SuiteCases(suite_id, None, {})
    return SuiteCases(suite_id, suite, found.cases, suite.version[:7])


def _parsed_case(text: str | None) -> Case | None:
    if text is None:
        return None
    try:
        return Case.model_validate_json(text)
    except ValidationError:
        return None


class CaseInputs:
    """The suite versions a view has read, by suite id: the latest `KEPT` of them (a suite
    version never changes once saved)."""

    KEPT = 8

    def __init__(self) -> None:
        self._read: dict[int, SuiteCases] = {}

    def get(self, suite_id: int) -> SuiteCases | None:
        """The suite version read already, if it was."""
        return self._read.get(suite_id)

    def unread(self, *suite_ids: int) -> tuple[int, ...]:
        """Those of `suite_ids` not read yet, each once."""
        return tuple(dict.fromkeys(id_ for id_ in suite_ids if id_ not in self._read))

    def add(self, read: Iterable[SuiteCases]) -> None:
        """Keep suite versions just read (forgetting the oldest beyond `KEPT`)."""
        for suite_cases in read:
            self._read.pop(suite_cases.suite_id, None)
            self._read[suite_cases.suite_id] = suite_cases
        while len(self._read) > self.KEPT:
            del self._read[next(iter(self._read))]


# -- the description ---------------------------------------------------------------------------


def describe_case(suite: Suite, case: Case, note: str = "") -> Text:
    """The case's description, its input (the messages as sent, then its vars), what it
    expects (assertions, expected answer, threshold) and its tags."""
    text = Text()
    if case.description:
        text.append(inert(case.description) + "\n", style="italic")
    text.append(_input(suite, case, note))
    text.append(_expects(case))
    text.append(_tags(case))
    return text


def _input(suite: Suite, case: Case, note: str) -> Text:
    text = Text().append("input", style="bold")
    template = _template_of(suite, case)
    if template:
        text.append(f" · prompt {inert(template)}", style="dim")
    if note:
        text.append(f" · {note}", style="dim")
    text.append("\n")
    try:
        messages = suite.messages_for(case)
    except (TemplateError, IndexError) as error:
        text.append(f"cannot render it: {inert(str(error))}\n", style="red")
    else:
        for message in messages:
            text.append(_message(message))
    if case.vars:
        text.append(_vars(case.vars))
    return text


def _template_of(suite: Suite, case: Case) -> str:
    """The label (else id) of the prompt template the case's vars fill in ('' for none)."""
    index = case.prompt or 0
    if case.messages is not None or index >= len(suite.prompts):
        return ""
    template = suite.prompts[index]
    return template.label or template.id


def _message(message: Message) -> Text:
    text = Text().append(f"{message.role}: ", style="bold cyan")
    content = message.content
    if isinstance(content, list):
        content = " ".join(_part(part) for part in content)
    if content:
        text.append(folded(content))
    elif message.tool_calls:
        text.append(f"({len(message.tool_calls)} tool calls)", style="dim")
    else:
        text.append("(empty)", style="dim")
    text.append("\n")
    return text


def _part(part: dict[str, Any]) -> str:
    """A content part of a message: its text, or its type (`[image_url]`)."""
    if part.get("type") == "text":
        return str(part.get("text", ""))
    return f"[{part.get('type', '?')}]"


def _vars(variables: dict[str, Any]) -> Text:
    """`vars: country = "France" · lang = "en"`, each value on one line, folded."""
    text = Text().append("vars: ", style="bold")
    for index, (name, value) in enumerate(variables.items()):
        shown = _json(value)
        if len(shown) > MAX_VAR:
            shown = shown[: MAX_VAR - 1] + "…"
        text.append(f"{' · ' if index else ''}{inert(str(name))} = ", style="dim")
        text.append(inert(shown))
    text.append("\n")
    return text


def _expects(case: Case) -> Text:
    text = Text().append("expects", style="bold")
    if case.threshold is not None:
        text.append(f" · passes at a weighted score of {case.threshold:g}", style="dim")
    for assertion in case.assertions:
        text.append("\n  ")
        text.append(describe_assertion(assertion))
    if case.expected is not None:
        text.append("\n  expected answer: ", style="dim")
        text.append(folded(case.expected))
    if not case.assertions and case.expected is None:
        text.append(" nothing (no assertion)", style="dim")
    text.append("\n")
    return text


def describe_assertion(assertion: Assertion) -> Text:
    """`icontains "Paris"`, `regex ^\\d+$ · weight 0.5`, `llm-rubric: <rubric> · threshold
    0.7`: the type, its value, and its threshold, weight, metric and options as set."""
    text = Text().append(inert(assertion.type), style="bold")
    text.append(_value(assertion))
    extras = []
    if assertion.threshold is not None:
        extras.append(f"threshold {assertion.threshold:g}")
    if assertion.weight != 1:
        extras.append(f"weight {assertion.weight:g}")
    if assertion.metric:
        extras.append(f"metric {assertion.metric}")
    extras += [f"{name} {_json(value)}" for name, value in assertion.options.items()]
    if extras:
        text.append(inert(" · " + " · ".join(extras)), style="dim")
    return text


def _value(assertion: Assertion) -> Text:
    value = assertion.value
    if value is None or isinstance(value, bool):
        return Text()
    if isinstance(value, str):
        if assertion.base_type == "llm-rubric":
            return Text(": ").append(folded(value))
        if assertion.base_type in RAW_VALUES:
            return Text(" ").append(folded(value))
        return Text(" ").append(folded(f'"{value}"'))
    return Text(" ").append(folded(_json(value)))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _tags(case: Case) -> Text:
    if not case.tags and not case.critical:
        return Text()
    text = Text()
    if case.tags:
        text.append("tags: ", style="bold")
        text.append(inert(", ".join(case.tags)))
    if case.critical:
        text.append(" · " if case.tags else "")
        text.append("critical", style="bold yellow")
    text.append("\n")
    return text


def folded(content: str) -> Text:
    """`content` inert, cut after `MAX_LINES` lines or `MAX_TEXT` characters (saying how
    much more there is)."""
    shown = content[:MAX_TEXT]
    lines = shown.split("\n")
    if len(lines) > MAX_LINES:
        shown = "\n".join(lines[:MAX_LINES])
    text = Text(inert(shown))
    if len(shown) < len(content):
        text.append(f" … {len(content) - len(shown):,} more characters", style="dim")
    return text
