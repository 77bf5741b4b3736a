"""A deterministic evaluation history for the Regressions pane's tests and snapshots.

Two suites: `qa-capitals` (8 cases, two versions; `c-paris` is critical) run by three models
over ten days, and `json-extract` (4 cases) run twice. Runs are recorded through `EvalStore`
as the runner records them. The newest `gpt-4.1` run of `qa-capitals` broke `c-rome` and
`c-paris` (critical) and fixed `c-lima` against the pinned `gpt-4o-mini` baseline; one answer
holds markup and escape sequences that must show inert. Each suite version's content is a real
suite, as the runner stores it (the two versions of `qa-capitals` define the same cases).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.clock import iso
from core.evals.suite import Assertion, Case, MessageTemplate, PromptTemplate, Suite
from core.params import Message
from storage.eval_records import CaseResult, RunStart, SuiteVersion
from storage.evals import EvalStore
from storage.store import Store

CAPITALS = {
    "c-berlin": "Berlin",
    "c-cairo": "Cairo",
    "c-lima": "Lima",
    "c-madrid": "Madrid",
    "c-oslo": "Oslo",
    "c-paris": "Paris",
    "c-rome": "Rome",
    "c-tokyo": "Tokyo",
}
COUNTRIES = {
    "c-berlin": "Germany",
    "c-cairo": "Egypt",
    "c-lima": "Peru",
    "c-madrid": "Spain",
    "c-oslo": "Norway",
    "c-paris": "France",
    "c-rome": "Italy",
    "c-tokyo": "Japan",
}
HOSTILE = "[bold red]Rome[/] \x1b[2J\x1b]0;pwned\x07 is not it"
"""An answer that would restyle or clear the terminal if it were interpreted."""


@dataclass(frozen=True)
class SeededRun:
    """A run of the seed: its suite, model, age in days and the cases it fails."""

    suite: str
    version: int
    model: str
    days_ago: float
    failing: frozenset[str]
    status: str = "completed"
    pinned: bool = False


RUNS = (
    SeededRun("qa-capitals", 1, "gpt-4o-mini", 9, frozenset({"c-lima", "c-oslo"})),
    SeededRun("qa-capitals", 1, "gpt-4.1", 8, frozenset({"c-lima"})),
    SeededRun("qa-capitals", 2, "gpt-4o-mini", 6, frozenset({"c-lima"}), pinned=True),
    SeededRun("qa-capitals", 2, "ft:gpt-4o-mini:acme::v2", 4, frozenset({"c-oslo", "c-tokyo"})),
    SeededRun("qa-capitals", 2, "gpt-4.1", 3, frozenset({"c-oslo"}), status="interrupted"),
    SeededRun("qa-capitals", 2, "gpt-4.1", 1, frozenset({"c-rome", "c-paris"})),
    SeededRun("json-extract", 1, "gpt-4o-mini", 5, frozenset({"j-2"})),
    SeededRun("json-extract", 1, "gpt-4o-mini", 2, frozenset()),
)


def seed_evals(store: Store, now: datetime) -> dict[int, SeededRun]:
    """Record the suites and `RUNS`; returns each run's id and how it was seeded."""
    evals = EvalStore(store)
    created = iso(now - timedelta(days=10))
    versions = {("qa-capitals", 1): "1a", ("qa-capitals", 2): "2b", ("json-extract", 1): "3c"}
    suites = {
        (name, number): evals.save_suite(
            suite_version(name, code, len(_cases(name)), created, _content(name, code))
        )
        for (name, number), code in versions.items()
    }
    seeded = {}
    for spec in RUNS:
        run_id = _record(evals, suites[(spec.suite, spec.version)], spec, now)
        seeded[run_id] = spec
    return seeded


def suite_version(
    name: str, version: str, cases: int, created: str, content: Any = None
) -> SuiteVersion:
    """A suite version as the runner saves it (`version` repeated to 64 hex digits; its
    `content`, by default one that is not a readable suite)."""
    return SuiteVersion(
        name=name,
        version=version * 32,
        format="native",
        content={"name": name} if content is None else content,
        case_count=cases,
        created_at=created,
        path=f"evals/{name}.yaml",
    )


def _record(evals: EvalStore, suite_id: int, spec: SeededRun, now: datetime) -> int:
    started = now - timedelta(days=spec.days_ago)
    cases = _cases(spec.suite)
    run_id = evals.start_run(
        RunStart(
            suite_id=suite_id,
            model=spec.model,
            started_at=iso(started),
            pid=os.getpid(),
            cases_total=len(cases),
            profile="openai",
            params={"temperature": 0},
            concurrency=4,
        )
    )
    done = cases[:-2] if spec.status == "interrupted" else cases
    for index, (case_id, expected) in enumerate(done):
        finished = iso(started + timedelta(seconds=index + 1))
        evals.record_result(run_id, _result(spec, case_id, expected, finished, index))
    evals.finish_run(run_id, spec.status, iso(started + timedelta(minutes=1)))
    if spec.pinned:
        evals.set_baseline(run_id)
    return run_id


def _content(name: str, version: str) -> dict[str, Any]:
    """A version of a seeded suite as the runner stores it (`Suite.model_dump`)."""
    cases = [_case(name, case_id, expected) for case_id, expected in _cases(name)]
    template = [MessageTemplate(role="user", content="Capital of {{country}}?")]
    suite = Suite(
        name=name,
        path=f"/evals/{name}.yaml",
        format="native",
        version=version * 32,
        system="Answer with a city name only." if name == "qa-capitals" else None,
        prompts=[PromptTemplate(id="p1", messages=template)] if name == "qa-capitals" else [],
        cases=cases,
    )
    return suite.model_dump(mode="json")


def _case(suite: str, case_id: str, expected: str) -> Case:
    if suite == "qa-capitals":
        return Case(
            id=case_id,
            vars={"country": COUNTRIES[case_id]},
            prompt=0,
            assertions=[Assertion(type="icontains", value=expected)],
            tags=["geo"],
            critical=case_id == "c-paris",
        )
    ask = Message(role="user", content=f"Give the record {case_id[2:]} as JSON.")
    return Case(id=case_id, messages=[ask], assertions=[Assertion(type="equals", value=expected)])


def _cases(suite: str) -> list[tuple[str, str]]:
    if suite == "qa-capitals":
        return sorted(CAPITALS.items())
    return [(f"j-{index}", f'{{"id": {index}}}') for index in range(1, 5)]


def _result(spec: SeededRun, case_id: str, expected: str, finished: str, index: int) -> CaseResult:
    passed = case_id not in spec.failing
    answer = expected if passed else _wrong(case_id)
    reason = f"found {expected!r}" if passed else f"{expected!r} not found in the answer"
    return CaseResult(
        case_id=case_id,
        status="pass" if passed else "fail",
        score=1.0 if passed else 0.0,
        critical=case_id == "c-paris",
        output_text=f"The answer is {answer}.",
        scores=[{"type": "icontains", "passed": passed, "score": float(passed), "reason": reason}],
        latency_ms=400.0 + 10 * index + (50 if spec.model == "gpt-4.1" else 0),
        cost_usd=0.0001 * (index + 1),
        prompt_tokens=20,
        completion_tokens=5,
        finished_at=finished,
    )


def _wrong(case_id: str) -> str:
    return HOSTILE if case_id == "c-rome" else "not sure"
