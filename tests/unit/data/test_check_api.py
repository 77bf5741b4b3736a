"""The check as a pane's thread worker uses it: progress, cancellation, paging, options."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import CheckCancelled, CheckOptions, Progress, check_file
from core.data.problems import FORMAT_KINDS
from core.errors import BadInput
from tests.unit.data.corpus import Corpus


def many_lines(path: Path, count: int, broken_every: int = 0) -> Path:
    corpus = Corpus()
    for number in range(1, count + 1):
        corpus.add("{" if broken_every and number % broken_every == 0 else corpus.chat())
    return corpus.write(path)


def test_progress_reports_bytes_and_examples_and_ends_with_done(tmp_path: Path) -> None:
    path = many_lines(tmp_path / "f.jsonl", 3000)
    seen: list[Progress] = []
    report = check_file(path, progress=seen.append)
    reading = [p for p in seen if p.phase == "reading"]
    assert [p.lines for p in reading] == [1024, 2048]
    assert all(0 < p.bytes_read < p.total_bytes == path.stat().st_size for p in reading)
    assert [p.phase for p in seen[-2:]] == ["duplicates", "done"]
    assert seen[-1].bytes_read == seen[-1].total_bytes and seen[-1].examples == 3000
    assert report.summary.examples == 3000


def test_setting_cancel_stops_the_check(tmp_path: Path) -> None:
    path = many_lines(tmp_path / "f.jsonl", 3000)
    cancel = threading.Event()
    seen: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        seen.append(progress)
        cancel.set()

    with pytest.raises(CheckCancelled):
        check_file(path, progress=on_progress, cancel=cancel)
    assert [p.lines for p in seen] == [1024]


def test_problem_details_are_capped_but_counts_and_lines_stay_exact(tmp_path: Path) -> None:
    path = many_lines(tmp_path / "f.jsonl", 300, broken_every=3)
    report = check_file(path, CheckOptions(max_problems=40))
    assert len(report.problems) == 100 and report.problems.truncated
    assert report.problems.counts() == {"invalid_json": 100}
    assert report.problems.lines_with({"invalid_json"}) == set(range(3, 301, 3))
    page = report.problems.page(offset=10, limit=5)
    assert [p.line for p in page] == [33, 36, 39, 42, 45]
    assert report.problems.page(kinds=["secret"]) == []


def test_the_near_duplicate_threshold_is_configurable(tmp_path: Path) -> None:
    corpus = Corpus()
    original = corpus.chat(user=corpus.text(30), answer=corpus.text(30))
    corpus.add(original)
    edited = json.loads(json.dumps(original))
    words = edited["messages"][2]["content"].split()
    edited["messages"][2]["content"] = " ".join(words[:20] + ["x"] * 10)  # a third rewritten
    corpus.add(edited)
    path = corpus.write(tmp_path / "f.jsonl")
    strict = check_file(path, CheckOptions(near_threshold=0.9))
    loose = check_file(path, CheckOptions(near_threshold=0.5))
    assert strict.clean
    assert [(p.line, p.kind, p.related_line) for p in loose.problems.details()] == [
        (2, "near_duplicate", 1)
    ]
    off = check_file(path, CheckOptions(near_threshold=0.5, near_duplicates=False))
    assert off.clean


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"near_threshold": 0}, "threshold 0: must be above 0 and at most 1"),
        ({"max_tokens": 0}, "max tokens 0: must be at least 1"),
        ({"format": "csv"}, "format 'csv': expected one of chat, preference, completion"),
        ({"epochs": 26}, "epochs 26: must be between 1 and 25"),
    ],
)
def test_bad_options_are_one_clear_line(options: dict[str, object], message: str) -> None:
    with pytest.raises(BadInput, match=f"^{message}$"):
        CheckOptions(**options)  # type: ignore[arg-type]


def test_a_missing_file_or_a_directory_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot be read: No such file or directory"):
        check_file(tmp_path / "nope.jsonl")
    with pytest.raises(BadInput, match="is a directory"):
        check_file(tmp_path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", "tool", "bot"]) | JSON_VALUES},
    optional={
        "content": st.text(max_size=40) | JSON_VALUES,
        "weight": st.sampled_from([0, 1, 2, 0.5, True, None, "1"]),
        "name": JSON_VALUES,
        "tool_calls": JSON_VALUES,
        "extra": JSON_VALUES,
    },
)
OBJECTS = st.one_of(
    st.fixed_dictionaries(
        {"messages": st.lists(MESSAGE, max_size=4)}, optional={"tools": JSON_VALUES}
    ),
    st.fixed_dictionaries(
        {"input": JSON_VALUES | st.fixed_dictionaries({"messages": st.lists(MESSAGE, max_size=3)})},
        optional={
            "preferred_output": st.lists(MESSAGE, max_size=2),
            "non_preferred_output": JSON_VALUES,
        },
    ),
    st.fixed_dictionaries({}, optional={"prompt": JSON_VALUES, "completion": JSON_VALUES}),
    JSON_VALUES,
)
LINES = st.one_of(
    OBJECTS.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=60).map(lambda data: data.replace(b"\n", b"")),
    st.text(max_size=40).map(lambda text: text.replace("\n", "").encode("utf-8", "surrogatepass")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINES, max_size=8), crlf=st.booleans(), bom=st.booleans())
def test_no_input_crashes_the_check_and_every_line_is_accounted_for(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], crlf: bool, bom: bool
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.jsonl"
    ending = b"\r\n" if crlf else b"\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + b"".join(line + ending for line in lines))
    report = check_file(path, CheckOptions(max_tokens=50))
    valid = set(report.index.lines)
    broken = report.problems.lines_with(FORMAT_KINDS)
    assert report.lines == len(lines)
    assert valid.isdisjoint(broken)
    if lines:
        assert valid | broken == set(range(1, len(lines) + 1))
    assert all(1 <= p.line <= max(1, len(lines)) for p in report.problems.details())
    json.dumps(report.to_dict())  # the JSON output never fails either


def test_any_line_can_be_read_back_in_full_for_its_problem(tmp_path: Path) -> None:
    corpus = Corpus()
    corpus.add(corpus.chat())
    corpus.add("{broken")
    corpus.add(corpus.chat())
    path = corpus.write(tmp_path / "f.jsonl", ending=b"\r\n", bom=True)
    report = check_file(path)
    assert [report.read_line(n) for n in (1, 2, 3)] == corpus.lines
    assert report.read_line(4) is None
