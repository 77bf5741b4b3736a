"""Helpers for the eval tests: build assertions and cases the way a suite file would."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from core.evals.checks import AssertionContext, build_assertion
from core.evals.judge import Judge
from core.evals.scorers import Output
from core.evals.scoring import AssertionScore, CaseScore, score_assertion, score_case
from core.evals.sources import Sources
from core.evals.suite import Assertion, Case


def assertion(
    raw: dict[str, Any],
    *,
    variables: dict[str, Any] | None = None,
    expected: str | None = None,
    base: Path | None = None,
) -> Assertion:
    """Validate `raw` as the loader does, for a suite in `base` (default: this folder)."""
    suite_file = Path(__file__)
    if base is not None:
        suite_file = base / "suite.yaml"
        suite_file.touch()
    sources = Sources(suite_file)
    context = AssertionContext(sources, variables or {}, expected, lambda _: None)
    return build_assertion(raw, context)


def check(raw: dict[str, Any], text: str, **output: Any) -> AssertionScore:
    """Score `text` against the assertion `raw`."""
    case = Case(id="c1")
    return asyncio.run(score_assertion(assertion(raw), Output(text, **output), case))


def score(case: Case, output: Output, judge: Judge | None = None) -> CaseScore:
    """score_case, run to completion."""
    return asyncio.run(score_case(case, output, judge))
