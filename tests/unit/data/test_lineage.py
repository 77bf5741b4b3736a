"""Dataset versions in SQLite: the migration, reuse of an unchanged file, and lineage."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data import check_file, clean_file, split_file
from core.data.lineage import record_check, record_written
from storage.datasets import DatasetVersions, NewDatasetVersion
from storage.db import open_database
from storage.store import Store
from tests.unit.data.corpus import Corpus


@pytest.fixture
def db_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store.open(tmp_path / "t.db")
    yield store
    store.close()


def data_file(path: Path, lines: int = 30) -> Path:
    corpus = Corpus()
    for _ in range(lines):
        corpus.add(corpus.chat())
    corpus.add("{oops")
    return corpus.write(path)


def test_a_blank_database_migrates_to_the_dataset_versions_table(tmp_path: Path) -> None:
    db = open_database(tmp_path / "t.db")
    columns = {c.name for c in db["dataset_versions"].columns}  # type: ignore[union-attr]
    assert columns == {
        "id", "path", "sha256", "format", "role", "parent_id", "size_bytes", "lines",
        "examples", "problems", "statistics_json", "created_at", "checked_at",
    }  # fmt: skip
    foreign = db["dataset_versions"].foreign_keys  # type: ignore[union-attr]
    assert [(f.column, f.other_table, f.other_column) for f in foreign] == [
        ("parent_id", "dataset_versions", "id")
    ]


def test_rechecking_an_unchanged_file_reuses_its_version(db_store: Store, tmp_path: Path) -> None:
    path = data_file(tmp_path / "d.jsonl")
    first = record_check(db_store, check_file(path))
    again = record_check(db_store, check_file(path, check_options()))
    assert again.id == first.id and again.created_at == first.created_at
    assert again.statistics["model"] == "gpt-3.5-turbo"  # figures of the latest check
    assert (first.role, first.examples, first.problems, first.lines) == ("source", 30, 1, 31)
    assert first.path == str(path.resolve())
    with path.open("ab") as file:
        file.write(b"{}\n")
    changed = record_check(db_store, check_file(path))
    assert changed.id != first.id
    assert len(DatasetVersions(db_store).page()) == 2


def check_options():  # type: ignore[no-untyped-def]
    from core.data import CheckOptions

    return CheckOptions(model="gpt-3.5-turbo")


def test_clean_and_split_outputs_lead_back_to_their_source(db_store: Store, tmp_path: Path) -> None:
    path = data_file(tmp_path / "d.jsonl")
    cleaned = clean_file(path, tmp_path / "clean.jsonl")
    source = record_check(db_store, cleaned.report)
    clean_version = record_written(
        db_store, cleaned.output, role="clean", parent=source, summary=cleaned.summary
    )
    split = split_file(
        tmp_path / "clean.jsonl", tmp_path / "out", holdout=0.2, seed=1, suite_name="s"
    )
    split_source = record_check(db_store, split.report)
    assert split_source.id == clean_version.id and split_source.role == "clean"
    assert split_source.problems == 0  # the check filled in the figures of the written file
    held = record_written(db_store, split.heldout, role="heldout", parent=split_source)
    assert split.suite is not None
    suite = record_written(
        db_store, split.suite, role="suite", parent=held, examples=split.suite_cases
    )
    versions = DatasetVersions(db_store)
    chain = versions.lineage(suite.id)
    assert [(v.role, v.path) for v in chain] == [
        ("suite", str((tmp_path / "out" / "s.suite.jsonl").resolve())),
        ("heldout", str((tmp_path / "out" / "heldout.jsonl").resolve())),
        ("clean", str((tmp_path / "clean.jsonl").resolve())),
        ("source", str(path.resolve())),
    ]
    assert [v.id for v in versions.children(source.id)] == [clean_version.id]
    assert clean_version.statistics["summary"]["examples"] == 30
    assert suite.examples == split.suite_cases and suite.format is None


def test_unknown_roles_are_refused(db_store: Store) -> None:
    new = NewDatasetVersion(
        path="/x", sha256="0" * 64, role="weird", size_bytes=1, lines=1, examples=1
    )
    with pytest.raises(ValueError, match="unknown dataset role 'weird'"):
        DatasetVersions(db_store).record(new, "2026-01-01T00:00:00.000000Z")
