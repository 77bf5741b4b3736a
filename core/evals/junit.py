"""A run as JUnit XML, for CI systems that show test reports.

Layout (the structure of the common JUnit schema: `testsuites` > `testsuite` > `testcase`,
each with its counts, `failure` and `error` children)::

    <testsuites name="tunedeck eval" tests= failures= errors= skipped="0" time=>
      <testsuite name=SUITE id=RUN tests= failures= errors= skipped="0" time= timestamp=>
        <properties> model, profile, endpoint, suite version, run id, status </properties>
        <testcase name=CASE classname=SUITE.MODEL time=SECONDS>
          <failure message=FIRST REASON type="assertion">every failed assertion
            (and a note when the case broke but its checks changed since the baseline's
            suite version: not the model's doing)</failure>
          <error message=ERROR type="error">...</error>        (no answer, or no verdict)
          <system-out>the answer (first 10,000 characters)</system-out>
        </testcase>
      </testsuite>
      <testsuite name="SUITE regression check" ...>   (when a report is given)
        <testcase name="verdict against ...">
          <failure type="regression"> when the verdict is a regression, type="inconclusive"
            (its message says why: errored cases) when it is inconclusive, type="incomplete"
            when the run did not complete (stopped by Ctrl-C, a budget or --max-cost)
          <system-out> the comparison: verdict, flips (cases whose checks or input changed
            marked), ids of the cases in one run only, notes </system-out>
        </testcase>
      </testsuite>
    </testsuites>

A case repeated K times (`--repeat K`) is one testcase, its repeats combined as the verdict
combines them (`combine_repeats`: it passes on a strict majority of its answered repeats, a
tie fails; it is an error only when every repeat is): its failure lists each failed repeat's
reasons, its `system-out` each repeat's status and answer. Text from a model is written
as text (escaped by the XML writer); characters XML 1.0 cannot hold (NUL, ESC, ...) are
written as `\\xNN` so the file always parses.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime
from itertools import groupby
from pathlib import Path

from core.data.writing import write_text_atomically
from core.errors import BadInput
from core.evals.comparison_notes import case_marks
from core.evals.report import RunReport, outcome_of
from core.evals.stats import combine_repeats
from storage.eval_records import EvalRun, RecordedResult

OUTPUT_CHARS = 10_000
"""At most this many characters of an answer go into `system-out`."""
_MESSAGE_CHARS = 500
CHANGED_CHECKS_NOTE = (
    "this case's checks changed since the baseline's suite version: its flip is not the"
    " model's doing"
)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def junit_xml(run: EvalRun, results: Iterable[RecordedResult], report: RunReport | None) -> str:
    """The JUnit XML of a run's results, with a regression check when `report` compares it."""
    root = ET.Element("testsuites", name="tunedeck eval")
    suites = [_run_suite(run, results, report)]
    if report is not None:
        suites.append(_verdict_suite(run, report))
    root.extend(suites)
    _set_counts(root, suites)
    root.set("time", suites[0].get("time", "0"))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def check_junit_path(path: Path) -> None:
    """Refuse a `--junit` path that could not be written, before a run sends anything (a
    missing folder is fine: `write_junit` makes it, as pytest's `--junitxml` does).

    Raises:
        BadInput: the path is a folder, a part of it is a file, or the folder it would be
            written in is not writable.
    """
    if path.is_dir():
        raise BadInput(f"--junit {path}: is a folder; give a file name")
    existing = next(parent for parent in path.absolute().parents if parent.exists())
    if not existing.is_dir():
        raise BadInput(f"--junit {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BadInput(f"--junit {path}: folder {existing} is not writable")


def write_junit(
    path: Path, run: EvalRun, results: Iterable[RecordedResult], report: RunReport | None
) -> None:
    """Write `junit_xml` to `path` (UTF-8), whole or not at all; its folder is made if missing.

    Raises:
        BadInput: the file cannot be written (one line naming it).
    """
    write_text_atomically(path, junit_xml(run, results, report))


def _run_suite(
    run: EvalRun, results: Iterable[RecordedResult], report: RunReport | None
) -> ET.Element:
    suite = ET.Element("testsuite", name=_text(run.suite_name), id=str(run.id))
    suite.set("timestamp", _timestamp(run.started_at))
    suite.set("time", _seconds(_duration_ms(run)))
    suite.append(_properties(run))
    changed: set[str] = set()
    if report is not None:
        changed.update(report.comparison.changed_checks)
        changed.intersection_update(report.comparison.broke)
    if run.repeats == 1:
        cases = [_testcase(run, result, result.case_id in changed) for result in results]
    else:  # results come by case id, then repeat
        grouped = groupby(results, key=lambda result: result.case_id)
        cases = [_repeated_testcase(run, list(group), key in changed) for key, group in grouped]
    suite.extend(cases)
    _set_counts(suite, cases)
    return suite


def _testcase(run: EvalRun, result: RecordedResult, checks_changed: bool) -> ET.Element:
    name = result.case_id if run.repeats == 1 else f"{result.case_id}#{result.repeat_index + 1}"
    case = ET.Element(
        "testcase", name=_text(name), classname=_text(f"{run.suite_name}.{run.model}")
    )
    case.set("time", _seconds(result.latency_ms))
    if result.status == "error":
        message = result.error or "the case could not be judged"
        _child(case, "error", message, "error", "\n".join(_reasons(result)) or message)
    elif result.status == "fail":
        reasons = _reasons(result) or ["failed"]
        if checks_changed:
            reasons.append(f"note: {CHANGED_CHECKS_NOTE}")
        _child(case, "failure", reasons[0], "assertion", "\n".join(reasons))
    if result.output_text:
        ET.SubElement(case, "system-out").text = _text(result.output_text[:OUTPUT_CHARS])
    return case


def _repeated_testcase(
    run: EvalRun, repeats: list[RecordedResult], checks_changed: bool
) -> ET.Element:
    combined = combine_repeats([outcome_of(result) for result in repeats])
    case = ET.Element(
        "testcase", name=_text(combined.case_id), classname=_text(f"{run.suite_name}.{run.model}")
    )
    case.set("time", _seconds(combined.latency_ms))
    passed = sum(result.status == "pass" for result in repeats)
    errored = sum(result.status == "error" for result in repeats)
    tally = f"{passed} of {len(repeats)} repeats passed"
    if errored and not combined.errored:
        tally = f"{passed} of {len(repeats) - errored} answered repeats passed ({errored} errored)"
    failed = [result for result in repeats if result.status != "pass"]
    details = [
        f"repeat {result.repeat_index + 1}: {reason}"
        for result in failed
        for reason in (_reasons(result) or [result.error or result.status])
    ]
    if combined.errored:
        message = f"every repeat errored: {repeats[0].error or 'no verdict'}"
        _child(case, "error", message, "error", "\n".join(details) or message)
    elif not combined.passed:
        lines = [f"{tally} (a case passes on a strict majority; a tie fails)", *details]
        if checks_changed:
            lines.append(f"note: {CHANGED_CHECKS_NOTE}")
        _child(case, "failure", lines[0], "assertion", "\n".join(lines))
    shown = OUTPUT_CHARS // len(repeats)
    out = [tally, *details] if failed else [tally]
    for result in repeats:
        out.append(f"--- repeat {result.repeat_index + 1}: {result.status}")
        out.append((result.output_text or "")[:shown])
    ET.SubElement(case, "system-out").text = _text("\n".join(out))
    return case


def _verdict_suite(run: EvalRun, report: RunReport) -> ET.Element:
    suite = ET.Element("testsuite", name=_text(f"{run.suite_name} regression check"))
    suite.set("timestamp", _timestamp(run.started_at))
    suite.set("time", "0")
    against = report.baseline.chosen_as if report.baseline else "no baseline"
    case = ET.SubElement(suite, "testcase", name=_text(f"verdict against {against}"))
    case.set("classname", _text(f"{run.suite_name}.regression"))
    case.set("time", "0")
    comparison = report.comparison
    summary = comparison_lines(report)
    if report.regression:
        detail = [*comparison.reasons, *summary]
        _child(case, "failure", "; ".join(comparison.reasons), "regression", "\n".join(detail))
    elif not report.comparison.gate_passed:  # a gate does not pass on answers it did not get
        label = comparison.verdict_label
        _child(case, "failure", label, "inconclusive", "\n".join(summary))
    elif not report.gate_passed:
        recorded = run.summary.recorded if run.summary else 0
        label = f"run {run.id} is {run.status}: {recorded:,} of {run.cases_total:,} recorded"
        _child(case, "failure", label, "incomplete", "\n".join(summary))
    ET.SubElement(case, "system-out").text = _text("\n".join(summary))
    _set_counts(suite, [case])
    return suite


def comparison_lines(report: RunReport) -> list[str]:
    """The comparison as plain lines: the verdict in words, the flips (each case whose
    checks or input changed between the suite versions marked), the errored cases, every id
    of the cases in one run only, and the notes."""
    comparison = report.comparison
    lines = [f"verdict: {comparison.verdict_label} (McNemar p = {comparison.p_value:.3g})"]
    marks = case_marks(comparison)
    for label, ids in (
        ("broke", comparison.broke),
        ("fixed", comparison.fixed),
        ("errored", comparison.errored if report.baseline else comparison.candidate_errored_ids),
        ("errored in the baseline (not compared)", comparison.baseline_errored),
        ("only in the baseline", comparison.only_in_baseline_ids),
        ("only in the candidate", comparison.only_in_candidate_ids),
    ):
        if ids:
            lines.append(f"{label} ({len(ids)}): " + ", ".join(i + marks.get(i, "") for i in ids))
    lines += [f"note: {note}" for note in report.notes]
    return lines


def _properties(run: EvalRun) -> ET.Element:
    properties = ET.Element("properties")
    values = {
        "run_id": str(run.id),
        "model": run.model,
        "profile": run.profile or "",
        "endpoint": run.endpoint or "",
        "suite_version": run.suite_version,
        "status": run.status,
        "repeats": str(run.repeats),
    }
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=_text(value))
    return properties


def _child(parent: ET.Element, tag: str, message: str, kind: str, text: str) -> None:
    element = ET.SubElement(parent, tag, message=_text(_one_line(message)), type=kind)
    element.text = _text(text)


def _set_counts(parent: ET.Element, children: list[ET.Element]) -> None:
    """tests/failures/errors/skipped of `parent`: its testcases, or the sum of its suites."""
    if parent.tag == "testsuite":
        counts = {
            "tests": len(children),
            "failures": sum(child.find("failure") is not None for child in children),
            "errors": sum(child.find("error") is not None for child in children),
        }
    else:
        counts = {
            key: sum(int(child.get(key, "0")) for child in children)
            for key in ("tests", "failures", "errors")
        }
    for key, value in counts.items():
        parent.set(key, str(value))
    parent.set("skipped", "0")


def _reasons(result: RecordedResult) -> list[str]:
    """`type: reason` of each failed assertion."""
    return [
        f"{score.get('type')}: {score.get('reason')}"
        for score in result.scores
        if not score.get("passed")
    ]


def _duration_ms(run: EvalRun) -> float | None:
    return run.running_ms  # a resumed run's sessions, not the time it lay interrupted


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _timestamp(stamp: str) -> str:
    """ISO 8601 without a zone or fraction, as the JUnit schema's timestamp (UTC)."""
    return _moment(stamp).strftime("%Y-%m-%dT%H:%M:%S")


def _seconds(milliseconds: float | None) -> str:
    return f"{(milliseconds or 0) / 1000:.3f}"


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MESSAGE_CHARS else flat[: _MESSAGE_CHARS - 3] + "..."


def _text(text: str) -> str:
    """`text` with the characters XML 1.0 cannot hold written as `\\xNN`."""
    return _NOT_XML.sub(lambda found: f"\\x{ord(found.group()):02x}", text)
