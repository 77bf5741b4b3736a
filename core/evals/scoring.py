"""Score a case's answer: every assertion, then the case's pass/fail and weighted score.

A case passes when all its assertions pass; when it has a (promptfoo) `threshold`, it passes
when its weighted mean score reaches the threshold instead, as in promptfoo. A case with no
assertions passes with score 1. An answer that is an error fails every assertion, and the case
is `errored`; so is a case whose judge could not be reached, or whose transform threw or
returned nothing (as promptfoo makes it an error). Scoring never raises for an odd answer: a
failing custom scorer is a failed assertion with the exception in its reason. The reason of a
script (`python`, `javascript`, a transform) is cut at `SCRIPT_REASON_MAX_CHARS`.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from core.evals import custom, javascript
from core.evals.judge import Judge, UnreadableVerdict, score_rubric
from core.evals.scorers import DETERMINISTIC, Output, Score
from core.evals.suite import Assertion, Case
from core.evals.transforms import OutputViews, TransformFailed, View
from core.evals.user_threads import run_in_daemon_thread

SCRIPT_REASON_MAX_CHARS = 2000
"""The longest reason a script gives that is kept (stored once per case and run)."""
_SCRIPT_TYPES = frozenset({"python", "javascript"})


@dataclass(frozen=True, slots=True)
class AssertionScore:
    """The result of one assertion on one answer, with the assertion it belongs to."""

    type: str
    passed: bool
    score: float
    reason: str
    weight: float = 1.0
    metric: str | None = None
    error: bool = False
    """The assertion could not be judged (no answer, judge unreachable)."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for storage and `--json`)."""
        # Written out: dataclasses.asdict deep-copies every field (~4x slower, once per answer).
        return {
            "type": self.type,
            "passed": self.passed,
            "score": self.score,
            "reason": self.reason,
            "weight": self.weight,
            "metric": self.metric,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class CaseScore:
    """The verdict on one answer to one case."""

    passed: bool
    score: float
    """Weighted mean of the assertions' scores, 0..1."""
    assertions: tuple[AssertionScore, ...]
    errored: bool = False
    """No answer to judge, or the judge could not be reached: not a real failure."""

    @property
    def reasons(self) -> list[str]:
        """`type: reason` of each failed assertion, in order."""
        return [f"{item.type}: {item.reason}" for item in self.assertions if not item.passed]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for storage and `--json`)."""
        return {
            "passed": self.passed,
            "score": self.score,
            "errored": self.errored,
            "assertions": [item.as_dict() for item in self.assertions],
        }


async def score_case(case: Case, output: Output, judge: Judge | None = None) -> CaseScore:
    """Score `output`, the answer to `case`.

    Args:
        case: the case, from a loaded suite.
        output: the answer, its latency and cost, or its error.
        judge: grades `llm-rubric` assertions; without one they fail (and the case errors).
    """
    if output.error is not None:
        reason = f"no answer: {output.error}"
        failed = tuple(
            _result(item, Score(False, 0.0, reason), error=True) for item in case.assertions
        )
        return CaseScore(False, 0.0, failed, errored=True)
    # Deterministic assertions are scored without a coroutine each (a cached re-run scores
    # thousands of answers in a row); the transforms' views are made only when one is needed.
    results: list[AssertionScore] = []
    views: OutputViews | None = None
    for item in case.assertions:
        if not _transformed(item):
            results.append(
                _deterministic(item, output)
                if item.base_type in DETERMINISTIC
                else await score_assertion(item, output, case, judge)
            )
            continue
        views = views or OutputViews(output.text, case.vars, output.prompt)
        results.append(await score_assertion(item, output, case, judge, views))
    return _combine(case, tuple(results))


async def score_assertion(
    assertion: Assertion,
    output: Output,
    case: Case,
    judge: Judge | None = None,
    views: OutputViews | None = None,
) -> AssertionScore:
    """Score one assertion, `not-` applied, on the output its transforms make of the answer
    (`views` runs each transform once for all the assertions of one answer). Never raises
    for an answer, a transform's or a scorer's error."""
    if not _transformed(assertion):
        return await _score(assertion, output, case, judge, None)
    try:
        view = await (views or OutputViews(output.text, case.vars, output.prompt)).view(
            assertion.test_transform, assertion.transform
        )
    except TransformFailed as failed:  # no output to judge: an error, as in promptfoo
        return _result(assertion, Score(False, 0.0, str(failed)), error=True)
    scored = await _score(assertion, replace(output, text=view.text), case, judge, view)
    return replace(scored, reason=f"{scored.reason} (on the transformed output)")


def _transformed(assertion: Assertion) -> bool:
    return assertion.test_transform is not None or assertion.transform is not None


async def _score(
    assertion: Assertion, output: Output, case: Case, judge: Judge | None, view: View | None
) -> AssertionScore:
    base = assertion.base_type
    if base in DETERMINISTIC:
        return _deterministic(assertion, output)
    error = False
    structured = view is not None and view.structured
    try:
        if base == "llm-rubric":
            score, error = await _rubric(assertion, output, judge)
        elif base == "python":
            value = view.value() if view is not None else output.text
            score = await _custom(assertion, value, output, case)
        elif base == "javascript":
            context = _context(assertion, output, case)
            score = await javascript.score(
                assertion.value,
                output.text,
                context,
                assertion.threshold,
                output_is_json=structured,
            )
        else:  # not a type tunedeck scores: refused when a suite loads
            raise KeyError(base)
    except javascript.ScriptError as thrown:  # fails whatever the polarity, as a crash does
        return _result(assertion, Score(False, 0.0, str(thrown)))
    except Exception as failure:  # a scorer must never take the run down
        return _result(assertion, _crashed(failure))
    return _result(assertion, _negated(assertion, score) if not error else score, error=error)


def _deterministic(assertion: Assertion, output: Output) -> AssertionScore:
    """`score_assertion` of an assertion that needs neither a judge nor user code."""
    try:
        score = DETERMINISTIC[assertion.base_type](assertion, output)
    except Exception as failure:  # a scorer must never take the run down
        return _result(assertion, _crashed(failure))
    return _result(assertion, _negated(assertion, score))


def _crashed(failure: Exception) -> Score:
    # A crash is a failure (not an error), whatever the assertion's polarity, as in
    # promptfoo: it is often the answer's doing (json.loads of an answer that is not
    # JSON), and a scorer that cannot run at all is refused when the suite loads.
    return Score(False, 0.0, f"scorer failed: {type(failure).__name__}: {failure}")


def _negated(assertion: Assertion, score: Score) -> Score:
    """`score` with `not-` applied when the assertion has it."""
    if not assertion.negated:
        return score
    return Score(not score.passed, 1.0 - score.score, score.reason)


def _result(assertion: Assertion, score: Score, *, error: bool = False) -> AssertionScore:
    value = score.score
    if not 0.0 <= value <= 1.0:
        value = min(max(value, 0.0), 1.0) if value == value else 0.0  # NaN -> 0
    reason = score.reason
    if assertion.base_type in _SCRIPT_TYPES or _transformed(assertion):
        reason = capped_reason(reason)
    return AssertionScore(
        assertion.type, score.passed, value, reason, assertion.weight, assertion.metric, error
    )


def capped_reason(reason: str) -> str:
    """`reason` cut to `SCRIPT_REASON_MAX_CHARS` (ending in "…" when cut)."""
    if len(reason) <= SCRIPT_REASON_MAX_CHARS:
        return reason
    return reason[: SCRIPT_REASON_MAX_CHARS - 1] + "…"


def _combine(case: Case, results: tuple[AssertionScore, ...]) -> CaseScore:
    if not results:
        return CaseScore(True, 1.0, results)
    errored, all_passed = False, True
    for item in results:  # one loop, not a generator for each figure: once per answer
        errored = errored or item.error
        all_passed = all_passed and item.passed
    total = sum([item.weight for item in results])
    if total > 0:
        score = sum([item.score * item.weight for item in results]) / total
    else:
        score = 1.0 if all_passed else 0.0
    passed = all_passed if case.threshold is None else score >= case.threshold
    return CaseScore(passed and not errored, score, results, errored=errored)


async def _rubric(assertion: Assertion, output: Output, judge: Judge | None) -> tuple[Score, bool]:
    if judge is None:
        return Score(False, 0.0, "no judge model to grade the rubric"), True
    try:
        score = await score_rubric(str(assertion.value), output.text, judge, assertion.threshold)
    except UnreadableVerdict as unreadable:
        return Score(False, 0.0, str(unreadable)), True
    except Exception as failure:
        return Score(False, 0.0, f"judge failed: {type(failure).__name__}: {failure}"), True
    return score, False


async def _custom(assertion: Assertion, value: Any, output: Output, case: Case) -> Score:
    """A `python` scorer's verdict on `value`: the answer's text, or the value a transform
    returned."""
    reference = str(assertion.value)
    function = custom.load_scorer(reference)
    context = _context(assertion, output, case)
    if inspect.iscoroutinefunction(function) or custom.is_inline(reference):
        result = function(value, context)
    else:  # a module's function may block (a file, a model of its own): not the event loop
        result = await run_in_daemon_thread(function, value, context)
    if inspect.isawaitable(result):
        result = await result
    return _custom_result(result, assertion.threshold)


def _context(assertion: Assertion, output: Output, case: Case) -> dict[str, Any]:
    return {
        "vars": dict(case.vars or {}),
        "test": {
            "id": case.id,
            "description": case.description,
            "tags": list(case.tags),
            "metadata": dict(case.metadata),
            "expected": case.expected,
        },
        "config": assertion.options.get("config"),
        "prompt": output.prompt,
        "latency_ms": output.latency_ms,
        "cost_usd": output.cost_usd,
    }


def _custom_result(result: Any, threshold: float | None) -> Score:
    if isinstance(result, Score):
        return result
    if isinstance(result, str) and result.strip().lower() in ("true", "false"):
        result = result.strip().lower() == "true"
    if isinstance(result, bool):
        return Score(result, 1.0 if result else 0.0, f"python scorer returned {result}")
    if isinstance(result, int | float):
        passed = result >= threshold if threshold is not None else result > 0
        return Score(passed, float(result), f"python scorer returned {result:g}")
    if isinstance(result, Mapping):
        return _custom_mapping(result, threshold)
    shown = type(result).__name__
    raise TypeError(f"python scorer returned a {shown}, not a bool, number or dict")


def _custom_mapping(result: Mapping[str, Any], threshold: float | None) -> Score:
    passed = result.get("pass", result.get("passed", result.get("pass_")))
    score = result.get("score")
    if not isinstance(passed, bool) and not isinstance(score, int | float):
        raise TypeError("python scorer returned a dict without pass or score")
    if isinstance(score, bool) or not isinstance(score, int | float):
        score = 1.0 if passed else 0.0
    if not isinstance(passed, bool):
        passed = score >= threshold if threshold is not None else score > 0
    elif threshold is not None and score < threshold:
        passed = False
    reason = str(result.get("reason") or f"python scorer returned pass={passed}")
    return Score(passed, float(score), reason)
