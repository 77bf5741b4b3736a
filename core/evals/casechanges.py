"""Which paired cases changed between two runs' suite versions (same id, other definition).

A comparison pairs cases by id. When the suite changed between the runs, a case may keep its
id and change what it checks (an assertion, the expected answer, a threshold) or what it
sends (its messages, the system prompt or template it renders, the request parameters). A
flip of the first kind is not the model's doing; of the second, it is the new input's as much
as the model's. Both are read from the suite versions the runs recorded (`eval_suites`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from core.evals.stats import CaseChanges
from core.evals.suite import Case, Suite
from core.evals.template import TemplateError

if TYPE_CHECKING:
    from storage.eval_history import EvalHistory
    from storage.eval_records import EvalRun


def case_changes(evals: EvalHistory, baseline: EvalRun, candidate: EvalRun) -> CaseChanges | None:
    """The cases of both runs whose checks, or else input, differ between the baseline's
    suite version and the candidate's (nothing when they ran the same version). None when a
    version's content is not readable as a suite (not recorded whole: an older tunedeck)."""
    if baseline.suite_id == candidate.suite_id:
        return CaseChanges()
    old, new = _suite(evals, baseline.suite_id), _suite(evals, candidate.suite_id)
    if old is None or new is None:
        return None
    return changes_between(old, new)


def changes_between(old: Suite, new: Suite) -> CaseChanges:
    """`case_changes` of two suites already read, in `new`'s order of cases."""
    before = {case.id: case for case in old.cases}
    checks: list[str] = []
    inputs: list[str] = []
    same_params = old.params == new.params
    for case in new.cases:
        was = before.get(case.id)
        if was is None:
            continue
        if _checks(was) != _checks(case):
            checks.append(case.id)
        elif not same_params or _sent(old, was) != _sent(new, case):
            inputs.append(case.id)
    return CaseChanges(tuple(checks), tuple(inputs))


def _suite(evals: EvalHistory, suite_id: int) -> Suite | None:
    stored = evals.suite(suite_id)
    if stored is None or not isinstance(stored.content, dict):
        return None
    try:
        return Suite.model_validate(stored.content)
    except ValidationError:
        return None


def _checks(case: Case) -> str:
    """What decides a case's pass or fail, as canonical JSON."""
    checks: dict[str, Any] = {
        "assertions": [assertion.model_dump(mode="json") for assertion in case.assertions],
        "expected": case.expected,
        "threshold": case.threshold,
    }
    return json.dumps(checks, sort_keys=True, default=str)


def _sent(suite: Suite, case: Case) -> str:
    """The messages the case sends, as canonical JSON (a render error stands for itself)."""
    try:
        messages = suite.messages_for(case)
    except (TemplateError, IndexError) as error:
        return f"cannot render: {error}"
    dumped = [message.model_dump(mode="json", exclude_none=True) for message in messages]
    return json.dumps(dumped, sort_keys=True, default=str)
