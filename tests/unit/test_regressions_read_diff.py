"""The Regressions pane's diff (`read_diff`) reads each run's results once, and its report is
the one `tunedeck eval compare A B` prints (`build_report`): the same comparison and notes,
across suite versions, with repeats, errors, cache hits and cases only one run has."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, get_args

import pytest

from core.clock import iso
from core.evals.report import Baseline, build_report, outcome_of
from core.evals.runplan import RunOutcome
from core.evals.stats import Verdict, combine_repeats
from storage.eval_records import CaseResult, RecordedResult, RunStart
from storage.evals import EvalStore
from storage.store import Store
from tests.support.eval_seed import CAPITALS, _content, seed_evals, suite_version
from tui.widgets.regressions.compare import RunGone, read_diff
from tui.widgets.regressions.diff import summary
from tui.widgets.regressions.launch import conclusion

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FLIPS = ("broke", "fixed")


@pytest.fixture
def evals(store: Store) -> EvalStore:
    return EvalStore(store)


def counted(evals: EvalStore, calls: list[str]) -> None:
    """Note the name of each read of results `evals` makes."""
    for name in ("results", "paired_results"):
        original: Callable[..., Any] = getattr(evals, name)

        def read(
            *args: Any, _name: str = name, _read: Callable[..., Any] = original, **kwargs: Any
        ) -> Any:
            calls.append(_name)
            return _read(*args, **kwargs)

        setattr(evals, name, read)


def repeated_runs(evals: EvalStore) -> tuple[int, int]:
    """Two runs of a new version, three repeats a case (one case once): errors, cache hits, a
    case only A has and one only B has."""
    suite = evals.save_suite(suite_version("qa", "9z", 4, iso(NOW)))
    statuses = {  # case: statuses in A, statuses in B (None: no result)
        "crit": (["pass"] * 3, ["pass", "fail", "error"]),
        "flaky": (["fail", "pass", "pass"], ["pass", "fail", "fail"]),
        "gone": (["pass"] * 3, None),
        "new": (None, ["fail"] * 3),
        "once": (["pass"], ["error"]),  # one repeat each (an error has no score)
    }
    runs = []
    for side in (0, 1):
        start = RunStart(suite_id=suite, model=f"m{side}", started_at=iso(NOW), pid=os.getpid(),
                         cases_total=12, repeats=3)  # fmt: skip
        run_id = evals.start_run(start)
        for case, both in statuses.items():
            for repeat, status in enumerate(both[side] or []):
                evals.record_result(run_id, CaseResult(
                    case_id=case, status=status, finished_at=iso(NOW), repeat_index=repeat,
                    score=None if status == "error" else 0.25 * (repeat + 1),
                    critical=case == "crit", cache_hit=repeat == 1 and side == 1,
                    latency_ms=100.0 + 10 * repeat, cost_usd=0.001 * (repeat + side),
                ))  # fmt: skip
        evals.finish_run(run_id, "completed", iso(NOW))
        runs.append(run_id)
    return runs[0], runs[1]


def test_the_diff_reads_each_run_once_and_reports_as_eval_compare(
    store: Store, evals: EvalStore
) -> None:
    seed_evals(store, NOW)  # two suites, versions 1 and 2 of qa-capitals
    pairs = [(3, 6), (3, 1), (2, 5), (7, 8), (1, 7), repeated_runs(evals)]
    for a_id, b_id in pairs:
        calls: list[str] = []
        counted(evals, calls)
        diff = read_diff(evals, a_id, b_id)
        del evals.results, evals.paired_results  # the counting wrappers
        assert calls == ["paired_results"]

        a, b = evals.run(a_id), evals.run(b_id)
        assert a is not None and b is not None
        report = build_report(evals, b, Baseline(a, f"run {a_id}"))
        assert diff.comparison == report.comparison
        unfinished = tuple(
            f"run {run.id} is {run.status}: only its recorded cases count"
            for run in (a, b)
            if run.status != "completed"
        )
        assert tuple(diff.notes) == (*unfinished, *report.notes)  # first: not cut off
        lines = {line.case_id: line for line in diff.lines}
        assert [line.case_id for line in diff.lines] == sorted(lines)
        flips = {flip: {c for c, line in lines.items() if line.flip == flip} for flip in FLIPS}
        assert flips == {
            "broke": set(report.comparison.broke),
            "fixed": set(report.comparison.fixed),
        }
        for line in diff.lines:  # each side's status and score as the comparison combines them
            assert (line.a, line.a_score) == combined(line.results_a)
            assert (line.b, line.b_score) == combined(line.results_b)


def combined(results: tuple[RecordedResult, ...]) -> tuple[str, float | None]:
    """A case's status and score in one run, from `combine_repeats` itself."""
    if not results:
        return "-", None
    outcome = combine_repeats([outcome_of(result) for result in results])
    status = "error" if outcome.errored else "pass" if outcome.passed else "fail"
    return status, outcome.score


def test_a_deleted_run_is_named(store: Store, evals: EvalStore) -> None:
    seed_evals(store, NOW)
    evals.delete_run(6)
    with pytest.raises(RunGone, match=r"^run #6 is gone$"):
        read_diff(evals, 3, 6)
    with pytest.raises(RunGone, match=r"#60 and #61"):
        read_diff(evals, 60, 61)


def changed_version(evals: EvalStore) -> int:
    """A run of a third version of qa-capitals in which `c-rome` checks another answer."""
    content = _content("qa-capitals", "4d")
    rome = next(case for case in content["cases"] if case["id"] == "c-rome")
    rome["assertions"][0]["value"] = "Roma"
    suite = evals.save_suite(suite_version("qa-capitals", "4d", 8, iso(NOW), content))
    start = RunStart(suite_id=suite, model="gpt-4.1", started_at=iso(NOW), pid=os.getpid(),
                     cases_total=8)  # fmt: skip
    run_id = evals.start_run(start)
    for case in CAPITALS:
        status = "fail" if case == "c-rome" else "pass"
        evals.record_result(run_id, CaseResult(case_id=case, status=status, finished_at=iso(NOW)))
    evals.finish_run(run_id, "completed", iso(NOW))
    return run_id


def test_the_diff_names_the_cases_whose_checks_changed_as_eval_compare_does(
    store: Store, evals: EvalStore
) -> None:
    seed_evals(store, NOW)
    new = changed_version(evals)
    for a_id in (3, 1):  # version 2 (same cases) and version 1 (another version too)
        diff = read_diff(evals, a_id, new)
        a, b = evals.run(a_id), evals.run(new)
        assert a is not None and b is not None
        report = build_report(evals, b, Baseline(a, f"run {a_id}"))
        assert diff.comparison == report.comparison and diff.notes == report.notes
        assert diff.comparison.changed_checks == ("c-rome",)
        assert any(note.startswith("the checks of 1 paired case changed") for note in diff.notes)


def test_the_diff_and_the_pane_word_an_unsure_verdict_as_the_cli_does(
    store: Store, evals: EvalStore
) -> None:
    seed_evals(store, NOW)
    diff = read_diff(evals, 3, 4)  # 2 broke, 1 fixed, no critical case failing
    assert diff.comparison.verdict == "unchanged"
    assert diff.comparison.verdict_label == "not significant"
    heading = summary(diff).plain
    assert " NOT SIGNIFICANT " in heading and "UNCHANGED" not in heading
    b = evals.run(4)
    assert b is not None
    report = build_report(evals, b, Baseline(diff.a, "run 3"))
    outcome = RunOutcome(run=b, estimate=None, sent=0, cost_usd=None)  # type: ignore[arg-type]
    said = conclusion(outcome, report)
    assert "against run #3: NOT SIGNIFICANT, 2 broke, 1 fixed" in said


def test_latency_is_written_in_one_form_for_both_percentiles(
    store: Store, evals: EvalStore
) -> None:
    seed_evals(store, NOW)
    diff = read_diff(evals, 3, 6)
    c = diff.comparison
    line = next(line for line in summary(diff).plain.splitlines() if "p50" in line)
    for which in ("p50", "p95"):
        a, b = getattr(c.baseline_latency, which), getattr(c.candidate_latency, which)
        assert f"{which} {a:,.0f} → {b:,.0f} ms ({b - a:+,.0f})" in line


def test_the_summary_words_every_verdict_the_comparison_can_give(
    store: Store, evals: EvalStore
) -> None:
    seed_evals(store, NOW)
    diff = read_diff(evals, 3, 6)
    for verdict in get_args(Verdict):  # a verdict added to core must not break the view
        comparison = replace(diff.comparison, verdict=verdict)
        heading = summary(replace(diff, comparison=comparison)).plain.splitlines()
        assert f" {comparison.verdict_label.upper()} " in heading[1]
