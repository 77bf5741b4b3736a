"""The prompts of a promptfoo config (`prompts:`) as a suite's prompt templates."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from core.evals.cases import chat_template, optional_text
from core.evals.chatfile import ChatFile
from core.evals.promptfoo_files import expand, prompt_texts
from core.evals.sources import Sources, SuiteProblem
from core.evals.suite import MessageTemplate, PromptTemplate
from core.evals.template import TemplateError, variables_in
from core.evals.yamlfile import read_json


def spaced(text: str) -> str:
    """`text` with its runs of white space made one space, its ends stripped: a name."""
    return " ".join(text.split())


def read_prompts(value: Any, sources: Sources) -> list[PromptTemplate]:
    """The config's `prompts:` (texts, chats, `{id, raw, label}`, `file://` paths and globs,
    and paths without `file://` as promptfoo reads them: `bare_path`; `{{prompt}}` when there
    are none) as templates, each with the id its cases' ids end with: its own `id` or `label`
    when no other prompt has it, else `p<M>` for the M-th.

    Raises:
        SuiteProblem: a prompt is malformed, or two prompts end with the same id.
    """
    if value is None:  # promptfoo's default: each test gives its prompt as the var `prompt`
        value = ["{{prompt}}"]
    if isinstance(value, str):
        value = [value]
    elif isinstance(value, dict):  # {"file://prompt.txt": "label", ...}
        value = [{"raw": key, "label": label} for key, label in value.items()]
    if not isinstance(value, list) or not value:
        raise SuiteProblem("prompts: must be a list of prompts")
    found = [source for item in value for source in _prompt_sources(item, sources)]
    names = Counter(name for _, _, name in found if name)
    templates: list[PromptTemplate] = []
    for number, (raw, label, name) in enumerate(found, start=1):
        identifier = name if name and names[name] == 1 else f"p{number}"
        if isinstance(raw, ChatFile):
            templates.append(
                PromptTemplate(
                    id=identifier,
                    label=label,
                    messages=[MessageTemplate(role="user", content=raw.text)],
                    chat_file=raw,
                    chat=True,
                )
            )
            continue
        messages = _template(raw, f"prompt {number}")
        chat = isinstance(raw, list) or messages[0].content != raw  # a text read as JSON
        templates.append(PromptTemplate(id=identifier, label=label, messages=messages, chat=chat))
    taken = Counter(template.id for template in templates)
    for identifier, count in taken.items():
        if count > 1:
            raise SuiteProblem(
                f"prompts: {count} prompts have the id {identifier!r}" + _hint(identifier, found)
            )
    return templates


def _hint(identifier: str, found: list[_PromptSource]) -> str:
    """How to mend a clash with a prompt named by its position (`p2` for the second)."""
    number = identifier.removeprefix("p")
    if not number.isdigit() or not 0 < int(number) <= len(found) or found[int(number) - 1][2]:
        return ""
    return f" (prompt {number} has no id or label, so it is named {identifier!r}: give it one)"


_PromptSource = tuple[str | list[Any] | ChatFile, str | None, str | None]
"""A prompt's text (or chat), its label, and the name its cases' ids use, when given."""


def _prompt_sources(item: Any, sources: Sources) -> list[_PromptSource]:
    label = name = None
    if isinstance(item, dict):
        unknown = sorted(set(item) - {"raw", "id", "label"})
        if unknown:
            raise SuiteProblem(f"prompts: {unknown[0]!r} in a prompt is not supported")
        label = optional_text(item.get("label"), "prompts.label")
        own_id = optional_text(item.get("id"), "prompts.id") if "raw" in item else None
        name = spaced(own_id or label or "") or None  # `id` without `raw` is the prompt's file
        item = item.get("raw", item.get("id"))
    if not isinstance(item, str) or not item:
        raise SuiteProblem("prompts: each prompt must be a text or a file://path")
    if not item.startswith("file://"):
        if not bare_path(item, sources):
            _check_syntax(item, None)  # at the config, not at the first test that renders it
            return [(item, label, name)]
        item = f"file://{item}"
    found: list[_PromptSource] = []
    for path in expand(item, sources):
        for text in prompt_texts(path, sources):
            _check_syntax(text, sources.name_of(path))
            found.append((text, label or sources.relative_name(path), name))
    return found


def _check_syntax(raw: str | list[Any] | ChatFile, file: str | None) -> None:
    """Refuse a prompt file's invalid template (bad syntax, an unknown filter), at that file:
    found later, rendering a case, it would be told at the case's test."""
    if isinstance(raw, ChatFile):
        raw = raw.text
    chat = raw if isinstance(raw, list) else [{"content": raw}]
    for message in chat:
        text = message.get("content") if isinstance(message, dict) else None
        try:
            if isinstance(text, str):
                variables_in(text)
        except TemplateError as error:
            raise SuiteProblem(f"prompt: {error}", file=file) from None


_PATH_LIKE = re.compile(r"[/\\*]|\.\w{2,5}(?::\w+)?$")
"""What makes promptfoo read a prompt of one line as a file's path (`maybeFilePath`): a
slash, a backslash, a star, or an ending like a file's extension (`x.txt`, `x.py:fn`)."""


def bare_path(text: str, sources: Sources) -> bool:
    """Whether a prompt written without `file://` names a file, as promptfoo reads it: one
    line without spaces or `{{`, shaped like a path, and a file there (or a glob's).

    Raises:
        SuiteProblem: it is shaped like a path, but no such file exists (promptfoo fails too).
    """
    if "\n" in text or "{{" in text or any(char.isspace() for char in text):
        return False
    if not _PATH_LIKE.search(text):
        return False
    if "*" in text or sources.resolve(text.split(":")[0]).is_file():
        return True
    raise SuiteProblem(
        f"prompts: {text!r} is read as a file's path (as promptfoo reads it), and there is no"
        " such file (a prompt file is named file://path, relative to the config's folder)"
    )


def _template(raw: str | list[Any], name: str) -> list[MessageTemplate]:
    if isinstance(raw, list):
        return chat_template(raw, name)
    stripped = raw.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            chat = read_json(stripped, name)
        except SuiteProblem:
            chat = None
        if (
            isinstance(chat, list)
            and chat
            and all(isinstance(m, dict) and "role" in m for m in chat)
        ):
            return chat_template(chat, name)
    return [MessageTemplate(role="user", content=raw)]
