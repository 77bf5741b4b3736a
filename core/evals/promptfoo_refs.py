"""promptfoo's assertion templates: `$ref: '#/assertionTemplates/name'` in an `assert:` list.

promptfoo dereferences its config as a JSON Schema document (json-schema-ref-parser) before it
reads it: an assertion written `{$ref: '#/assertionTemplates/containsPirateNoise'}` becomes the
mapping that JSON pointer names in the config (usually under the top-level
`assertionTemplates:`), and keys written next to the `$ref` override the template's. tunedeck
expands the `$ref`s of the assertions written in the config itself (its tests and
`defaultTest`), which is where promptfoo resolves them; a pointer that names nothing, or a
reference to another file, is refused with the line of the `$ref`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from core.evals.sources import SuiteProblem
from core.evals.yamlfile import Located, line_of

_MAX_DEPTH = 32
"""A template that refers to a template, and so on, deeper than this is taken as a cycle."""


def expand_assertion_refs(document: Mapping[str, Any]) -> dict[str, Any]:
    """`document` with each `$ref` assertion of its tests and `defaultTest` replaced by the
    assertion it points to (the rest of the document is shared, not copied).

    Raises:
        SuiteProblem: a `$ref` that is not a local JSON pointer (`#/...`), names nothing, or
            names something that is not a mapping; with the line of the `$ref`.
    """
    expanded = dict(document)
    default = document.get("defaultTest")
    if isinstance(default, Mapping):
        expanded["defaultTest"] = _test(default, document)
    tests = document.get("tests")
    if isinstance(tests, list):
        expanded["tests"] = [
            _test(test, document) if isinstance(test, Mapping) else test for test in tests
        ]
    return expanded


def _test(test: Mapping[str, Any], document: Mapping[str, Any]) -> Mapping[str, Any]:
    assertions = test.get("assert")
    if not isinstance(assertions, list) or not any(_is_ref(item) for item in assertions):
        return test
    copy = _located(test, line_of(test))
    copy["assert"] = [_resolved(item, document) if _is_ref(item) else item for item in assertions]
    return copy


def _is_ref(item: Any) -> bool:
    return isinstance(item, Mapping) and "$ref" in item


def _resolved(item: Mapping[str, Any], document: Mapping[str, Any], depth: int = 0) -> Any:
    """The assertion a `$ref` item stands for, its own other keys over the template's."""
    line = line_of(item)
    if depth > _MAX_DEPTH:
        raise SuiteProblem(f"$ref {item['$ref']!r}: templates refer to each other in a cycle")
    target = _pointed(item["$ref"], document, line)
    if _is_ref(target):
        target = _resolved(target, document, depth + 1)
    if not isinstance(target, Mapping):
        raise SuiteProblem(
            f"$ref {item['$ref']!r} names a {type(target).__name__}, not an assertion", line=line
        )
    merged = _located(target, line)  # problems in it are told where it is used
    merged.update((key, value) for key, value in item.items() if key != "$ref")
    return merged


def _pointed(reference: Any, document: Mapping[str, Any], line: int | None) -> Any:
    """What the local JSON pointer `reference` (`#/assertionTemplates/name`) names."""
    if not isinstance(reference, str) or not reference.startswith("#/"):
        raise SuiteProblem(
            f"$ref {reference!r}: only a pointer into the config itself is supported, like"
            " '#/assertionTemplates/name'",
            line=line,
        )
    value: Any = document
    for part in reference[2:].split("/"):
        key = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            raise SuiteProblem(f"$ref {reference!r}: {_missing(reference, document)}", line=line)
    return value


def _missing(reference: str, document: Mapping[str, Any]) -> str:
    templates = document.get("assertionTemplates")
    if reference.startswith("#/assertionTemplates/") and isinstance(templates, Mapping):
        names = ", ".join(sorted(str(name) for name in templates)) or "none"
        return f"no such assertion template (assertionTemplates: {names})"
    if reference.startswith("#/assertionTemplates/"):
        return "the config has no assertionTemplates:"
    return "names nothing in the config"


def _located(mapping: Mapping[str, Any], line: int | None) -> Located:
    copy = Located(mapping)
    copy.line = line
    return copy
