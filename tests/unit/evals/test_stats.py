"""McNemar's exact test against known values, repeats, and regression verdicts on run pairs."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from core.evals.stats import (
    CaseChanges,
    CaseOutcome,
    RegressionPolicy,
    combine_repeats,
    compare_runs,
    flips_needed,
    least_p_value,
    mcnemar_exact,
    percentiles,
)

# Two-sided exact p-values of scipy 1.17's binomtest(min(b, c), b + c, 0.5), which is what
# statsmodels' mcnemar(exact=True) reports; computed once with scipy, outside this project.
SCIPY_BINOMTEST = {
    (0, 0): 1.0,
    (0, 1): 1.0,
    (1, 5): 0.21875,
    (0, 5): 0.0625,
    (0, 6): 0.03125,
    (1, 9): 0.021484375,
    (3, 3): 1.0,
    (5, 15): 0.04138946533203125,
    (10, 25): 0.016673847800120715,
    (12, 4): 0.076812744140625,
    (40, 60): 0.05688793364098089,
    (100, 130): 0.05561357778139238,
    (2600, 2900): 5.515185159796596e-05,
    (25000, 25500): 0.026382454975594646,
}


@pytest.mark.parametrize(("pair", "expected"), SCIPY_BINOMTEST.items(), ids=str)
def test_mcnemar_exact_matches_scipy(pair: tuple[int, int], expected: float) -> None:
    assert mcnemar_exact(*pair) == pytest.approx(expected, rel=1e-9)
    assert mcnemar_exact(*reversed(pair)) == pytest.approx(expected, rel=1e-9)


def test_mcnemar_by_hand() -> None:
    # b=0, c=4: P(X <= 0) = 1/16, two-sided 1/8; b=2, c=8: (1 + 10 + 45) / 1024 * 2
    assert mcnemar_exact(0, 4) == 0.125
    assert mcnemar_exact(2, 8) == 112 / 1024


@pytest.mark.parametrize(("b", "c"), [(2400, 2700), (4990, 5100), (1, 6000), (12000, 12300)])
def test_the_floating_point_tail_agrees_with_exact_integers(b: int, c: int) -> None:
    n, k = b + c, min(b, c)
    term = tail = 1  # C(n, 0), then C(n, i) = C(n, i - 1) * (n - i + 1) / i, in integers
    for i in range(1, k + 1):
        term = term * (n - i + 1) // i
        tail += term
    assert term == math.comb(n, k)
    exact = min(Fraction(1), Fraction(2 * tail, 2**n))
    assert mcnemar_exact(b, c) == pytest.approx(float(exact), rel=1e-9, abs=1e-300)


def test_mcnemar_refuses_negative_counts() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        mcnemar_exact(-1, 3)


def outcome(case_id: str, passed: bool, **fields: object) -> CaseOutcome:
    return CaseOutcome(case_id=case_id, passed=passed, score=1.0 if passed else 0.0, **fields)  # type: ignore[arg-type]


def run(passes: str, prefix: str = "c", **fields: object) -> list[CaseOutcome]:
    """A run from a string of 1 (pass) and 0 (fail), case ids c0, c1, ..."""
    return [outcome(f"{prefix}{i}", flag == "1", **fields) for i, flag in enumerate(passes)]


def test_identical_runs_are_unchanged() -> None:
    comparison = compare_runs(run("1101"), run("1101"))
    assert (comparison.verdict, comparison.p_value, comparison.broke, comparison.fixed) == (
        "unchanged",
        1.0,
        (),
        (),
    )
    assert comparison.pass_rate_delta == 0 and comparison.reasons == () and comparison.notes == ()


def test_a_significant_drop_is_a_regression() -> None:
    baseline, candidate = run("1" * 40), run("1" * 30 + "0" * 10)
    comparison = compare_runs(baseline, candidate)
    assert comparison.regression and len(comparison.broke) == 10 and comparison.fixed == ()
    assert comparison.p_value == pytest.approx(2 / 2**10)
    assert comparison.pass_rate_delta == pytest.approx(-0.25)
    assert comparison.reasons == (
        "pass rate dropped significantly: 10 broke, 0 fixed (McNemar p=0.00195 < 0.05)",
    )


def test_a_small_drop_is_not_significant_unless_beyond_the_tolerance() -> None:
    baseline, candidate = run("1" * 50), run("1" * 48 + "00")
    assert compare_runs(baseline, candidate).verdict == "unchanged"  # p = 0.5
    strict = compare_runs(baseline, candidate, RegressionPolicy(max_pass_rate_drop=0.02))
    assert strict.regression and strict.reasons == (
        "pass rate dropped 4.0 points, more than the tolerance 2.0 points",
    )
    loose = compare_runs(baseline, candidate, RegressionPolicy(alpha=0.6))
    assert loose.regression and loose.significant


def test_a_score_drop_tolerance() -> None:
    baseline = [CaseOutcome(f"c{i}", True, 0.9) for i in range(10)]
    candidate = [CaseOutcome(f"c{i}", True, 0.7) for i in range(10)]
    assert compare_runs(baseline, candidate).verdict == "unchanged"
    comparison = compare_runs(baseline, candidate, RegressionPolicy(max_score_drop=0.1))
    assert comparison.regression and comparison.score_delta == pytest.approx(-0.2)
    assert comparison.reasons == ("mean score dropped 0.200, beyond the tolerance 0.1",)


def test_any_failing_critical_case_is_a_regression() -> None:
    baseline = run("0111")
    candidate = [outcome("c0", False, critical=True), *run("111", prefix="x")]
    candidate += [outcome(f"c{i}", True) for i in (1, 2, 3)]
    comparison = compare_runs(baseline, candidate)
    assert comparison.regression and comparison.critical_failures == ("c0",)
    assert comparison.reasons == ("critical case(s) failing: c0",)
    new_critical = compare_runs(run("1"), [outcome("c0", True), outcome("n", False, critical=True)])
    assert new_critical.critical_failures == ("n",)  # unpaired, still counted


def test_a_significant_rise_is_an_improvement() -> None:
    comparison = compare_runs(run("0" * 12), run("1" * 12))
    assert comparison.verdict == "improved" and len(comparison.fixed) == 12
    assert comparison.reasons == ()


def test_only_cases_in_both_runs_are_paired_and_the_report_says_so() -> None:
    baseline = [*run("1111"), outcome("gone", True)]
    candidate = [*run("1111"), outcome("new1", False), outcome("new2", False)]
    comparison = compare_runs(baseline, candidate)
    counts = (comparison.paired, comparison.only_in_baseline, comparison.only_in_candidate)
    assert counts == (4, 1, 2)
    assert comparison.candidate_pass_rate == 1.0 and comparison.verdict == "unchanged"
    assert comparison.notes == (
        "only the 4 cases in both runs are compared: "
        "1 only in the baseline, 2 only in the candidate",
    )


def test_a_candidate_s_errored_cases_are_not_flips_and_leave_the_verdict_inconclusive() -> None:
    # QA finding 7: the endpoint down for 7 of 8 cases is not "7 broke, REGRESSION".
    baseline = run("1" * 8)
    candidate = [outcome(f"c{i}", True, errored=i < 7) for i in range(8)]
    comparison = compare_runs(baseline, candidate)
    assert comparison.broke == () and comparison.fixed == () and comparison.p_value == 1.0
    assert comparison.errored == tuple(f"c{i}" for i in range(7))
    assert comparison.paired == 8 and comparison.candidate_errored == 7
    assert comparison.candidate_pass_rate == pytest.approx(1 / 8)  # an error is not a pass
    assert (comparison.verdict, comparison.reasons, comparison.gate_passed) == (
        "inconclusive",
        (),
        False,
    )
    assert (
        comparison.verdict_label == "inconclusive: 7 of 8 cases errored (no answer or no verdict)"
    )
    assert (
        "7 candidate cases errored (no answer or no verdict): not passed in the pass rate, but not"
        " counted as broke or fixed nor in McNemar's test"
    ) in comparison.notes
    data = comparison.as_dict()
    assert (data["verdict"], data["regression"], data["gate_passed"]) == (
        "inconclusive",
        False,
        False,
    )
    assert data["errored"] == tuple(f"c{i}" for i in range(7))  # asdict keeps tuples


def test_errored_cases_hide_neither_a_significant_drop_nor_a_critical_case() -> None:
    # 10 answered pairs broke (a real drop), 4 more errored: the drop wins over inconclusive.
    baseline = run("1" * 14)
    candidate = run("0" * 10) + [outcome(f"c{i}", False, errored=True) for i in range(10, 14)]
    comparison = compare_runs(baseline, candidate)
    assert comparison.regression and len(comparison.broke) == 10
    assert comparison.reasons == (
        "pass rate dropped significantly: 10 broke, 0 fixed (McNemar p=0.00195 < 0.05)",
    )
    critical = [outcome("c0", False, critical=True, errored=True), *run("1", prefix="x")]
    errored_critical = compare_runs(run("1") + run("1", prefix="x"), critical)
    assert errored_critical.reasons == ("critical case(s) failing or errored: c0",)
    assert not errored_critical.gate_passed


def test_a_tolerance_is_checked_on_the_pairs_both_runs_answered() -> None:
    baseline = run("1" * 10)
    candidate = run("1" * 6) + [outcome(f"c{i}", False, errored=True) for i in range(6, 10)]
    policy = RegressionPolicy(max_pass_rate_drop=0.02, max_score_drop=0.1)
    outage = compare_runs(baseline, candidate, policy)
    assert outage.pass_rate_delta == pytest.approx(-0.4)  # shown as computed: errors not passed
    assert outage.answered_pass_rate_delta == 0 and outage.answered_score_delta == 0
    assert outage.verdict == "inconclusive" and outage.reasons == ()
    candidate[0] = outcome("c0", False)  # one answered pair really dropped
    dropped = compare_runs(baseline, candidate, policy)
    assert dropped.reasons == (
        "pass rate dropped 16.7 points among the 6 pairs both runs answered, more than the"
        " tolerance 2.0 points",
        "mean score dropped 0.167 among the 6 pairs both runs answered, beyond the tolerance 0.1",
    )


def test_a_pair_whose_baseline_errored_is_not_compared() -> None:
    # QA finding 1: a baseline that never got an answer made every candidate "unchanged".
    baseline = [outcome(f"c{i}", False, errored=i < 3) for i in range(5)]
    comparison = compare_runs(baseline, run("00011"))
    assert comparison.paired == 2 and comparison.baseline_errored == ("c0", "c1", "c2")
    assert comparison.fixed == ("c3", "c4") and comparison.broke == ()
    assert comparison.baseline_pass_rate == 0 and comparison.candidate_pass_rate == 1
    assert "3 cases errored in the baseline run: not compared" in comparison.notes
    nothing_left = compare_runs(
        [outcome(f"c{i}", False, errored=True) for i in range(6)], run("0" * 6)
    )
    assert nothing_left.paired == 0 and nothing_left.baseline_pass_rate is None
    assert (nothing_left.verdict, nothing_left.gate_passed) == ("inconclusive", False)
    assert nothing_left.verdict_label == (
        "inconclusive: no paired case left to compare (6 cases errored in the baseline run)"
    )


def test_a_baseline_that_errored_where_the_candidate_fails_leaves_the_verdict_open() -> None:
    # A baseline with one answer and 11 errors made an 11-of-12-failing candidate "unchanged".
    baseline = [outcome(f"c{i}", i == 0, errored=i > 0) for i in range(12)]
    candidate = run("1" + "0" * 11)
    comparison = compare_runs(baseline, candidate, RegressionPolicy())
    assert comparison.unjudged == tuple(f"c{i}" for i in range(1, 12))
    assert (comparison.verdict, comparison.gate_passed) == ("inconclusive", False)
    assert comparison.verdict_label == (
        "inconclusive: 11 cases not passing errored in the baseline run: whether they broke"
        " cannot be told"
    )
    passing_now = compare_runs(baseline, run("1" * 12))  # nothing can have broken
    assert passing_now.unjudged == () and passing_now.verdict == "unchanged"


def test_without_a_baseline_the_verdict_says_so_and_errors_make_it_inconclusive() -> None:
    alone = compare_runs(None, run("110"))
    assert (alone.verdict, alone.verdict_label, alone.gate_passed) == (
        "no_baseline",
        "no baseline",
        True,
    )
    assert not alone.has_baseline and alone.paired == 0
    errored = [outcome(f"c{i}", False, errored=i < 4) for i in range(6)]
    outage = compare_runs(None, errored)
    assert outage.verdict == "inconclusive" and not outage.gate_passed
    assert outage.verdict_label == "inconclusive: 4 of 6 cases errored (no answer or no verdict)"
    assert outage.candidate_errored_ids == ("c0", "c1", "c2", "c3")
    critical = compare_runs(None, [outcome("a", False, critical=True, errored=True)])
    assert critical.verdict == "regression"  # a reason wins over inconclusive
    assert compare_runs([], run("1")).verdict == "inconclusive"  # a baseline, nothing paired


def test_latency_and_cost() -> None:
    baseline = [
        outcome(f"c{i}", True, latency_ms=float(ms), cost_usd=0.01)
        for i, ms in enumerate(range(100, 1100, 100))
    ]
    candidate = [
        outcome(f"c{i}", True, latency_ms=float(ms), cost_usd=0.02)
        for i, ms in enumerate(range(50, 550, 50))
    ]
    comparison = compare_runs(baseline, candidate)
    assert comparison.baseline_latency.p50 == 550
    assert comparison.baseline_latency.p95 == pytest.approx(955)
    assert comparison.latency_delta_ms("p50") == -275
    assert comparison.baseline_cost_usd == pytest.approx(0.1)
    assert comparison.cost_delta_usd == pytest.approx(0.1)
    unpriced = compare_runs(baseline, [*candidate[:9], outcome("c9", True, cost_usd=None)])
    assert unpriced.candidate_cost_usd is None and unpriced.cost_delta_usd is None
    data = comparison.as_dict()
    assert data["verdict"] == "unchanged" and data["latency_p50_delta_ms"] == -275
    assert data["baseline_latency"] == {"p50": 550.0, "p95": pytest.approx(955.0)}


def test_a_case_with_no_answer_leaves_the_cost_known() -> None:
    # QA: "cost unknown" whenever a side had an errored case, even on a free endpoint.
    baseline = run("11", cost_usd=0.01)
    candidate = [outcome("c0", True, cost_usd=0.02), outcome("c1", False, errored=True)]
    comparison = compare_runs(baseline, candidate)
    assert comparison.candidate_cost_usd == pytest.approx(0.02)
    assert comparison.baseline_cost_usd == pytest.approx(0.01)  # the same cases: c0


def test_percentiles_interpolate_like_numpy() -> None:
    assert percentiles([]).p50 is None
    assert percentiles([7.0]) == percentiles([7.0, 7.0])
    assert percentiles([1.0, 2.0, 3.0, 4.0]).p50 == 2.5
    assert percentiles([float(v) for v in range(1, 21)]).p95 == pytest.approx(19.05)


def test_repeats_combine_by_majority_and_mean() -> None:
    repeats = [
        CaseOutcome("a", True, 1.0, latency_ms=100, cost_usd=0.01),
        CaseOutcome("a", False, 0.4, latency_ms=300, cost_usd=0.03),
        CaseOutcome("a", True, 0.7, latency_ms=200, cost_usd=0.02),
    ]
    combined = combine_repeats(repeats)
    assert combined.passed and combined.score == pytest.approx(0.7)
    assert combined.latency_ms == 200 and combined.cost_usd == pytest.approx(0.02)
    tie = combine_repeats(repeats[:2])
    assert not tie.passed  # a tie fails
    with pytest.raises(ValueError, match="different cases"):
        combine_repeats([repeats[0], CaseOutcome("b", True, 1.0)])


def test_compare_runs_combines_repeats_itself() -> None:
    baseline = run("11") * 3  # each case passed 3 times
    candidate = [
        outcome("c0", True),
        outcome("c0", False),
        outcome("c0", False),
        *run("11")[1:] * 3,
    ]
    comparison = compare_runs(baseline, candidate)
    assert comparison.paired == 2 and comparison.broke == ("c0",)


def test_repeats_that_got_no_answer_are_not_counted_as_the_models_failures() -> None:
    # 1 pass and 2 errors a case was "8 broke: regression": the model blamed for an outage.
    baseline = run("1" * 8) * 3
    candidate = [
        outcome(f"c{i}", passed, errored=errored)
        for i in range(8)
        for passed, errored in ((True, False), (False, True), (False, True))
    ]
    comparison = compare_runs(baseline, candidate)
    assert comparison.broke == () and comparison.candidate_pass_rate == 1
    assert comparison.candidate_errored == 8  # answers are missing: the gate does not pass
    assert (comparison.verdict, comparison.gate_passed) == ("inconclusive", False)
    combined = combine_repeats(candidate[:3])
    assert (combined.passed, combined.errored, combined.partly_errored) == (True, False, True)
    assert combined.score == 1.0  # the answered repeats' mean


# -- few flips, changed cases -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alpha", "needed"), [(0.05, 6), (0.0625, 6), (0.06251, 5), (0.01, 8), (1.0, 2), (0.0, None)]
)
def test_flips_needed_is_the_least_count_whose_one_way_split_is_significant(
    alpha: float, needed: int | None
) -> None:
    assert flips_needed(alpha) == needed
    if needed is not None:
        assert least_p_value(needed) < alpha <= least_p_value(needed - 1)
        assert least_p_value(needed) == mcnemar_exact(needed, 0) == 2 / 2**needed


def test_a_drop_too_small_for_the_test_says_so_and_names_the_tolerance() -> None:
    # QA's suite: 6 paired cases, 4 broke (66.7% -> 0%): p = 0.125, the least 4 flips give
    comparison = compare_runs(run("111100"), run("000000"))
    assert comparison.verdict == "unchanged"  # the value CI scripts read is kept
    assert comparison.verdict_label == "not significant"
    assert not comparison.significance_reachable and comparison.least_p_value == 0.125
    assert comparison.notes == (
        "too few flipped cases to tell: with 4 flipped cases McNemar's test cannot go below"
        " p = 0.125 even if all flip one way, and alpha 0.05 needs at least 6; to gate on a"
        " drop this small, set a tolerance (--max-pass-rate-drop 0.05 fails a drop of more"
        " than 5 points)",
    )
    data = comparison.as_dict()
    assert (data["verdict"], data["verdict_label"], data["significance_reachable"]) == (
        "unchanged",
        "not significant",
        False,
    )
    assert data["least_p_value"] == 0.125 and data["alpha"] == 0.05


def test_enough_flips_or_none_leave_no_small_suite_note() -> None:
    reachable = compare_runs(run("1" * 6 + "0" * 4), run("0" * 3 + "1" * 3 + "1" * 3 + "0"))
    assert len(reachable.broke) + len(reachable.fixed) == 6 and reachable.significance_reachable
    assert reachable.verdict_label == "not significant" and reachable.notes == ()
    assert compare_runs(run("10"), run("10")).verdict_label == "unchanged"
    balanced = compare_runs(run("10"), run("01"))  # 1 broke, 1 fixed: no drop to gate on
    assert balanced.notes[0].endswith("even if all flip one way, and alpha 0.05 needs at least 6")


def test_cases_whose_checks_or_input_changed_are_named_among_the_paired_ones() -> None:
    changes = CaseChanges(checks=("c0", "c2", "gone"), inputs=("c1",))
    comparison = compare_runs(run("1110"), run("0101"), changes=changes)
    assert comparison.broke == ("c0", "c2") and comparison.fixed == ("c3",)
    assert comparison.changed_checks == ("c0", "c2")  # "gone" is not paired
    assert comparison.changed_inputs == ("c1",) and comparison.changed_flips == ("c0", "c2")
    assert (
        "the checks of 2 paired cases changed in the candidate's suite version, 2 of them"
        " flipped: not the model's doing"
    ) in comparison.notes
    assert (
        "the input of 1 paired case changed in the candidate's suite version: a flip is the"
        " input's doing as much as the model's"
    ) in comparison.notes


def test_a_significant_drop_says_how_many_broken_cases_changed_their_checks() -> None:
    changes = CaseChanges(checks=("c0", "c1"))
    comparison = compare_runs(run("1" * 10), run("0" * 10), changes=changes)
    assert comparison.reasons == (
        "pass rate dropped significantly: 10 broke (2 of them with changed checks), 0 fixed"
        " (McNemar p=0.00195 < 0.05)",
    )


def test_the_ids_of_unpaired_cases_are_kept() -> None:
    comparison = compare_runs(run("11", prefix="a") + run("1", prefix="b"), run("11", "a"))
    assert comparison.only_in_baseline_ids == ("b0",) and comparison.only_in_candidate_ids == ()
    assert comparison.notes[0] == (
        "only the 2 cases in both runs are compared: 1 only in the baseline, 0 only in the"
        " candidate"
    )
