"""The promptfoo features a config uses that tunedeck does not support, found in one pass.

Building a suite stops at the first problem; a config written for promptfoo often uses several
features tunedeck does not have (a hook, scenarios, a `contextTransform`), and a user who mends
one at a time meets the next one only on the next try. `unsupported_features` looks at the
whole config document first (its top-level keys, `defaultTest` and the tests written in it; not
the files it names) and lists them all, each with its lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.evals.checks import refused_assertion
from core.evals.yamlfile import line_of

REFUSED_TOP = {
    "scenarios": "scenarios",
    "extensions": "extensions (hooks)",
    "nunjucksFilters": "custom nunjucks filters",
    "redteam": "red-team configurations",
}
"""Top-level keys of a promptfoo config that tunedeck refuses, and what they are."""

REFUSED_TEST = {
    "prompts": "tests limited to some prompts (prompts:)",
    "provider": "a provider per test (provider:)",
    "providerOutput": "fixed provider outputs (providerOutput:)",
    "assertScoringFunction": "custom scoring functions (assertScoringFunction:)",
}
"""Keys of a test (or of `defaultTest`) that tunedeck refuses, and what they are."""

ACCEPTED_OPTIONS = {"provider", "runSerially", "disableVarExpansion", "transform", "postprocess"}
"""A test's `options` tunedeck reads (or ignores, with a warning); any other is refused."""


def unsupported_features(document: Mapping[str, Any]) -> list[str]:
    """Each unsupported feature the config `document` uses, with the lines it is used on
    (`options.prefix (line 18)`), in order of first use; one entry per feature."""
    found: dict[str, list[int | None]] = {}
    for key in document:
        if key in REFUSED_TOP:
            found.setdefault(f"{REFUSED_TOP[key]} ({key}:)", []).append(None)
    tests = document.get("tests")
    written = [document.get("defaultTest"), *(tests if isinstance(tests, list) else [])]
    for test in written:
        if isinstance(test, Mapping):
            for feature, line in _test_features(test):
                found.setdefault(feature, []).append(line)
    return [feature + _lines(lines) for feature, lines in found.items()]


def _test_features(test: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    line = line_of(test)
    features = [(REFUSED_TEST[key], line) for key in test if key in REFUSED_TEST]
    options = test.get("options")
    if isinstance(options, Mapping):
        where = line_of(options) or line
        features += [(f"options.{key}", where) for key in options if key not in ACCEPTED_OPTIONS]
    assertions = test.get("assert")
    for raw in assertions if isinstance(assertions, list) else []:
        reason = refused_assertion(raw)
        if reason is not None:
            features.append((reason, line_of(raw) or line))
    return features


def _lines(lines: list[int | None]) -> str:
    known = sorted({line for line in lines if line is not None})
    if not known:
        return ""
    return f" (line{'s' if len(known) > 1 else ''} {', '.join(str(n) for n in known)})"
