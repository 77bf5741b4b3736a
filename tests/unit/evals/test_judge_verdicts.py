"""How an `llm-rubric` judge's reply is read: a JSON verdict decides, else an explicit
verdict (first word, a labelled line, a last sentence that is the verdict alone); prose is
never read for one, so a negation can never grade as a pass."""

from __future__ import annotations

import pytest

from core.evals.judge import UnreadableVerdict, is_verdict, read_verdict

NOT_UNDERSTOOD = None

# Replies as judges write them, and the verdict (passed, score) each must give.
REPLIES: list[tuple[str, tuple[bool, float] | None]] = [
    # QA's four, read as PASS 1.0 by the last-PASS/FAIL-word rule (and the first run's one)
    ("The output does not pass the rubric: it never greets anyone.", NOT_UNDERSTOOD),
    ("FAIL. It would only pass if it greeted.", (False, 0.0)),
    ("This fails to pass.", NOT_UNDERSTOOD),
    ("Verdict: fail. The reply is curt; had it said hello it would pass.", (False, 0.0)),
    ("It passes? No.", NOT_UNDERSTOOD),
    # JSON decides, bare, fenced or inside prose, whatever the prose says
    ('{"reason": "It opens with Hello.", "pass": true, "score": 1.0}', (True, 1.0)),
    ('```json\n{"pass": false, "score": 0.2, "reason": "rude"}\n```', (False, 0.2)),
    ('Sure. {"Pass": "true", "Score": "0.8", "Reason": "ok"} Hope it helps', (True, 0.8)),
    ('It would pass if polite.\n{"pass": false, "reason": "not polite"}', (False, 0.0)),
    ('{"verdict": "FAIL", "reason": "no greeting"}', (False, 0.0)),
    ('{"pass": true, "score": 7}', (True, 1.0)),  # an out-of-range score is ignored
    ('{"score": 0.3}', (False, 0.3)),
    # an explicit verdict first
    ("PASS", (True, 1.0)),
    ("PASS: it greets the user politely.", (True, 1.0)),
    ("PASS: no issues found", (True, 1.0)),
    ("Fail - it never says hello, though it would pass with one.", (False, 0.0)),
    ("FAIL: no greeting at all", (False, 0.0)),
    ("**FAIL**\n\nThe output should greet; it would pass then.", (False, 0.0)),
    ("Result: PASS. The output greets the user.", (True, 1.0)),
    ("**Verdict:** FAIL\nIt does not pass the rubric.", (False, 0.0)),
    # a labelled verdict or a bare verdict as the last sentence, after the reasoning
    ("The answer is polite and complete.\nVerdict: PASS", (True, 1.0)),
    ("It misses the point. FAIL", (False, 0.0)),
    ("It greets warmly and by name.\n\nFinal verdict: pass", (True, 1.0)),
    ("pass: false, score: 0.3", (False, 0.3)),
    ("Pass: no", (False, 0.0)),
    ("score: 0.75", (True, 0.75)),
    # prose, contradictions and scores out of 0..1: not a verdict
    ("The output passes the rubric.", NOT_UNDERSTOOD),
    ("Yes, it passes.", NOT_UNDERSTOOD),
    ("It doesn't fail, but it doesn't pass either.", NOT_UNDERSTOOD),
    ("Verdict: not a pass", NOT_UNDERSTOOD),
    ("Verdict: PASS\nOn reflection it misses the greeting.\nVerdict: FAIL", NOT_UNDERSTOOD),
    ("FAIL. Looking again, it greets. PASS", NOT_UNDERSTOOD),
    ('{"pass": true} ... no wait: {"pass": false}', NOT_UNDERSTOOD),
    ("Score: 9/10", NOT_UNDERSTOOD),
    ("Score: 1/10", NOT_UNDERSTOOD),
    ("score: 80%", NOT_UNDERSTOOD),
    ("Sorry, I cannot help with that.", NOT_UNDERSTOOD),
    ("", NOT_UNDERSTOOD),
]


@pytest.mark.parametrize(("reply", "expected"), REPLIES)
def test_a_judge_reply_gives_its_explicit_verdict_or_none(
    reply: str, expected: tuple[bool, float] | None
) -> None:
    if expected is NOT_UNDERSTOOD:
        with pytest.raises(UnreadableVerdict, match=r"^judge reply not understood"):
            read_verdict(reply)
        assert not is_verdict(reply)
    else:
        verdict = read_verdict(reply)
        assert (verdict.passed, verdict.score) == expected
        assert is_verdict(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "The output does not pass the rubric: it never greets anyone.",
        "FAIL. It would only pass if it greeted.",
        "This fails to pass.",
        "Verdict: fail. The reply is curt; had it said hello it would pass.",
        "It passes? No.",
        "It should not pass.",
        "Does not pass.",
        "Would it pass? Not at all.",
        "I would not say it passes.",
        "Failed: it would pass only with a greeting.",
    ],
)
def test_a_negation_never_reads_as_a_pass(reply: str) -> None:
    try:
        verdict = read_verdict(reply)
    except UnreadableVerdict:
        return
    assert not verdict.passed


def test_a_contradiction_says_so() -> None:
    with pytest.raises(UnreadableVerdict, match=r"it says both pass and fail"):
        read_verdict("Verdict: PASS\nVerdict: FAIL")


def test_a_threshold_still_bounds_an_explicit_pass() -> None:
    assert read_verdict("Verdict: PASS\nscore: 0.9", threshold=0.8).passed
    assert not read_verdict("Verdict: PASS\nscore: 0.6", threshold=0.8).passed
    assert read_verdict("score: 0.6", threshold=0.5).passed


def test_a_score_under_the_threshold_says_so_in_the_reason() -> None:
    # QA: a rubric that failed its threshold showed only "judge: partly".
    below = read_verdict('{"pass": true, "score": 0.7, "reason": "partly"}', threshold=0.8)
    assert not below.passed and below.reason == "judge: partly (score 0.70 < threshold 0.8)"
    above = read_verdict('{"pass": true, "score": 0.9, "reason": "mostly"}', threshold=0.8)
    assert above.passed and above.reason == "judge: mostly"
    assert read_verdict('{"pass": false, "reason": "no"}', threshold=0.8).reason == "judge: no"
