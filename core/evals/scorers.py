"""Deterministic scorers: each checks one answer against one assertion, offline.

Each returns a `Score` for the positive form of its type; `core.evals.scoring` applies `not-`.
Reasons state the fact found ("output contains \"Paris\""), so they read right either way.

| type                 | passes when                                        | score          |
|----------------------|----------------------------------------------------|----------------|
| equals               | the output equals value (or expected); a mapping   | 1 or 0         |
|                      | or list value is compared as JSON. Options:        |                |
|                      | ignore_case, ignore_whitespace (all whitespace     |                |
|                      | removed), ignore_punctuation (Unicode punctuation) |                |
| contains, icontains  | the output contains value (icontains: any case)    | 1 or 0         |
| (i)contains-any/all  | it contains one / all of the values                | 1 or 0         |
| starts-with          | it starts with value                               | 1 or 0         |
| regex                | the pattern is found (a search, not a full match;  | 1 or 0         |
|                      | stopped after REGEX_TIMEOUT_S)                     |                |
| is-json              | the whole output is JSON (and meets the schema)    | 1 or 0         |
| contains-json        | a JSON object or array inside it (meets the schema)| 1 or 0         |
| json-field           | the JSON's field at options.path equals value      | 1 or 0         |
| numeric              | the output's number is within options.tolerance    | 1 or 0         |
| similar              | fuzzy ratio >= threshold (default 0.8)             | the best ratio |
| latency, cost        | at most threshold (ms, USD)                        | 1 or 0         |

`similar` is not promptfoo's: promptfoo compares embeddings, which need a model; tunedeck uses
rapidfuzz's normalised Indel ratio of the two texts (lower-cased, punctuation and extra spaces
removed), offline and deterministic. Texts longer than SIMILAR_MAX_CHARS are compared on their
first SIMILAR_MAX_CHARS characters (the reason says so).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import regex
from rapidfuzz import fuzz, utils

from core.evals.jsontools import (
    NotJson,
    follow_path,
    json_values_in,
    parse_json,
    parse_path,
    same_json,
)
from core.evals.suite import Assertion

REGEX_TIMEOUT_S = 0.5
"""A user's regex that runs longer than this on one answer fails the assertion."""
SIMILAR_MAX_CHARS = 20_000
"""`similar` compares at most this many characters of each text (the ratio is quadratic)."""

_PUNCTUATION = regex.compile(r"\p{P}+")
_WHITESPACE = re.compile(r"\s+")
_NUMBER = re.compile(
    r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+(?:[eE][-+]?\d+)?"
)


@dataclass(frozen=True, slots=True)
class Score:
    """The verdict of one assertion on one answer: pass/fail, a score 0..1 and why."""

    passed: bool
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class Output:
    """A model's answer to a case, as scorers see it.

    Attributes:
        text: the answer (empty when the call failed).
        latency_ms: time the call took, None when unknown.
        cost_usd: what the call cost, None when the model is not priced.
        error: why the call failed, None when it did not.
        prompt: the prompt as sent, as promptfoo gives it to scripts (`context.prompt`): one
            message's text, else the messages as JSON; None when no script asks for it.
    """

    text: str
    latency_ms: float | None = None
    cost_usd: float | None = None
    error: str | None = None
    prompt: str | None = None


def verdict(passed: bool, reason: str) -> Score:
    """A pass/fail score: 1 or 0."""
    return Score(passed, 1.0 if passed else 0.0, reason)


_INVISIBLE = {
    **{code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F]},
    ord("\n"): "\\n",
    **{code: f"\\u{code:04x}" for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]},
}
"""Control characters and bidirectional overrides, shown escaped: a quoted answer stays one
line and cannot reorder or hide the terminal's text around it."""


def quote(text: str, limit: int = 60) -> str:
    """`text` in double quotes for a reason line, shortened to `limit` characters, its
    control characters shown escaped (`\\n`, `\\x1b`, `\\u202e`)."""
    text = text[: limit + 1].translate(_INVISIBLE)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return '"' + text + '"'


def score_equals(assertion: Assertion, output: Output) -> Score:
    """`equals`: exact (or normalised) equality, or JSON equality for a mapping/list value."""
    value = assertion.value
    if isinstance(value, dict | list):
        try:
            parsed = parse_json(output.text)
        except NotJson as error:
            return verdict(False, f"output is not JSON ({error})")
        same = same_json(parsed, value)
        return verdict(same, "output JSON equals the value" if same else "output JSON differs")
    expected, actual = (
        _normalised(value, assertion.options),
        _normalised(output.text, assertion.options),
    )
    if expected == actual:
        return verdict(True, f"output equals {quote(value)}")
    return verdict(
        False,
        f"output {quote(output.text)} differs from {quote(value)}"
        + _first_difference(actual, expected),
    )


def _normalised(text: str, options: dict[str, Any]) -> str:
    if options.get("ignore_punctuation"):
        text = _PUNCTUATION.sub("", text)
    if options.get("ignore_whitespace"):
        text = _WHITESPACE.sub("", text)
    if options.get("ignore_case"):
        text = text.casefold()
    return text


def _first_difference(actual: str, expected: str) -> str:
    for index, (left, right) in enumerate(zip(actual, expected, strict=False)):
        if left != right:
            return f" at character {index + 1}"
    return f" (length {len(actual)}, expected {len(expected)})"


def score_contains(assertion: Assertion, output: Output) -> Score:
    """`contains` / `icontains`: a substring, case-sensitive or not."""
    text, value = output.text, assertion.value
    if assertion.base_type == "icontains":
        text, value = text.casefold(), value.casefold()
    found = value in text
    return verdict(
        found, f"output {'contains' if found else 'does not contain'} {quote(assertion.value)}"
    )


def score_contains_some(assertion: Assertion, output: Output) -> Score:
    """`contains-any`, `contains-all` and their case-insensitive `icontains-` forms."""
    caseless = assertion.base_type.startswith("i")
    text = output.text.casefold() if caseless else output.text
    values: list[str] = assertion.value
    found = [v for v in values if (v.casefold() if caseless else v) in text]
    missing = [v for v in values if v not in found]
    if assertion.base_type.endswith("-any"):
        if found:
            return verdict(True, f"output contains {quote(found[0])}")
        return verdict(False, f"output contains none of {_listed(values)}")
    if not missing:
        return verdict(True, f"output contains all of {_listed(values)}")
    return verdict(False, f"output lacks {_listed(missing)}")


def _listed(values: list[str]) -> str:
    shown = ", ".join(quote(value, 30) for value in values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def score_starts_with(assertion: Assertion, output: Output) -> Score:
    """`starts-with`: the output begins with the value (exactly, leading spaces count)."""
    found = output.text.startswith(assertion.value)
    start = quote(output.text[: max(len(assertion.value), 20)])
    return verdict(
        found,
        f"output {'starts' if found else 'does not start'} with {quote(assertion.value)}"
        + ("" if found else f" (starts {start})"),
    )


def score_regex(assertion: Assertion, output: Output) -> Score:
    """`regex`: the pattern is found anywhere in the output."""
    try:
        found = compiled_regex(assertion.value).search(output.text, timeout=REGEX_TIMEOUT_S)
    except TimeoutError:
        return verdict(
            False, f"regex gave up after {REGEX_TIMEOUT_S} s on {len(output.text):,} characters"
        )
    if found is None:
        return verdict(False, f"regex {quote(assertion.value)} not found")
    return verdict(True, f"regex found {quote(found.group(0))}")


@functools.lru_cache(maxsize=1024)
def compiled_regex(pattern: str) -> regex.Pattern[str]:
    """A user's pattern compiled once (the `regex` module: Python's syntax, plus timeouts).

    Raises:
        regex.error: the pattern is invalid.
    """
    return regex.compile(pattern)


def score_is_json(assertion: Assertion, output: Output) -> Score:
    """`is-json`: the whole output parses as JSON, and meets the schema when there is one."""
    try:
        value = parse_json(output.text)
    except NotJson as error:
        return verdict(False, f"output is not JSON ({error})")
    if assertion.value is None:
        return verdict(True, "output is JSON")
    problem = schema_problem(assertion.value, value)
    return verdict(problem is None, problem or "output is JSON that meets the schema")


def score_contains_json(assertion: Assertion, output: Output) -> Score:
    """`contains-json`: a JSON object or array inside the output (meeting the schema if any)."""
    problem = None
    for value in json_values_in(output.text):
        if assertion.value is None:
            return verdict(True, "output contains JSON")
        problem = schema_problem(assertion.value, value)
        if problem is None:
            return verdict(True, "output contains JSON that meets the schema")
    return verdict(False, problem or "output contains no JSON object or array")


def schema_problem(schema: Any, value: Any) -> str | None:
    """Why `value` does not meet the JSON Schema `schema`, or None when it does."""
    from jsonschema import exceptions as schema_errors  # ~0.1 s to import: only when used

    try:
        error = schema_errors.best_match(_validator(schema).iter_errors(value))
    except Exception as failure:  # an unresolvable $ref surfaces only while validating
        return f"the schema cannot be applied ({type(failure).__name__}: {failure})"
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "top level"
    return f"JSON does not meet the schema at {where}: {error.message[:200]}"


_VALIDATORS: dict[int, tuple[Any, Any]] = {}
"""Validators by the id of their schema object, with the schema (kept alive, so the id stays
its own): an assertion's schema is one object, checked against every answer to it."""
_VALIDATORS_KEPT = 256


def _validator(schema: Any) -> Any:
    """The validator of the JSON Schema `schema`, made once for each schema object, not once
    for each answer: a validator made anew (and its first validation) cost ~30 us more than
    one reused, about 40% of checking an answer against a small schema."""
    from jsonschema import validators

    kept = _VALIDATORS.get(id(schema))
    if kept is not None and kept[0] is schema:
        return kept[1]
    validator = validators.validator_for(schema)(schema)
    if len(_VALIDATORS) >= _VALIDATORS_KEPT:
        _VALIDATORS.clear()
    _VALIDATORS[id(schema)] = (schema, validator)
    return validator


def score_json_field(assertion: Assertion, output: Output) -> Score:
    """`json-field`: the field at options.path of the output's JSON equals the value."""
    path = assertion.options["path"]
    document = _first_json(output.text)
    if document is None:
        return verdict(False, "output contains no JSON")
    try:
        found = follow_path(document, parse_path(path))
    except KeyError as missing:
        return verdict(False, f"JSON has no field {missing.args[0]}")
    same = same_json(found, assertion.value)
    shown = _compact(found)
    return verdict(
        same, f"{path} is {shown}" + ("" if same else f", not {_compact(assertion.value)}")
    )


def _first_json(text: str) -> Any:
    try:
        return parse_json(text)
    except NotJson:
        return next(json_values_in(text), None)


def _compact(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def score_numeric(assertion: Assertion, output: Output) -> Score:
    """`numeric`: the output's number is within options.tolerance (absolute) of the value.

    The output is read as a number; when it is more than a number, its last number is used
    (`The answer is 42.` reads 42). Thousands separators (`1,234`) are understood.
    """
    number = number_in(output.text)
    if number is None:
        return verdict(False, "output holds no number")
    tolerance = float(assertion.options.get("tolerance", 0))
    expected = float(assertion.value)
    close = math.isclose(number, expected, rel_tol=1e-9, abs_tol=tolerance)
    return verdict(
        close,
        f"output number {number:g} is {'' if close else 'not '}"
        f"within {tolerance:g} of {expected:g}",
    )


def number_in(text: str) -> float | None:
    """The number an answer gives: the whole text if it is one, else its last number."""
    stripped = text.strip().rstrip(".")
    if _NUMBER.fullmatch(stripped):
        candidate = stripped
    else:
        last = deque(_NUMBER.finditer(text), maxlen=1)
        if not last:
            return None
        candidate = last[0].group(0)
    number = float(candidate.replace(",", ""))
    return number if math.isfinite(number) else None


def score_similar(assertion: Assertion, output: Output) -> Score:
    """`similar`: the best fuzzy ratio between the output and the value(s) reaches threshold."""
    values = assertion.value if isinstance(assertion.value, list) else [assertion.value]
    threshold = assertion.threshold if assertion.threshold is not None else 0.8
    text = _similar_text(output.text)
    best, best_value = 0.0, values[0]
    for value in values:
        ratio = fuzz.ratio(text, _similar_text(value)) / 100
        if ratio > best:
            best, best_value = ratio, value
    cut = " (first 20,000 characters compared)" if len(output.text) > SIMILAR_MAX_CHARS else ""
    relation = ">=" if best >= threshold else "<"
    return Score(
        best >= threshold,
        best,
        f"similarity {best:.2f} {relation} {threshold:g} to {quote(best_value, 40)}{cut}",
    )


def _similar_text(text: str) -> str:
    return str(utils.default_process(text[:SIMILAR_MAX_CHARS]))


def score_latency(assertion: Assertion, output: Output) -> Score:
    """`latency`: the call took at most threshold milliseconds."""
    ceiling = assertion.threshold or 0.0
    if output.latency_ms is None:
        return verdict(False, "latency unknown")
    within = output.latency_ms <= ceiling
    return verdict(
        within, f"latency {output.latency_ms:.0f} ms {'<=' if within else '>'} {ceiling:g} ms"
    )


def score_cost(assertion: Assertion, output: Output) -> Score:
    """`cost`: the call cost at most threshold USD."""
    ceiling = assertion.threshold or 0.0
    if output.cost_usd is None:
        return verdict(False, "cost unknown (the model has no known price)")
    within = output.cost_usd <= ceiling
    return verdict(within, f"cost ${output.cost_usd:.6f} {'<=' if within else '>'} ${ceiling:g}")


Scorer = Callable[[Assertion, Output], Score]
DETERMINISTIC: dict[str, Scorer] = {
    "equals": score_equals,
    "contains": score_contains,
    "icontains": score_contains,
    "contains-any": score_contains_some,
    "contains-all": score_contains_some,
    "icontains-any": score_contains_some,
    "icontains-all": score_contains_some,
    "starts-with": score_starts_with,
    "regex": score_regex,
    "is-json": score_is_json,
    "contains-json": score_contains_json,
    "json-field": score_json_field,
    "numeric": score_numeric,
    "similar": score_similar,
    "latency": score_latency,
    "cost": score_cost,
}
"""Scorers that need neither a judge model nor user code, by base type."""
