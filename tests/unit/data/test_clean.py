"""`clean_file`: drops what it must, writes atomically, never touches its input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.data import Progress, clean_file, drop_kinds
from core.errors import BadInput
from tests.unit.data.corpus import Corpus


def dirty(path: Path) -> tuple[Path, Corpus]:
    corpus = Corpus()
    for _ in range(8):
        corpus.add(corpus.chat())
    corpus.add("{broken")  # 9
    corpus.add(corpus.lines[1])  # 10: duplicate of 2
    near = json.loads(corpus.lines[2])
    near["messages"][2]["content"] += " indeed"
    corpus.add(near)  # 11: near-duplicate of 3
    corpus.add(corpus.chat(user="my key is sk-proj-" + "Q" * 40))  # 12: a secret
    corpus.add(b"\xff\xfe")  # 13
    return corpus.write(path, ending=b"\r\n", bom=True), corpus


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_clean_drops_invalid_lines_and_duplicates_and_copies_the_rest_byte_for_byte(
    tmp_path: Path,
) -> None:
    path, corpus = dirty(tmp_path / "in.jsonl")
    before = snapshot(path)
    result = clean_file(path, tmp_path / "out.jsonl")
    assert snapshot(path) == before
    kept = [corpus.lines[i - 1] for i in (1, 2, 3, 4, 5, 6, 7, 8, 11, 12)]
    assert (tmp_path / "out.jsonl").read_bytes() == b"".join(line + b"\n" for line in kept)
    assert (result.kept, result.dropped) == (10, 3)
    assert result.dropped_by_kind == {"invalid_utf8": 1, "invalid_json": 1, "exact_duplicate": 1}
    report = json.loads((tmp_path / "out.jsonl.report.json").read_text())
    assert [(d["line"], d["kinds"]) for d in report["dropped_lines"]] == [
        (9, ["invalid_json"]),
        (10, ["exact_duplicate"]),
        (13, ["invalid_utf8"]),
    ]
    assert report["output_sha256"] == result.output.sha256
    assert result.summary.examples == 10


def test_near_duplicates_and_other_kinds_are_dropped_on_request(tmp_path: Path) -> None:
    path, _ = dirty(tmp_path / "in.jsonl")
    result = clean_file(path, tmp_path / "out.jsonl", drop=drop_kinds(True, ["secret"]))
    assert result.kept == 8
    assert result.dropped_by_kind["near_duplicate"] == 1 and result.dropped_by_kind["secret"] == 1
    report = json.loads((tmp_path / "out.jsonl.report.json").read_text())
    assert "sk-proj" not in json.dumps(report)  # the report names the problem, not the secret
    with pytest.raises(BadInput, match="unknown problem kind 'typo'"):
        drop_kinds(False, ["typo"])


def test_the_output_may_never_be_the_input(tmp_path: Path) -> None:
    path, _ = dirty(tmp_path / "in.jsonl")
    before = snapshot(path)
    link = tmp_path / "link.jsonl"
    link.symlink_to(path)
    hard = tmp_path / "hard.jsonl"
    os.link(path, hard)
    for target in (path, tmp_path / "." / "in.jsonl", link, hard):
        with pytest.raises(BadInput, match="is the input file"):
            clean_file(path, target)
    with pytest.raises(BadInput, match="is the input file"):
        clean_file(path, tmp_path / "out.jsonl", report_path=path)
    assert snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.jsonl", "in.jsonl", "link.jsonl"]


def test_an_input_changed_during_the_clean_leaves_no_partial_output(tmp_path: Path) -> None:
    path, _ = dirty(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")

    def append_when_checked(progress: Progress) -> None:
        if progress.phase == "done":  # between the check and the copy
            with path.open("ab") as file:
                file.write(b'{"late": 1}\n')

    with pytest.raises(BadInput, match="changed while it was being cleaned; nothing written"):
        clean_file(path, out, progress=append_when_checked)
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]
