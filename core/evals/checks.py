"""Validate and normalise assertions when a suite loads, so a bad one never reaches a run.

Every type checks its value and options here: a regex is compiled, a JSON Schema is checked, a
custom scorer is loaded. String values (and the strings of list values) are rendered with the
case's vars first, as promptfoo does (`value: "{{answer}}"`).
"""

from __future__ import annotations

import contextlib
import csv
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import regex
import yaml

from core.evals import custom, javascript, transforms
from core.evals.jsontools import parse_path
from core.evals.scorers import compiled_regex
from core.evals.sources import Sources, SuiteProblem
from core.evals.suite import Assertion
from core.evals.template import TemplateError, has_placeholders, render

_KEYS = {
    "type", "value", "threshold", "weight", "metric", "options", "config", "provider", "transform",
}  # fmt: skip
_REFUSED_KEYS = {
    "contextTransform": "assertion context transforms",
    "rubricPrompt": "custom rubric prompts",
}
_PROMPTFOO_ONLY_TYPES = {
    "webhook", "assert-set", "select-best", "max-score", "levenshtein", "rouge-n",
    "bleu", "gleu", "meteor", "perplexity", "perplexity-score", "classifier", "moderation",
    "factuality", "model-graded-closedqa", "model-graded-factuality", "answer-relevance",
    "context-faithfulness", "context-recall", "context-relevance", "g-eval", "is-sql",
    "contains-sql", "is-xml", "contains-xml", "is-html", "contains-html", "ends-with",
    "is-valid-openai-tools-call", "is-valid-openai-function-call", "is-refusal", "pi",
    "trace-span-count", "finish-reason", "cost-per-token", "word-count", "ruby",
}  # fmt: skip
_LIST_TYPES = {"contains-any", "contains-all", "icontains-any", "icontains-all"}
_TEXT_TYPES = {"contains", "icontains", "starts-with"}
_EQUALS_OPTIONS = {"ignore_case", "ignore_whitespace", "ignore_punctuation"}


@dataclass(frozen=True)
class AssertionContext:
    """What an assertion is checked against: the case's vars and expected answer, the files,
    and the transform its test applies to the answer first (normalised), if any."""

    sources: Sources
    variables: Mapping[str, Any]
    expected: str | None
    warn: Callable[[str], None]
    test_transform: str | None = None


def build_assertion(raw: Any, context: AssertionContext) -> Assertion:
    """Validate one assertion as written in a suite and return it normalised.

    Raises:
        SuiteProblem: the reason, naming the assertion's type.
    """
    if isinstance(raw, str):
        raise SuiteProblem(f"assertion {raw!r} must be a mapping with a type (type: {raw})")
    if not isinstance(raw, Mapping):
        raise SuiteProblem("each assertion must be a mapping with a type")
    refused = refused_assertion(raw)
    if refused is not None:
        raise SuiteProblem(refused)
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise SuiteProblem("an assertion has no type")
    base = kind.removeprefix("not-")
    check = _CHECKS.get(base)
    if check is None:
        raise SuiteProblem(_unknown_type(kind, base))
    _check_keys(raw, kind, context)
    try:
        fields = _common_fields(raw, kind)
        value = _render_value(raw.get("value"), context.variables) if "value" in raw else None
        fields["value"] = check(value, "value" in raw, fields, context)
        if "transform" in raw:
            fields["transform"] = transforms.normalise(
                raw["transform"], context.sources, transforms.OWN_TRANSFORM
            )
        return Assertion(type=kind, test_transform=context.test_transform, **fields)
    except SuiteProblem as problem:
        # A problem in a file the assertion reads is told at the assertion, naming that file.
        reason = f"{problem.file}: {problem.reason}" if problem.file else problem.reason
        raise SuiteProblem(f"{kind}: {reason}") from None


def refused_assertion(raw: Any) -> str | None:
    """Why an assertion as written uses a promptfoo feature tunedeck does not support (a
    promptfoo-only type, a context transform, a `$ref` left where none is expanded), None when
    it does not (`build_assertion` finds any other problem)."""
    if not isinstance(raw, Mapping):
        return None
    if "$ref" in raw:  # a promptfoo config's own tests have theirs expanded first
        return (
            "assertion templates ($ref:) are supported only in the tests and defaultTest"
            " written in a promptfoo config"
        )
    kind = raw.get("type")
    base = kind.removeprefix("not-") if isinstance(kind, str) else ""
    if base in _PROMPTFOO_ONLY_TYPES and base not in _CHECKS:
        return f"promptfoo assertion type {kind!r} is not supported by tunedeck"
    for key in raw:
        if key in _REFUSED_KEYS:
            return f"{kind}: {_REFUSED_KEYS[key]} ({key}:) are not supported"
    return None


def supported_types() -> list[str]:
    """The assertion types tunedeck scores (each also accepts a `not-` prefix)."""
    return sorted(_CHECKS)


def _unknown_type(kind: str, base: str) -> str:
    names = ", ".join(supported_types())
    return f"unknown assertion type {kind!r} (supported: {names})"


def _check_keys(raw: Mapping[str, Any], kind: str, context: AssertionContext) -> None:
    for key in raw:
        if key not in _KEYS:
            raise SuiteProblem(
                f"{kind}: {key!r} is not an assertion key ({', '.join(sorted(_KEYS))})"
            )
    if "provider" in raw:
        context.warn(f"{kind}: provider ignored, tunedeck's judge model grades every rubric")


def _common_fields(raw: Mapping[str, Any], kind: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in ("threshold", "weight"):
        if raw.get(key) is not None:
            fields[key] = _number(raw[key], key)
    if fields.get("weight", 0) < 0:
        raise SuiteProblem("weight must be 0 or more")
    if raw.get("metric") is not None:
        fields["metric"] = str(raw["metric"])
    options = raw.get("options") or {}
    if not isinstance(options, Mapping):
        raise SuiteProblem("options must be a mapping")
    fields["options"] = dict(options)
    if raw.get("config") is not None:
        fields["options"]["config"] = raw["config"]
    return fields


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SuiteProblem(f"{name} must be a number")
    try:
        number = float(value)
    except ValueError:
        raise SuiteProblem(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise SuiteProblem(f"{name} must be a finite number")
    return number


def _render_value(value: Any, variables: Mapping[str, Any]) -> Any:
    try:
        if isinstance(value, str) and has_placeholders(value):
            return render(value, variables)
        if isinstance(value, list):
            return [_render_value(item, variables) for item in value]
    except TemplateError as error:
        raise SuiteProblem(f"value: {error}") from None
    return value


def _only_options(fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(fields["options"]) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise SuiteProblem(f"unknown option {unknown[0]!r} (options: {known})")


def _check_equals(value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext) -> Any:
    _only_options(fields, _EQUALS_OPTIONS)
    for name, flag in fields["options"].items():
        if not isinstance(flag, bool):
            raise SuiteProblem(f"option {name} must be true or false")
    if not given:
        if ctx.expected is None:
            raise SuiteProblem("needs a value (or the case's expected answer)")
        return ctx.expected
    if isinstance(value, dict | list):
        return value
    if value is None:
        raise SuiteProblem("value must not be empty")
    return value if isinstance(value, str) else _scalar_text(value)


def _check_text(value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext) -> Any:
    _only_options(fields, set())
    if not isinstance(value, str | int | float) or isinstance(value, bool) or value == "":
        raise SuiteProblem("needs a text value")
    return _scalar_text(value)


def _check_list(value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext) -> Any:
    _only_options(fields, set())
    if isinstance(value, str):
        value = next(csv.reader([value], skipinitialspace=True), [])
    if not isinstance(value, list) or not value:
        raise SuiteProblem("needs a list of texts (or one comma-separated text)")
    items = []
    for item in value:
        if not isinstance(item, str | int | float) or isinstance(item, bool) or item == "":
            raise SuiteProblem("every item must be a non-empty text")
        items.append(_scalar_text(item))
    return items


def _scalar_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_regex(value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext) -> Any:
    _only_options(fields, set())
    if not isinstance(value, str) or not value:
        raise SuiteProblem("needs a pattern")
    try:
        compiled_regex(value)
    except (regex.error, ValueError, OverflowError, RecursionError) as error:
        raise SuiteProblem(f"bad regex {value!r}: {error}") from None
    return value


def _check_json(value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext) -> Any:
    _only_options(fields, set())
    if value is None or value == "":
        return None
    schema = _load_schema(value, ctx) if isinstance(value, str) else value
    if not isinstance(schema, dict):
        raise SuiteProblem("the value must be a JSON Schema (a mapping)")
    from jsonschema import exceptions as schema_errors  # ~0.1 s to import: only when used
    from jsonschema import validators

    try:
        validators.validator_for(schema).check_schema(schema)
    except schema_errors.SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "top level"
        raise SuiteProblem(f"bad JSON schema at {where}: {error.message}") from None
    except Exception as error:  # e.g. an unknown $schema dialect
        raise SuiteProblem(f"bad JSON schema: {error}") from None
    return schema


def _load_schema(value: str, ctx: AssertionContext) -> Any:
    text, name = value, "value"
    if value.startswith("file://"):
        path = ctx.sources.resolve(value)
        text, name = ctx.sources.read_text(path), ctx.sources.name_of(path)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SuiteProblem(f"the schema in {name} is not YAML or JSON: {error}") from None


def _check_field(value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext) -> Any:
    _only_options(fields, {"path"})
    path = fields["options"].get("path")
    if not isinstance(path, str):
        raise SuiteProblem("needs options.path, the field to read (like answer.city)")
    try:
        parse_path(path)
    except ValueError as error:
        raise SuiteProblem(f"options.path: {error}") from None
    if not given:
        raise SuiteProblem("needs the value the field must equal")
    return value


def _check_numeric(value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext) -> Any:
    _only_options(fields, {"tolerance"})
    tolerance = fields["options"].get("tolerance", 0)
    if _number(tolerance, "options.tolerance") < 0:
        raise SuiteProblem("options.tolerance must be 0 or more")
    return _number(value, "value")


def _check_similar(value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext) -> Any:
    _only_options(fields, set())
    threshold = fields.setdefault("threshold", 0.8)
    if not 0 < threshold <= 1:
        raise SuiteProblem("threshold must be above 0 and at most 1")
    if not given:
        if ctx.expected is None:
            raise SuiteProblem("needs a value (or the case's expected answer)")
        return ctx.expected
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(item, str) for item in values):
        raise SuiteProblem("needs a text or a list of texts")
    return value


def _check_ceiling(value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext) -> Any:
    _only_options(fields, set())
    if given:
        raise SuiteProblem("takes its ceiling as threshold, not value")
    if "threshold" not in fields:
        raise SuiteProblem("needs a threshold (milliseconds for latency, USD for cost)")
    if fields["threshold"] < 0:
        raise SuiteProblem("threshold must be 0 or more")
    return None


def _check_rubric(value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext) -> Any:
    _only_options(fields, set())
    if not isinstance(value, str) or not value.strip():
        raise SuiteProblem("needs the rubric as its value")
    threshold = fields.get("threshold")
    if threshold is not None and not 0 <= threshold <= 1:
        raise SuiteProblem("threshold must be between 0 and 1")
    return value


def _check_python(value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext) -> Any:
    _only_options(fields, {"config"})
    if not isinstance(value, str) or not value.strip():
        raise SuiteProblem("needs a value: package.module:function, file://x.py[:function] or code")
    reference = custom.normalise_reference(value.strip(), ctx.sources.resolve)
    path = None
    if reference.startswith("file://"):
        path = ctx.sources.resolve(reference.rpartition(":")[0])
    content = None
    if path is not None:  # read once a load, however many cases name it
        with contextlib.suppress(SuiteProblem):  # told as loading it tells it, below
            content = ctx.sources.read_bytes(path)
    custom.load_scorer(reference, reload_changed=True, content=content)
    if path is not None:  # its code is part of the suite's version
        ctx.sources.read_bytes(path)
    return reference


def _check_javascript(
    value: Any, given: bool, fields: dict[str, Any], ctx: AssertionContext
) -> Any:
    _only_options(fields, {"config"})
    if not isinstance(value, str) or not value.strip():
        raise SuiteProblem("needs a value: a JavaScript expression, function body or file://x.js")
    reference = javascript.normalise_reference(value.strip(), ctx.sources.resolve)
    scorer_file = javascript.file_of(reference)
    content = None
    if scorer_file is not None:  # its code is part of the suite's version
        content = ctx.sources.read_bytes(scorer_file)
    javascript.check(reference, content)
    return reference


_Check = Callable[[Any, bool, dict[str, Any], AssertionContext], Any]
_CHECKS: dict[str, _Check] = {
    "equals": _check_equals,
    **dict.fromkeys(_TEXT_TYPES, _check_text),
    **dict.fromkeys(_LIST_TYPES, _check_list),
    "regex": _check_regex,
    "is-json": _check_json,
    "contains-json": _check_json,
    "json-field": _check_field,
    "numeric": _check_numeric,
    "similar": _check_similar,
    "latency": _check_ceiling,
    "cost": _check_ceiling,
    "llm-rubric": _check_rubric,
    "python": _check_python,
    "javascript": _check_javascript,
}
