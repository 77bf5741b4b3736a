"""`tunedeck data check | clean | split | versions | lineage` through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.unit.data.corpus import Corpus
from tui.cli import run

TUNEDECK = str(Path(sys.executable).with_name("tunedeck"))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def clean_data(path: Path, count: int = 40) -> Path:
    corpus = Corpus(seed=9)
    for _ in range(count):
        corpus.add(corpus.chat())
    return corpus.write(path)


def dirty_data(path: Path) -> Path:
    corpus = Corpus(seed=9)
    for _ in range(40):
        corpus.add(corpus.chat())
    corpus.add("not json")  # 41
    corpus.add(corpus.lines[0])  # 42: duplicate of 1
    corpus.add(corpus.chat(user="reach me at ana@example.com"))  # 43
    return corpus.write(path)


def test_check_exits_0_on_a_clean_file_and_1_when_problems_are_found(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    code, out, _ = cli(capsys, "data", "check", str(clean_data(tmp_path / "ok.jsonl")))
    assert code == 0
    assert "40 valid examples on 40 lines" in out and "problems: none" in out
    assert "tokens per example (gpt-4o-mini)" in out and "tokens histogram:" in out
    assert "estimated training: 3 epochs" in out and "cost unknown" in out
    code, out, _ = cli(capsys, "data", "check", str(dirty_data(tmp_path / "bad.jsonl")))
    assert code == 1
    rows = [line.split()[:2] for line in out.splitlines() if line[:2].strip().isdigit()]
    assert rows == [["41", "invalid_json"], ["42", "exact_duplicate"], ["43", "email"]]
    assert "ana@example.com" not in out


def test_check_json_and_the_reuse_of_an_unchanged_file(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    path = dirty_data(tmp_path / "bad.jsonl")
    code, out, _ = cli(capsys, "data", "check", str(path), "--json", "--max-tokens", "100000")
    report = json.loads(out)
    assert code == 1
    assert report["problem_counts"] == {"invalid_json": 1, "exact_duplicate": 1, "email": 1}
    assert [(p["line"], p["kind"], p["category"]) for p in report["problems"]] == [
        (41, "invalid_json", "format"),
        (42, "exact_duplicate", "quality"),
        (43, "email", "safety"),
    ]
    assert report["summary"]["context"] == 100000 and report["summary"]["examples"] == 42
    again = json.loads(cli(capsys, "data", "check", str(path), "--json")[1])
    assert again["version_id"] == report["version_id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["data", "check", "missing.jsonl"],
            "missing.jsonl: cannot be read: No such file or directory",
        ),
        (
            ["data", "check", ".", "--threshold", "1.5"],
            "threshold 1.5: must be above 0 and at most 1",
        ),
        (
            ["data", "clean", "in.jsonl", "-o", "in.jsonl"],
            "in.jsonl: is the input file; write the output somewhere else",
        ),
        (
            ["data", "clean", "in.jsonl", "-o", "x.jsonl", "--drop", "typo"],
            "unknown problem kind 'typo'",
        ),
        (
            ["data", "split", "in.jsonl", "-o", "out", "--holdout", "0"],
            "holdout 0.0: must be above 0 and below 1",
        ),
        (["data", "lineage", "99"], "dataset version 99: not found"),
        (["data", "check", "in.jsonl", "--kind", "nope"], "unknown problem kind 'nope'"),
    ],
)
def test_unreadable_files_and_bad_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    clean_data(tmp_path / "in.jsonl")
    before = (tmp_path / "in.jsonl").read_bytes()
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.strip().startswith("tunedeck: error: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert (tmp_path / "in.jsonl").read_bytes() == before


def test_clean_writes_a_new_file_and_a_report_and_records_both_versions(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    path = dirty_data(tmp_path / "bad.jsonl")
    before = path.read_bytes()
    out_file = tmp_path / "clean.jsonl"
    code, out, _ = cli(
        capsys, "data", "clean", str(path), "-o", str(out_file), "--drop", "email", "--json"
    )
    result = json.loads(out)
    assert code == 0 and path.read_bytes() == before
    assert (result["kept"], result["dropped"]) == (40, 3)
    assert result["dropped_by_kind"] == {"invalid_json": 1, "exact_duplicate": 1, "email": 1}
    assert out_file.read_bytes().splitlines() == before.splitlines()[:40]
    assert Path(result["report"]).exists()
    code, out, _ = cli(capsys, "data", "check", str(out_file), "--json")
    assert code == 0 and json.loads(out)["version_id"] == result["version_id"]
    code, out, _ = cli(capsys, "data", "lineage", str(result["version_id"]), "--json")
    assert [(v["role"], v["id"]) for v in json.loads(out)] == [
        ("clean", result["version_id"]),
        ("source", result["source_version_id"]),
    ]


def test_split_reports_leaks_with_exit_1_and_moves_them_on_request(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    corpus = Corpus(seed=4)
    for _ in range(60):
        example = corpus.chat(user=corpus.text(40), answer=corpus.text(40))
        corpus.add(example)
        corpus.add(example)  # every example twice: any held-out one leaks
    path = corpus.write(tmp_path / "twice.jsonl")
    args = ["data", "split", str(path), "--holdout", "0.2", "--seed", "3"]
    code, out, _ = cli(capsys, *args, "-o", str(tmp_path / "a"), "--as-suite", "twice")
    assert code == 1
    assert "leakage:" in out and "still held out (use --move-leaks)" in out
    code, out, _ = cli(capsys, *args, "-o", str(tmp_path / "b"), "--move-leaks", "--json")
    result = json.loads(out)
    assert code == 0 and result["leaks_moved"] and result["leaks"]
    assert result["train_examples"] + result["heldout_examples"] == 120
    code, out, _ = cli(capsys, "data", "versions", "--json")
    roles = [v["role"] for v in json.loads(out)]
    assert roles.count("source") == 1 and roles.count("suite") == 1 and roles.count("train") == 2


def test_the_console_script_exits_1_on_problems(home: Path, tmp_path: Path) -> None:
    path = dirty_data(tmp_path / "bad.jsonl")
    done = subprocess.run(
        [TUNEDECK, "data", "check", str(path), "--limit", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "41    invalid_json" in done.stdout
    assert "... 2 more listed with --limit or --json" in done.stdout


def test_split_as_suite_writes_a_suite_of_that_name_with_ids_that_follow_the_examples(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    from core.evals.loader import load_suite

    path = clean_data(tmp_path / "data.jsonl")
    args = ["--holdout", "0.5", "--seed", "3", "--as-suite", "heldout", "--json"]
    code, out, _ = cli(capsys, "data", "split", str(path), "-o", str(tmp_path / "a"), *args)
    first = json.loads(out)["suite"]
    assert code == 0 and first["name"] == "heldout"
    suite = load_suite(first["path"])
    assert suite.name == "heldout" and len(suite.cases) == first["cases"]

    prepended = tmp_path / "prepended.jsonl"
    extra = Corpus(seed=77)
    extra.add(extra.chat())
    prepended.write_bytes(extra.write(tmp_path / "one.jsonl").read_bytes() + path.read_bytes())
    code, out, _ = cli(capsys, "data", "split", str(prepended), "-o", str(tmp_path / "b"), *args)
    second = load_suite(json.loads(out)["suite"]["path"])

    def ids(loaded: Any) -> dict[str, str]:
        return {loaded.messages_for(case)[-1].content: case.id for case in loaded.cases}

    before, after = ids(suite), ids(second)
    shared = before.keys() & after.keys()
    assert shared and all(before[prompt] == after[prompt] for prompt in shared)
