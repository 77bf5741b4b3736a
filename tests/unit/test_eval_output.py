"""`tunedeck eval`'s printing of a run's summary and of a comparison's verdict."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.evals.report import RunReport
from core.evals.stats import RegressionPolicy, compare_runs
from core.evals.tally import CaseTally
from storage.eval_records import EvalRun, RunSummary
from tests.unit.evals.test_stats import run as outcomes
from tui.cli import eval_output
from tui.cli.eval_output import print_run, verdict_line


def eval_run(status: str, total: int) -> EvalRun:
    return EvalRun(
        id=7, suite_id=1, model="m", started_at="2026-11-28T10:00:00Z", pid=1,
        cases_total=total, suite_name="qa", suite_version="v" * 12, status=status,
    )  # fmt: skip


def test_an_interrupted_run_says_its_rate_is_of_the_recorded_cases(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_run(eval_run("interrupted", 40), RunSummary(passed=2, mean_score=1.0))
    out = capsys.readouterr().out
    assert "  passed 2, failed 0, errored 0: 2 of 40 cases recorded (100.0% of those passed)" in out
    assert "of 40 (100.0%)" not in out  # QA: read as 100% of the run
    print_run(eval_run("completed", 2), RunSummary(passed=1, failed=1, mean_score=0.5))
    shown = "  passed 1, failed 1, errored 0 of 2 (50.0% passed), mean score 0.500"
    assert shown in capsys.readouterr().out


def report(baseline: str, candidate: str, policy: RegressionPolicy | None = None) -> RunReport:
    comparison = compare_runs(outcomes(baseline), outcomes(candidate), policy)
    return RunReport(eval_run("completed", len(candidate)), None, comparison, ())


def test_the_verdict_line_never_calls_a_drop_unchanged() -> None:
    assert verdict_line(report("1111", "1111")) == "verdict: unchanged"
    assert verdict_line(report("111100", "000000")) == (  # QA: 66.7% -> 0%, 'unchanged'
        "verdict: not significant (too few flipped cases to tell): 4 broke, 0 fixed of 6 paired"
        " cases (pass rate -66.7 points), McNemar p = 0.125, the least 4 flips can give;"
        " --max-pass-rate-drop gates on it"
    )
    reachable = report("1" * 94 + "0" * 6, "0" * 4 + "1" * 90 + "11" + "0" * 4)  # 6 flips
    assert verdict_line(reachable) == (
        "verdict: not significant: 4 broke, 2 fixed of 100 paired cases (pass rate -2.0"
        " points), McNemar p = 0.688"
    )
    assert verdict_line(report("111100", "000000", RegressionPolicy(max_pass_rate_drop=0.1))) == (
        "verdict: REGRESSION: pass rate dropped 66.7 points, more than the tolerance 10.0 points"
    )


def test_errored_cases_are_listed_apart_and_the_verdict_is_inconclusive(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from core.evals.report import Baseline
    from core.evals.stats import CaseOutcome
    from tui.cli.eval_output import print_report

    base = outcomes("1" * 6)
    down = [CaseOutcome(f"c{i}", i >= 4, float(i >= 4), errored=i < 4) for i in range(6)]
    comparison = compare_runs(base, down)
    run = eval_run("completed", 6)
    print_report(RunReport(run, Baseline(replace(run, id=3), "run 3"), comparison, ()))
    out = capsys.readouterr().out
    assert "  errored (4): c0, c1, c2, c3\n" in out and "broke" not in out  # QA finding 7
    assert "verdict: INCONCLUSIVE: 4 of 6 cases errored (no answer or no verdict)\n" in out
    print_report(RunReport(run, None, compare_runs(None, down), ()))
    out = capsys.readouterr().out
    assert "  errored (4): c0, c1, c2, c3\n" in out
    assert out.endswith("verdict: INCONCLUSIVE: 4 of 6 cases errored (no answer or no verdict)\n")
    print_report(RunReport(run, None, compare_runs(None, base), ()))
    assert capsys.readouterr().out == "verdict: no baseline\n"


@pytest.mark.parametrize(
    ("finished", "resumed", "earlier_ms", "took"),
    [
        ("2026-11-28T10:00:03.200Z", None, 0.0, "completed in 3.20 s"),
        (
            "2026-11-28T12:01:00Z",  # resumed at 12:00 after 5 s: 65 s ran in 2 h 1 min
            "2026-11-28T12:00:00Z",
            5000.0,
            "completed in 1 min 5 s of running (resumed; 2 h 1 min from start to end)",
        ),
    ],
)
def test_a_resumed_run_says_how_long_it_ran_not_how_long_it_lay_interrupted(
    capsys: pytest.CaptureFixture[str],
    finished: str,
    resumed: str | None,
    earlier_ms: float,
    took: str,
) -> None:
    run = replace(
        eval_run("completed", 1), finished_at=finished, resumed_at=resumed, earlier_ms=earlier_ms
    )
    print_run(run, RunSummary(passed=1, mean_score=1.0))
    assert capsys.readouterr().out.splitlines()[0].endswith(f"via -, {took}")


def test_a_repeated_run_counts_answers_then_cases_as_its_verdict_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = replace(eval_run("completed", 15), repeats=3)
    print_run(run, RunSummary(passed=13, failed=2, mean_score=0.9), CaseTally(4, 1, 0, 3))
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == (
        "  passed 13, failed 2, errored 0 of 15 answers (86.7% passed), mean score 0.900"
    )
    assert lines[2] == (
        "  by case (majority of 3): passed 4, failed 1, errored 0 of 5 (80.0% passed)"
    )


def test_long_prose_is_folded_at_a_terminal_and_whole_in_a_pipe(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    note = "note: " + " ".join(f"word{i}" for i in range(40))
    eval_output._echo_folded(note)
    assert capsys.readouterr().out == note + "\n"  # piped: one line, for scripts
    monkeypatch.setattr(eval_output, "terminal_width", lambda: 80)
    eval_output._echo_folded(note)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 1 and all(len(line) < 80 for line in lines)
    assert " ".join(line.strip() for line in lines) == note
