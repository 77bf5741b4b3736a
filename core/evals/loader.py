"""Load an evaluation suite from a file: tunedeck's own YAML or JSONL, or a promptfoo config.

`load_suite(path)` reads the file, validates everything (templates, assertions, regexes, JSON
Schemas, custom scorers, case ids) and returns a `Suite`, or raises `BadInput` with one line,
`file:line: case <id>: reason`, before anything is sent.

Which reader: a `.jsonl` file is a native JSONL suite; a YAML (`.yaml`, `.yml`) or `.json` file
whose top level has `prompts` or `tests` is a promptfoo config (`core.evals.promptfoo`), and
one with `cases` is a native suite.

Native YAML (or JSON)::

    name: capitals                 # default: the file name without its extension
    description: Capital cities
    model: gpt-4o-mini             # optional; a run's --model wins
    params: {temperature: 0, max_tokens: 64}
    system: You answer with one word.
    prompt: "What is the capital of {{country}}?"   # or a chat: [{role: user, content: ...}]
    defaults:                      # merged into every case, like promptfoo's defaultTest
      assert: [{type: not-icontains, value: sorry}]
      tags: [geo]
    cases:
      - id: fr                     # default: derived from the input (see below)
        vars: {country: France}    # fills in `prompt`; or `input: text`, or `messages: [...]`
        expected: Paris            # `equals`/`similar` without a value compare with it
        critical: true
        tags: [europe]
        assert:
          - type: icontains
            value: Paris

Native vars are used as written (a list is a value; `file://` is text). promptfoo's var
expansion and `file://` vars apply to promptfoo configs only.

Native JSONL: one case per line, with the keys of a case above; blank lines are skipped. An
optional first line `{"suite": {...}}` holds the other top-level keys (name, params, system,
prompt, defaults...). The suite is named after the file unless that header names it.

Case ids: a case without `id` gets one derived from its input as written (its `vars`, or its
`messages`, `input: text` being the one user message it stands for): `c-` and 8 hex digits
of its hash (`core.evals.caseids`), the same in every position and on every load, so runs of
two versions of the suite pair each case with itself. Cases with the same input get `-2`,
`-3`, ... in file order, with a warning: they are probably duplicates, and their ids depend
on their order. Ids written in the file are kept as they are. (Runs stored before ids were
derived this way keep their `c1`, `c2`, ... ids: they pair with new runs only by explicit ids.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.errors import BadInput
from core.evals.caseids import IdRequest, assign_ids, content_digest
from core.evals.cases import (
    SuiteParts,
    assertion_list,
    build_case,
    case_id,
    chat_messages,
    chat_template,
    check_unique_ids,
    flag,
    mapping,
    optional_text,
    request_params,
    text_list,
)
from core.evals.promptfoo import read_config as read_promptfoo_config
from core.evals.sources import Sources, SuiteProblem, jsonl_lines
from core.evals.suite import Case, MessageTemplate, PromptTemplate, Suite
from core.evals.yamlfile import Located, line_of, read_json, read_yaml
from core.params import Message

_SUITE_KEYS = {
    "name",
    "description",
    "model",
    "judge_model",
    "params",
    "system",
    "prompt",
    "defaults",
    "cases",
}
_CASE_KEYS = {
    "id", "description", "input", "messages", "vars", "assert", "tags", "critical", "expected",
    "threshold", "metadata",
}  # fmt: skip
_DEFAULT_KEYS = {"assert", "vars", "tags", "threshold", "metadata"}
_YAML = {".yaml", ".yml"}


def load_suite(path: str | Path) -> Suite:
    """Read and validate the suite in `path` (native YAML/JSON/JSONL, or a promptfoo config).

    Raises:
        BadInput: one line naming the file, the line and the case where known, and the reason.
    """
    path = Path(path)
    try:
        return _load(path)
    except SuiteProblem as problem:
        raise BadInput(problem.located(file=str(path)).message()) from None
    except RecursionError:
        raise BadInput(f"{path}: nested too deeply") from None


def _load(path: Path) -> Suite:
    suffix = path.suffix.lower()
    if suffix not in _YAML | {".json", ".jsonl"}:
        kind = suffix or path.name
        raise SuiteProblem(f"a suite is a .yaml, .yml, .json or .jsonl file, not {kind!r}")
    sources = Sources(path)
    if suffix == ".jsonl":
        return _native(sources, *_jsonl(sources))
    read = read_yaml if suffix in _YAML else read_json
    document = read(sources.text(), sources.display)
    if document is None:
        raise SuiteProblem("the file is empty")
    if not isinstance(document, dict):
        raise SuiteProblem("the top level must be a mapping (with cases:, or promptfoo's tests:)")
    if "prompts" in document or "tests" in document:
        if "cases" in document:
            raise SuiteProblem("mixes tunedeck's cases: with promptfoo's prompts:/tests:")
        if read is read_yaml:  # read again as promptfoo reads it (YAML 1.2: `Yes` is a word)
            document = read_yaml(sources.text(), sources.display, as_promptfoo=True)
        return read_promptfoo_config(document, sources)
    raw_cases = document.get("cases")
    if not isinstance(raw_cases, list):
        raise SuiteProblem("cases: is required, a list of cases", line=line_of(document))
    top = Located({key: value for key, value in document.items() if key != "cases"})
    top.line = line_of(document)
    return _native(sources, top, raw_cases)


def _jsonl(sources: Sources) -> tuple[dict[str, Any], list[Any]]:
    header: dict[str, Any] = {}
    cases: list[Any] = []
    for number, text in enumerate(jsonl_lines(sources.text()), start=1):
        if not text.strip():
            continue
        try:
            value = read_json(text, sources.display)
        except SuiteProblem as problem:
            raise SuiteProblem(problem.reason, line=number) from None
        if not isinstance(value, Located):
            raise SuiteProblem("each line must be a JSON object (a case)", line=number)
        value.line = number
        if not cases and not header and isinstance(value, dict) and "suite" in value:
            if not isinstance(value["suite"], dict) or len(value) != 1 or "cases" in value["suite"]:
                raise SuiteProblem(
                    'the header line must be {"suite": {...}} alone, without cases', line=number
                )
            header = value["suite"]
            continue
        cases.append(value)
    return header, cases


def _native(sources: Sources, top: dict[str, Any], raw_cases: list[Any]) -> Suite:
    _only_keys(top, _SUITE_KEYS, "suite", line_of(top))
    parts = SuiteParts(sources, system=optional_text(top.get("system"), "system"))
    parts.prompts = _native_prompt(top.get("prompt"))
    defaults = mapping(top.get("defaults"), "defaults")
    _only_keys(defaults, _DEFAULT_KEYS, "defaults", line_of(defaults))
    requests = [_id_request(raw, index) for index, raw in enumerate(raw_cases, 1)]
    ids = assign_ids(requests, parts.warn, "cases with the same input")
    cases = [
        _native_case(raw, identifier, defaults, parts)
        for raw, identifier in zip(raw_cases, ids, strict=True)
    ]
    check_unique_ids(cases)
    if not cases:
        raise SuiteProblem("the suite has no cases")
    model = _model_name(top, "model")
    return Suite(
        name=optional_text(top.get("name"), "name") or sources.path.stem,
        path=str(sources.path.resolve()),
        format="native",
        version=sources.version(),
        description=optional_text(top.get("description"), "description"),
        system=parts.system,
        prompts=parts.prompts,
        params=request_params(top.get("params"), line_of(top)),
        providers=[model] if model else [],
        judge_model=_model_name(top, "judge_model"),
        cases=cases,
        warnings=parts.warnings,
    )


def _model_name(top: dict[str, Any], key: str) -> str | None:
    model = top.get(key)
    if model is not None and (not isinstance(model, str) or not model):
        raise SuiteProblem(f"{key} must be a model name", line=line_of(top))
    return model


def _only_keys(value: dict[str, Any], allowed: set[str], what: str, line: int | None) -> None:
    unknown = [key for key in value if key not in allowed]
    if unknown:
        known = ", ".join(sorted(allowed))
        raise SuiteProblem(f"{unknown[0]!r} is not a {what} key ({known})", line=line)


def _native_prompt(value: Any) -> list[PromptTemplate]:
    if value is None:
        return []
    if isinstance(value, str):
        return [PromptTemplate(id="p1", messages=[MessageTemplate(role="user", content=value)])]
    return [PromptTemplate(id="p1", messages=chat_template(value, "prompt"), chat=True)]


def _id_request(raw: Any, index: int) -> IdRequest:
    """The case's id as written, else the digest of its input as written (its own vars, not
    the defaults': what makes this case this case)."""
    if not isinstance(raw, dict):
        raise SuiteProblem(f"case {index} must be a mapping", line=line_of(raw))
    try:
        written = case_id(raw.get("id"))
    except SuiteProblem as problem:
        raise problem.located(line=line_of(raw)) from None
    if written is not None:
        return IdRequest(written)
    line = line_of(raw)
    return IdRequest(None, "c-", content_digest(_input_of(raw)), f"line {line}" if line else None)


def _input_of(raw: dict[str, Any]) -> dict[str, Any]:
    text = raw.get("input")
    if isinstance(text, str | int | float) and not isinstance(text, bool):
        return {"messages": [{"role": "user", "content": str(text)}]}  # as `messages` says it
    for key in ("messages", "vars"):
        if raw.get(key) is not None:
            return {key: raw[key]}
    return {key: value for key, value in raw.items() if key != "id"}  # refused when built


def _native_case(raw: Any, identifier: str, defaults: dict[str, Any], parts: SuiteParts) -> Case:
    line = line_of(raw)
    try:
        _only_keys(raw, _CASE_KEYS, "case", None)
        fields = _native_fields(raw, defaults, identifier, line)
        raw_assertions = [
            *assertion_list(defaults.get("assert"), "defaults.assert"),
            *assertion_list(raw.get("assert")),
        ]
    except SuiteProblem as problem:
        raise problem.located(line=line, case=identifier) from None
    return build_case(fields, raw_assertions, parts)


def _native_fields(
    raw: dict[str, Any], defaults: dict[str, Any], identifier: str, line: int | None
) -> dict[str, Any]:
    inputs = [key for key in ("input", "messages", "vars") if raw.get(key) is not None]
    if len(inputs) != 1:
        found = " and ".join(inputs) or "none"
        raise SuiteProblem(f"needs exactly one of input, messages or vars (found {found})")
    fields: dict[str, Any] = {"id": identifier, "line": line}
    if "input" in inputs:
        text = optional_text(raw["input"], "input")
        fields["messages"] = [Message(role="user", content=text)]
    elif "messages" in inputs:
        fields["messages"] = chat_messages(raw["messages"])
    else:
        fields["vars"] = _merged(defaults, raw, "vars")
    tags = [*text_list(defaults.get("tags"), "tags"), *text_list(raw.get("tags"), "tags")]
    return {
        **fields,
        "description": optional_text(raw.get("description"), "description"),
        "tags": list(dict.fromkeys(tags)),
        "critical": flag(raw.get("critical"), "critical"),
        "expected": optional_text(raw.get("expected"), "expected"),
        "threshold": raw.get("threshold", defaults.get("threshold")),
        "metadata": _merged(defaults, raw, "metadata"),
    }


def _merged(defaults: dict[str, Any], raw: dict[str, Any], key: str) -> dict[str, Any]:
    return {**mapping(defaults.get(key), f"defaults.{key}"), **mapping(raw.get(key), key)}
