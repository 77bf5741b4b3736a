"""`split_file`: deterministic, stratified, leak-checked, and written as a suite on request."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from core.data import split_file
from core.data.split import SplitResult
from core.errors import BadInput
from tests.unit.data.corpus import Corpus


def planted(path: Path) -> tuple[Path, list[tuple[int, int, str]]]:
    """200 distinct examples, 30 near-duplicate and 10 exact-duplicate pairs among them."""
    corpus = Corpus(seed=3)
    pairs: list[tuple[int, int, str]] = []
    for index in range(200):
        topic = ["a", "b", "c", "d"][index % 4]
        example = corpus.chat(
            user=corpus.text(40), answer=corpus.text(40), metadata={"topic": topic}
        )
        original = corpus.add(example)
        if index % 5 == 0 and len(pairs) < 40:
            copy = json.loads(json.dumps(example))
            kind = "exact_duplicate" if len(pairs) % 4 == 0 else "near_duplicate"
            if kind == "near_duplicate":
                words = copy["messages"][2]["content"].split()
                words[7] = "edited"
                copy["messages"][2]["content"] = " ".join(words)
            pairs.append((original, corpus.add(copy), kind))
    corpus.add("{not an example")
    return corpus.write(path), pairs


def is_subsequence(part: list[bytes], whole: list[bytes]) -> bool:
    rest = iter(whole)
    return all(any(line == other for other in rest) for line in part)


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def test_a_split_is_byte_identical_for_a_seed_and_differs_for_another(tmp_path: Path) -> None:
    path, _ = planted(tmp_path / "data.jsonl")
    first = split_file(path, tmp_path / "one", holdout=0.2, seed=11, suite_name="held")
    second = split_file(path, tmp_path / "two", holdout=0.2, seed=11, suite_name="held")
    other = split_file(path, tmp_path / "three", holdout=0.2, seed=12)
    for name in ("train.jsonl", "heldout.jsonl", "held.suite.jsonl"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert first.heldout.sha256 == second.heldout.sha256 != other.heldout.sha256
    source = lines_of(path)
    train, held = lines_of(first.train.path), lines_of(first.heldout.path)
    assert len(held) == round(240 * 0.2) and len(train) + len(held) == 240
    assert sorted(train + held) == sorted(source[:-1])  # every valid example, once
    assert is_subsequence(train, source) and is_subsequence(held, source)  # input order
    assert first.skipped_lines == 1


def test_a_stratified_split_holds_out_each_stratum_in_proportion(tmp_path: Path) -> None:
    corpus = Corpus()
    for topic, count in (("a", 60), ("b", 30), ("c", 10)):
        for _ in range(count):
            corpus.add(corpus.chat(metadata={"topic": topic}))
    for _ in range(5):
        corpus.add(corpus.chat())
    path = corpus.write(tmp_path / "data.jsonl")
    result = split_file(path, tmp_path / "out", holdout=0.1, seed=1, stratify_by="metadata.topic")
    # round(5 x 0.1) is 0: a stratum too small to hold out from keeps all its examples
    assert result.strata == {"a": (54, 6), "b": (27, 3), "c": (9, 1), "(missing)": (5, 0)}
    held = [json.loads(line) for line in lines_of(result.heldout.path)]
    topics = sorted(row.get("metadata", {}).get("topic", "-") for row in held)
    assert topics == ["a", "a", "a", "a", "a", "a", "b", "b", "b", "c"]


def test_leaks_of_planted_duplicates_are_found_exactly(tmp_path: Path) -> None:
    path, pairs = planted(tmp_path / "data.jsonl")
    result = split_file(path, tmp_path / "out", holdout=0.3, seed=5)
    held = set(result.heldout_lines)
    expected = set()
    for left, right, kind in pairs:
        if (left in held) != (right in held):
            heldout, train = (left, right) if left in held else (right, left)
            expected.add((heldout, train, kind))
    assert expected, "the seed should split some planted pairs"
    assert {(x.heldout_line, x.train_line, x.kind) for x in result.leaks} == expected
    assert all(x.similarity > 0.9 for x in result.leaks)


def test_moving_leaks_leaves_no_planted_pair_across_the_split(tmp_path: Path) -> None:
    path, pairs = planted(tmp_path / "data.jsonl")
    kept = split_file(path, tmp_path / "kept", holdout=0.3, seed=5)
    moved = split_file(path, tmp_path / "moved", holdout=0.3, seed=5, move_leaks=True)
    assert moved.moved and {x.heldout_line for x in moved.leaks} == {
        x.heldout_line for x in kept.leaks
    }
    held = set(moved.heldout_lines)
    for left, right, _ in pairs:
        assert (left in held) == (right in held)
    assert held == set(kept.heldout_lines) - {x.heldout_line for x in kept.leaks}
    assert moved.heldout_summary.examples == kept.heldout_summary.examples - len(kept.leaks)


def test_the_suite_holds_each_held_out_example_as_a_case(tmp_path: Path) -> None:
    from core.evals.loader import load_suite

    path, _ = planted(tmp_path / "data.jsonl")
    result = split_file(path, tmp_path / "out", holdout=0.1, seed=2, suite_name="geo")
    header, *cases = [json.loads(line) for line in lines_of(result.suite.path)]  # type: ignore[union-attr]
    held = [json.loads(line) for line in lines_of(result.heldout.path)]
    assert header == {"suite": {"name": "geo"}}
    assert result.suite_cases == len(cases) == len(held)
    for case, example in zip(cases, held, strict=True):
        expected = example["messages"][-1]["content"]
        assert case["messages"] == example["messages"][:-1]
        assert case["expected"] == expected
        assert case["assert"] == [{"type": "similar", "value": expected, "threshold": 0.8}]
        assert re.fullmatch(r"geo-[0-9a-f]{8}(-[0-9]+)?", case["id"])
    suite = load_suite(result.suite.path)  # type: ignore[union-attr]
    assert suite.name == "geo"  # as the user named it, not the file's "geo.suite"
    assert [case.id for case in suite.cases] == [case["id"] for case in cases]


def test_suite_ids_follow_the_examples_not_their_lines(tmp_path: Path) -> None:
    path, _ = planted(tmp_path / "data.jsonl")
    first = split_file(path, tmp_path / "one", holdout=0.3, seed=5, suite_name="held")
    edited = tmp_path / "edited.jsonl"
    corpus = Corpus(seed=99)
    corpus.add(corpus.chat(user="A new first question", answer="Its answer"))
    edited.write_bytes(corpus.write(tmp_path / "new.jsonl").read_bytes() + path.read_bytes())
    second = split_file(edited, tmp_path / "two", holdout=0.3, seed=5, suite_name="held")

    def ids_by_prompt(result: SplitResult) -> dict[str, str]:
        assert result.suite is not None
        cases = [json.loads(line) for line in lines_of(result.suite.path)[1:]]
        return {json.dumps(case["messages"], sort_keys=True): case["id"] for case in cases}

    before, after = ids_by_prompt(first), ids_by_prompt(second)
    sources = [json.loads(line)["messages"][:-1] for line in lines_of(path)[:-1]]
    counts = Counter(json.dumps(messages, sort_keys=True) for messages in sources)
    # a prompt held out twice gets -2 by order: compare the prompts the source has once
    both = {prompt for prompt in before.keys() & after.keys() if counts[prompt] == 1}
    assert len(both) >= 10  # the draw differs, but many examples are held out in both
    assert all(before[prompt] == after[prompt] for prompt in both)
    assert len(set(after.values())) == len(after)


def test_examples_with_the_same_prompt_get_suffixed_ids(tmp_path: Path) -> None:
    corpus = Corpus(seed=4)
    for answer in ("Paris", "Paris.", "It is Paris"):
        corpus.add(corpus.chat(user="Capital of France?", answer=answer))
    for index in range(7):
        corpus.add(corpus.chat(user=f"Question {index}", answer=f"Answer {index}"))
    path = corpus.write(tmp_path / "data.jsonl")
    result = split_file(path, tmp_path / "out", holdout=0.9, seed=1, suite_name="s")
    assert result.suite is not None
    cases = [json.loads(line) for line in lines_of(result.suite.path)[1:]]
    same = [case["id"] for case in cases if case["messages"][-1]["content"] == "Capital of France?"]
    assert len(same) >= 2
    assert same[1:] == [f"{same[0]}-{number}" for number in range(2, len(same) + 1)]


def test_bad_split_arguments_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    path, _ = planted(tmp_path / "data.jsonl")
    with pytest.raises(BadInput, match=r"holdout 1\.0: must be above 0 and below 1"):
        split_file(path, tmp_path / "out", holdout=1.0, seed=1)
    with pytest.raises(BadInput, match=r"suite name '\.\./x'"):
        split_file(path, tmp_path / "out", holdout=0.1, seed=1, suite_name="../x")
    inside = tmp_path / "train.jsonl"
    inside.write_bytes(path.read_bytes())
    with pytest.raises(BadInput, match="is the input file"):
        split_file(inside, tmp_path, holdout=0.1, seed=1)
    assert not (tmp_path / "out").exists()
