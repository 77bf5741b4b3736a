"""Baselines, the comparison report and JUnit XML, on runs recorded in a real SQLite file."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import pytest

from core.errors import BadInput
from core.evals.baselines import baseline_for_resume, check_comparable
from core.evals.casechanges import case_changes
from core.evals.junit import CHANGED_CHECKS_NOTE, OUTPUT_CHARS, junit_xml
from core.evals.loader import load_suite
from core.evals.report import (
    Baseline,
    RunReport,
    all_results,
    baseline_for_run,
    build_report,
    find_baseline,
    pin_note,
    pinned_baseline_for,
)
from core.evals.stats import CaseChanges, RegressionPolicy
from core.evals.tally import case_tally
from storage.eval_records import CaseResult, EvalStorageError, RunStart, SuiteVersion
from storage.evals import EvalStore
from storage.store import Store

WHEN = "2026-11-28T10:00:00.000000Z"
LATER = "2026-11-28T10:00:03.500000Z"


@pytest.fixture
def evals(store: Store) -> EvalStore:
    return EvalStore(store)


def suite(evals: EvalStore, version: str, cases: int = 3) -> int:
    return evals.save_suite(
        SuiteVersion(
            name="qa",
            version=version,
            format="native",
            content={},
            case_count=cases,
            created_at=WHEN,
        )
    )


def recorded(
    evals: EvalStore,
    suite_id: int,
    model: str,
    outcomes: Mapping[str, str],
    *,
    status: str = "completed",
    critical: frozenset[str] = frozenset(),
    repeats: int = 1,
    endpoint: str | None = None,
) -> int:
    """A run with one result per case (`pass`/`fail`/`error`), repeated `repeats` times
    (`"pass,fail"`: a case's outcome in each repeat, in turn)."""
    run_id = evals.start_run(
        RunStart(
            suite_id=suite_id,
            model=model,
            started_at=WHEN,
            pid=1,
            cases_total=len(outcomes) * repeats,
            repeats=repeats,
            endpoint=endpoint,
        )
    )
    for repeat in range(repeats):
        for case_id, outcome in outcomes.items():
            each = outcome.split(",")[repeat % len(outcome.split(","))]
            evals.record_result(run_id, _result(case_id, each, repeat, case_id in critical))
    evals.finish_run(run_id, status, LATER)
    return run_id


def _result(case_id: str, outcome: str, repeat: int, critical: bool) -> CaseResult:
    answered = outcome != "error"
    return CaseResult(
        case_id=case_id,
        status=outcome,
        repeat_index=repeat,
        finished_at=LATER,
        score=(1.0 if outcome == "pass" else 0.0) if answered else None,
        critical=critical,
        output_text=f"answer to {case_id}" if answered else None,
        scores=[{"type": "contains", "passed": outcome == "pass", "reason": f"why {case_id}"}],
        error=None if answered else "RateLimitError: slow down",
        latency_ms=120.0 if answered else None,
    )


ALL_PASS = {"a": "pass", "b": "pass", "c": "pass"}


# -- which baseline ---------------------------------------------------------------------------


def test_a_model_baseline_is_its_pinned_run_else_its_latest_completed_run(
    evals: EvalStore,
) -> None:
    v1 = suite(evals, "v1")
    first = recorded(evals, v1, "old", ALL_PASS)
    second = recorded(evals, v1, "old", ALL_PASS)
    recorded(evals, v1, "old", ALL_PASS, status="interrupted")
    found = find_baseline(evals, "qa", "v1", "new", "old")
    assert found is not None and found.run.id == second
    assert found.chosen_as == "latest completed run of old"

    evals.set_baseline(first)
    found = find_baseline(evals, "qa", "v1", "new", "old")
    assert found is not None and (found.run.id, found.chosen_as) == (
        first,
        "pinned baseline of old",
    )


def test_without_a_spec_the_pinned_run_of_the_model_else_the_suites_newest_pinned_run(
    evals: EvalStore,
) -> None:
    v1 = suite(evals, "v1")
    run_id = recorded(evals, v1, "m", ALL_PASS)
    assert find_baseline(evals, "qa", "v1", "m", None) is None  # nothing pinned: none
    evals.set_baseline(run_id)
    found = find_baseline(evals, "qa", "v1", "m", None)
    assert found is not None and (found.run.id, found.chosen_as) == (run_id, "pinned baseline of m")
    other = find_baseline(evals, "qa", "v1", "fine-tune", None)  # a new model meets the pin
    assert other is not None and (other.run.id, other.chosen_as) == (run_id, "pinned baseline of m")
    newer = recorded(evals, v1, "n", ALL_PASS)
    evals.set_baseline(newer)
    own = find_baseline(evals, "qa", "v1", "m", None)
    assert own is not None and own.run.id == run_id  # its own model's pin comes first
    newest = find_baseline(evals, "qa", "v1", "fine-tune", None)
    assert newest is not None and newest.run.id == newer
    judged = pinned_baseline_for(evals, "qa", "n", exclude_run_id=newer)  # never itself
    assert judged is not None and judged.run.id == run_id
    assert find_baseline(evals, "other suite", "v1", "m", None) is None


def test_a_baseline_from_an_earlier_version_is_taken_and_said(evals: EvalStore) -> None:
    old = recorded(evals, suite(evals, "v1"), "m", ALL_PASS)
    suite(evals, "v2")
    found = find_baseline(evals, "qa", "v2", "new", "m")
    assert found is not None and found.run.id == old
    assert found.chosen_as == "latest completed run of m (an earlier suite version)"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("77", "no evaluation run has id 77"),
        (
            "nobody",
            "--baseline nobody: no completed run of model 'nobody' with an answer on suite 'qa'",
        ),
    ],
)
def test_a_baseline_that_does_not_exist_is_bad_input(
    evals: EvalStore, spec: str, message: str
) -> None:
    suite(evals, "v1")
    with pytest.raises(BadInput, match=message):
        find_baseline(evals, "qa", "v1", "m", spec)


def test_an_unfinished_run_is_not_a_baseline(evals: EvalStore) -> None:
    run_id = recorded(evals, suite(evals, "v1"), "m", ALL_PASS, status="interrupted")
    with pytest.raises(BadInput, match=f"run {run_id} is interrupted: only a completed run"):
        find_baseline(evals, "qa", "v1", "m", str(run_id))


OUTAGE = {"a": "error", "b": "error", "c": "error"}


def test_a_run_that_got_no_answer_is_never_a_baseline(evals: EvalStore) -> None:
    # QA finding 1: an outage night's run became the baseline and passed any candidate.
    v1 = suite(evals, "v1")
    answered = recorded(evals, v1, "base", {"a": "pass", "b": "error", "c": "fail"})
    outage = recorded(evals, v1, "base", OUTAGE)
    refusal = f"run {outage} got no answer (3 errored): it cannot be a baseline"
    found = find_baseline(evals, "qa", "v1", "new", "base")  # latest completed: skips it
    assert found is not None and found.run.id == answered
    with pytest.raises(BadInput, match=rf"^{re.escape(refusal)}$"):
        find_baseline(evals, "qa", "v1", "new", str(outage))
    with pytest.raises(EvalStorageError, match=rf"^{re.escape(refusal)}$"):  # nor pinned
        evals.set_baseline(outage)
    assert evals.pinned_baseline("qa", "base") is None
    recorded(evals, v1, "down", OUTAGE)
    with pytest.raises(BadInput, match="no completed run of model 'down' with an answer"):
        find_baseline(evals, "qa", "v1", "new", "down")
    evals.set_baseline(answered)  # one answer is enough
    assert evals.pinned_baseline("qa", "base").id == answered  # type: ignore[union-attr]


def test_a_pinned_run_that_got_no_answer_is_refused_or_left_out(
    evals: EvalStore, store: Store, tmp_path: Path
) -> None:
    """A run pinned before the rule: named through its model it is refused, not named it is
    left out with a warning (as a pinned run of another suite is)."""
    v1 = suite(evals, "v1")
    outage = recorded(evals, v1, "base", OUTAGE)
    with store.write() as db:  # pinned by an older tunedeck
        db.conn.execute("UPDATE eval_runs SET is_baseline = 1 WHERE id = ?", [outage])
    refusal = f"run {outage} (the pinned baseline of base) got no answer (3 errored)"
    with pytest.raises(BadInput, match=rf"^{re.escape(refusal)}: it cannot be a baseline$"):
        find_baseline(evals, "qa", "v1", "new", "base")
    loaded = load_suite(_suite_file(tmp_path, "qa", ["a", "b", "c"]))
    found, warning = baseline_for_run(evals, loaded, "new", None)
    assert found is None and warning is not None
    assert warning.startswith(f"the suite's pinned run {outage} got no answer (3 errored)")
    run = evals.run(recorded(evals, v1, "new", ALL_PASS))
    assert run is not None
    with pytest.raises(BadInput, match="got no answer"):  # resume's baseline
        baseline_for_resume(evals, run)


def test_compare_refuses_runs_of_two_suites_and_a_baseline_without_an_answer(
    evals: EvalStore,
) -> None:
    v1 = suite(evals, "v1")
    other = evals.save_suite(
        SuiteVersion(
            name="other", version="o1", format="native", content={}, case_count=3, created_at=WHEN
        )
    )
    base, theirs = recorded(evals, v1, "m", ALL_PASS), recorded(evals, other, "m", ALL_PASS)
    outage = recorded(evals, v1, "m", OUTAGE)
    runs = {run_id: evals.run(run_id) for run_id in (base, theirs, outage)}
    with pytest.raises(BadInput, match=rf"^run {base} is a run of suite 'qa', run {theirs} of"
                       " 'other': only runs of one suite are compared$"):  # fmt: skip
        check_comparable(evals, runs[base], runs[theirs])  # type: ignore[arg-type]
    with pytest.raises(BadInput, match=f"run {outage} got no answer"):
        check_comparable(evals, runs[outage], runs[base])  # type: ignore[arg-type]
    check_comparable(evals, runs[base], runs[outage])  # type: ignore[arg-type]  # a candidate may


def _suite_file(folder: Path, name: str, ids: list[str]) -> Path:
    lines = [f"  - {{id: {i}, input: hi, assert: [{{type: contains, value: hi}}]}}" for i in ids]
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\ncases:\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- the report -------------------------------------------------------------------------------


def test_across_versions_only_shared_cases_count_and_the_report_says_so(
    evals: EvalStore,
) -> None:
    base = recorded(evals, suite(evals, "v1"), "m", {"a": "pass", "b": "pass", "gone": "pass"})
    candidate = recorded(evals, suite(evals, "v2"), "m", {"a": "fail", "b": "pass", "new": "fail"})
    baseline = find_baseline(evals, "qa", "v2", "m", str(base))
    run = evals.run(candidate)
    assert run is not None
    report = build_report(evals, run, baseline)
    assert report.across_versions
    assert report.comparison.paired == 2 and report.comparison.broke == ("a",)
    assert report.notes[0] == (
        "the suite changed between the runs (version v1 -> v2): only the 2 cases in both count"
    )
    assert "1 only in the baseline, 1 only in the candidate" in report.notes[1]
    assert report.as_dict()["across_versions"] is True


def test_runs_on_different_endpoints_are_said_to_be(evals: EvalStore) -> None:
    v1 = suite(evals, "v1")
    local, remote = "http://127.0.0.1:8000/v1", "https://api.openai.com/v1"
    base = recorded(evals, v1, "m", ALL_PASS, endpoint=local)
    same = recorded(evals, v1, "m", ALL_PASS, endpoint=local)
    other = recorded(evals, v1, "m", ALL_PASS, endpoint=remote)
    baseline = find_baseline(evals, "qa", "v1", "m", str(base))
    notes = {}
    for run_id in (same, other):
        run = evals.run(run_id)
        assert run is not None
        notes[run_id] = build_report(evals, run, baseline).notes
    assert not any("endpoints" in note for note in notes[same])
    assert f"the runs used different endpoints ({local} and {remote})" in " ".join(notes[other])


def test_without_a_baseline_critical_failures_make_a_regression_and_errors_no_pass(
    evals: EvalStore,
) -> None:
    v1 = suite(evals, "v1")
    clean = evals.run(recorded(evals, v1, "m", {"a": "fail", "b": "pass"}))
    errored = evals.run(recorded(evals, v1, "m", {"a": "fail", "b": "error"}))
    critical = evals.run(
        recorded(evals, v1, "m", {"a": "pass", "b": "error"}, critical=frozenset({"b"}))
    )
    assert clean is not None and errored is not None and critical is not None
    report = build_report(evals, clean, None)
    assert (report.comparison.verdict, report.gate_passed) == ("no_baseline", True)
    assert report.notes == (
        "no baseline: only failing or errored critical cases make a regression",
    )
    report = build_report(evals, errored, None)  # QA finding 7: it said "unchanged"
    assert not report.regression and not report.gate_passed
    label = "inconclusive: 1 of 2 cases errored (no answer or no verdict)"
    assert report.comparison.verdict_label == label
    assert report.notes == (
        "no baseline: only failing or errored critical cases make a regression",
        "1 case errored (no answer or no verdict): the verdict is inconclusive",
    )
    data = json.loads(json.dumps(report.as_dict()))
    assert (data["verdict"], data["regression"], data["gate_passed"]) == (
        "inconclusive",
        False,
        False,
    )
    report = build_report(evals, critical, None)
    assert report.regression and report.comparison.critical_failures == ("b",)
    assert report.comparison.reasons == ("critical case(s) failing or errored: b",)


def test_the_policy_decides_a_tolerated_drop(evals: EvalStore) -> None:
    v1 = suite(evals, "v1")
    ten = {f"c{i}": "pass" for i in range(10)}
    base = recorded(evals, v1, "m", ten)
    candidate = evals.run(recorded(evals, v1, "m", {**ten, "c0": "fail"}))
    assert candidate is not None
    baseline = find_baseline(evals, "qa", "v1", "m", str(base))
    assert not build_report(evals, candidate, baseline).regression  # 1 broke: not significant
    strict = RegressionPolicy(max_pass_rate_drop=0.05)
    report = build_report(evals, candidate, baseline, strict)
    assert report.regression
    assert report.comparison.reasons == (
        "pass rate dropped 10.0 points, more than the tolerance 5.0 points",
    )


def test_results_are_read_in_pages_to_the_end(evals: EvalStore) -> None:
    many = {f"c{i:05d}": "pass" for i in range(4_500)}
    run_id = recorded(evals, suite(evals, "v1", cases=4_500), "m", many)
    assert [r.case_id for r in all_results(evals, run_id)] == sorted(many)
    assert list(all_results(evals, run_id, status="fail")) == []


# -- JUnit XML --------------------------------------------------------------------------------


def parsed(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode("utf-8"))


def test_junit_counts_repeats_errors_and_the_verdict(evals: EvalStore) -> None:
    v1 = suite(evals, "v1")
    base = recorded(evals, v1, "m", ALL_PASS, repeats=2)
    outcomes = {"a": "pass", "b": "fail", "c": "error", "d": "fail,pass", "e": "pass,error"}
    run_id = recorded(evals, v1, "m", outcomes, repeats=2, critical=frozenset({"b"}))
    run = evals.run(run_id)
    assert run is not None
    report = build_report(evals, run, find_baseline(evals, "qa", "v1", "m", str(base)))
    root = parsed(junit_xml(run, all_results(evals, run_id), report))

    # One testcase a case, its repeats combined as the verdict combines them: a strict
    # majority of the answered repeats passes (d, 1 of 2, fails; e, 1 of 1 answered, passes),
    # an error only when every repeat errored (c).
    cases_suite, verdict_suite = root.findall("testsuite")
    names = [case.get("name") for case in cases_suite.findall("testcase")]
    assert names == ["a", "b", "c", "d", "e"]
    assert (cases_suite.get("tests"), cases_suite.get("failures"), cases_suite.get("errors")) == (
        "5",
        "2",
        "1",
    )
    assert cases_suite.get("time") == "3.500" and cases_suite.get("timestamp") == (
        "2026-11-28T10:00:00"
    )
    error = cases_suite.find("testcase[@name='c']/error")
    assert error is not None
    assert error.get("message") == "every repeat errored: RateLimitError: slow down"
    tie = cases_suite.find("testcase[@name='d']/failure")
    assert tie is not None and tie.get("message") == (
        "1 of 2 repeats passed (a case passes on a strict majority; a tie fails)"
    )
    assert "repeat 1: contains: why d" in (tie.text or "")
    out = cases_suite.find("testcase[@name='a']/system-out")
    assert out is not None and (out.text or "").splitlines() == [
        "2 of 2 repeats passed",
        "--- repeat 1: pass",
        "answer to a",
        "--- repeat 2: pass",
        "answer to a",
    ]
    assert cases_suite.find("testcase[@name='a']/failure") is None
    partly = cases_suite.find("testcase[@name='e']/system-out")
    assert cases_suite.find("testcase[@name='e']/failure") is None and partly is not None
    assert (partly.text or "").startswith("1 of 1 answered repeats passed (1 errored)")
    failure = verdict_suite.find("testcase/failure")
    assert failure is not None and failure.get("type") == "regression"
    assert "critical case(s) failing: b" in (failure.get("message") or "")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "3", "1")


def test_junit_fails_the_regression_check_on_an_inconclusive_verdict(evals: EvalStore) -> None:
    # QA finding 7: with errored cases the regression check passed as "unchanged".
    v1 = suite(evals, "v1")
    base = recorded(evals, v1, "m", {"a": "pass", "b": "error", "c": "pass", "d": "pass"})
    run_id = recorded(evals, v1, "m", {"a": "pass", "b": "pass", "c": "error", "d": "pass"})
    run = evals.run(run_id)
    assert run is not None
    for baseline in (find_baseline(evals, "qa", "v1", "m", str(base)), None):
        report = build_report(evals, run, baseline)
        verdict_suite = parsed(junit_xml(run, all_results(evals, run_id), report)).findall(
            "testsuite"
        )[1]
        failure = verdict_suite.find("testcase/failure")
        assert failure is not None and failure.get("type") == "inconclusive"
        message = "inconclusive: 1 of 4 cases errored (no answer or no verdict)"
        assert failure.get("message") == message
        assert verdict_suite.get("failures") == "1"
        lines = (failure.text or "").splitlines()
        assert "errored (1): c" in lines
    compared = build_report(evals, run, find_baseline(evals, "qa", "v1", "m", str(base)))
    out = parsed(junit_xml(run, all_results(evals, run_id), compared)).find(
        "testsuite[2]/testcase/system-out"
    )
    assert out is not None
    assert "errored in the baseline (not compared) (1): b" in (out.text or "").splitlines()
    assert "note: 1 case errored in the baseline run: not compared" in (out.text or "")


def test_a_repeated_run_is_tallied_by_case_as_its_comparison_counts_it(evals: EvalStore) -> None:
    outcomes = {"a": "pass", "b": "pass,fail,pass", "c": "fail,pass,fail", "d": "error"}
    run_id = recorded(evals, suite(evals, "v1"), "m", outcomes, repeats=3)
    tally = case_tally(evals, run_id, 3)
    assert (tally.passed, tally.failed, tally.errored, tally.cases) == (2, 1, 1, 4)
    assert tally.pass_rate == 0.5 and tally.as_dict()["pass_rate"] == 0.5
    run = evals.run(run_id)
    assert run is not None and run.summary is not None
    assert (run.summary.passed, run.summary.recorded) == (6, 12)  # the answers


def test_junit_keeps_any_answer_parseable(evals: EvalStore) -> None:
    run_id = recorded(evals, suite(evals, "v1"), "m", {"a": "fail"})
    run = evals.run(run_id)
    assert run is not None
    nasty = '<![CDATA[ ]]> & "quotes" \x00\x07\x1b[2J \ud800 é 漢字 🙂' + "x" * 20_000
    results = [
        r.__class__(**{**r.__dict__, "output_text": nasty, "scores": [_nasty_score()]})
        for r in all_results(evals, run_id)
    ]
    root = parsed(junit_xml(run, results, None))
    case = root.find("testsuite/testcase")
    assert case is not None
    out = case.findtext("system-out") or ""
    assert out.startswith('<![CDATA[ ]]> & "quotes" \\x00\\x07\\x1b[2J \\xd800 é 漢字 🙂')
    assert len(out) == OUTPUT_CHARS + len("\\x00\\x07\\x1b\\xd800") - 4
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "regex: line one line two \\x1b"
    assert failure.text == "regex: line one\nline two \\x1b"
    assert len(root.findall("testsuite")) == 1  # no report: no verdict suite


def _nasty_score() -> dict[str, object]:
    return {"type": "regex", "passed": False, "reason": "line one\nline two \x1b"}


# -- cases changed between suite versions, unpaired ids, notes in one place --------------------

SUITE_V1 = """
name: qa
cases:
  - {id: a, input: 'Capital of Spain?', assert: [{type: regex, value: '^Madrid\\.?$'}]}
  - {id: b, input: 'Capital of France?', assert: [{type: icontains, value: paris}]}
  - {id: c, input: 'Capital of Italy?', assert: [{type: icontains, value: rome}]}
  - {id: gone, input: 'Capital of Peru?', assert: [{type: icontains, value: lima}]}
"""
SUITE_V2 = """
name: qa
cases:
  - {id: c, input: 'Capital of Italy?', assert: [{type: icontains, value: rome}]}
  - {id: a, input: 'Capital of Spain?', assert: [{type: regex, value: '^Madrid$'}]}
  - {id: b, input: 'The capital of France?', assert: [{type: icontains, value: paris}]}
  - {id: new, input: 'Capital of Chile?', assert: [{type: icontains, value: santiago}]}
"""


def saved_suite(evals: EvalStore, tmp_path: Path, text: str, name: str) -> int:
    """A suite file loaded as `eval run` loads it, saved with its content as a run saves it."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_suite(path)
    return evals.save_suite(
        SuiteVersion(
            name=loaded.name,
            version=loaded.version,
            format=loaded.format,
            content=loaded.model_dump(mode="json"),
            case_count=len(loaded.cases),
            created_at=WHEN,
        )
    )


def changed_report(evals: EvalStore, tmp_path: Path) -> RunReport:
    v1 = saved_suite(evals, tmp_path, SUITE_V1, "v1")
    v2 = saved_suite(evals, tmp_path, SUITE_V2, "v2")
    base = recorded(evals, v1, "m", {"a": "pass", "b": "pass", "c": "pass", "gone": "pass"})
    run_id = recorded(evals, v2, "m", {"a": "fail", "b": "fail", "c": "pass", "new": "pass"})
    run = evals.run(run_id)
    assert run is not None
    return build_report(evals, run, find_baseline(evals, "qa", "", "m", str(base)))


def test_cases_whose_checks_or_input_changed_across_versions_are_named(
    evals: EvalStore, tmp_path: Path
) -> None:
    report = changed_report(evals, tmp_path)
    comparison = report.comparison
    assert comparison.broke == ("a", "b")
    assert comparison.changed_checks == ("a",)  # regex '^Madrid\.?$' -> '^Madrid$'
    assert comparison.changed_inputs == ("b",)  # another question; "c" moved but is the same
    assert comparison.only_in_baseline_ids == ("gone",)
    assert comparison.only_in_candidate_ids == ("new",)
    data = json.loads(json.dumps(report.as_dict()))
    assert data["comparison"]["changed_checks"] == ["a"]
    assert data["comparison"]["only_in_baseline_ids"] == ["gone"]
    assert data["comparison"]["only_in_baseline"] == 1  # the counts stay
    # each note once: the comparison's under `comparison`, the others at the top
    assert data["comparison"]["notes"] and not set(data["notes"]) & set(data["comparison"]["notes"])
    assert list(report.notes) == sorted(
        [*data["notes"], *data["comparison"]["notes"]], key=report.notes.index
    )
    assert data["notes"][0].startswith("the suite changed between the runs")


def test_the_same_version_changes_nothing_and_an_unreadable_one_is_said(
    evals: EvalStore, tmp_path: Path
) -> None:
    v1 = saved_suite(evals, tmp_path, SUITE_V1, "v1")
    base = recorded(evals, v1, "m", {"a": "pass"})
    same = evals.run(recorded(evals, v1, "m", {"a": "fail"}))
    assert same is not None
    baseline = find_baseline(evals, "qa", "", "m", str(base))
    assert baseline is not None and case_changes(evals, baseline.run, same) == CaseChanges()
    old = evals.run(recorded(evals, suite(evals, "v0"), "m", {"a": "pass"}))  # content {}
    assert old is not None
    assert case_changes(evals, old, same) is None
    report = build_report(evals, same, Baseline(old, f"run {old.id}"))
    assert "which cases changed their checks or input is not known" in " ".join(report.notes)


def test_junit_marks_changed_flips_and_lists_the_unpaired_cases(
    evals: EvalStore, tmp_path: Path
) -> None:
    report = changed_report(evals, tmp_path)
    run = report.run
    root = parsed(junit_xml(run, all_results(evals, run.id), report))
    cases_suite, verdict_suite = root.findall("testsuite")
    changed = cases_suite.find("testcase[@name='a']/failure")
    other = cases_suite.find("testcase[@name='b']/failure")
    assert changed is not None and other is not None
    assert CHANGED_CHECKS_NOTE in (changed.text or "")
    assert CHANGED_CHECKS_NOTE not in (other.text or "")  # its input changed, not its checks
    summary = verdict_suite.findtext("testcase/system-out") or ""
    assert "verdict: not significant (McNemar p = 0.5)" in summary
    assert "broke (2): a (checks changed), b (input changed)" in summary
    assert "only in the baseline (1): gone" in summary
    assert "only in the candidate (1): new" in summary
    assert verdict_suite.find("testcase/failure") is None  # not a regression


def test_the_pin_note_names_which_runs_compare_with_which_pin(evals: EvalStore) -> None:
    v1 = suite(evals, "v1")
    prod = evals.run(recorded(evals, v1, "prod", ALL_PASS))
    bad = evals.run(recorded(evals, v1, "ft-bad", ALL_PASS))
    assert prod is not None and bad is not None
    evals.set_baseline(prod.id)
    assert pin_note(evals, prod) == (
        "runs of prod, and of any model with no pinned run of its own on qa, now compare"
        " with it by default"
    )
    evals.set_baseline(bad.id)  # QA: the worst model's pin became every new model's baseline
    assert pin_note(evals, bad) == (
        "runs of ft-bad, and of any model with no pinned run of its own on qa (all but"
        " prod), now compare with it by default"
    )
    assert pin_note(evals, prod) == (
        "runs of prod compare with it by default; runs of any model with no pinned run of its"
        f" own on qa (all but prod), with run {bad.id} of ft-bad, the suite's newest pinned run"
    )
    found = pinned_baseline_for(evals, "qa", "ft-mid")  # what the note says, eval run does
    assert found is not None and found.run.id == bad.id
    evals.clear_baseline(bad.id)
    assert pin_note(evals, bad) == (
        f"runs of ft-bad now compare by default with run {prod.id} of prod, the suite's newest"
        " pinned run, as do runs of any model with no pinned run of its own on qa"
    )
    evals.clear_baseline(prod.id)
    assert pin_note(evals, prod) == (
        "no run of qa is pinned now: a run without a named baseline has none"
    )
