"""A `module:function` python scorer is found next to its suite (then in the current folder,
then among the installed packages), without PYTHONPATH, and again from the stored suite."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import BadInput
from core.evals import custom
from core.evals.loader import load_suite
from core.evals.scorers import Output
from core.evals.scoring import score_case
from core.evals.suite import Suite

SUITE = "cases:\n  - input: hi\n    assert: [{type: python, value: 'MODULE:check'}]\n"


@pytest.fixture(autouse=True)
def forget_scorers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts with no scorer loaded, from a folder that holds none."""
    monkeypatch.setattr(custom, "_LOADED", {})
    monkeypatch.setattr(custom, "_FOLDERS", set())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    modules = set(sys.modules)
    path = list(sys.path)
    yield
    for name in set(sys.modules) - modules:
        if name.startswith(("beside_", "twin_")):
            del sys.modules[name]
    assert sys.path == path  # the suite's folder was on sys.path only while importing


def suite_with_scorer(folder: Path, module: str, verdict: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(
        f"def check(output, context):\n    return {{'pass': True, 'reason': {verdict!r}}}\n"
    )
    path = folder / "suite.yaml"
    path.write_text(SUITE.replace("MODULE", module), encoding="utf-8")
    return path


def reason(suite: Suite) -> str:
    result = asyncio.run(score_case(suite.cases[0], Output("answer")))
    return result.assertions[0].reason


def test_a_module_next_to_the_suite_is_imported_from_the_suites_folder(tmp_path: Path) -> None:
    path = suite_with_scorer(tmp_path / "evals", "beside_one", "from evals")
    suite = load_suite(path)
    assert suite.cases[0].assertions[0].value == f"beside_one:check@{tmp_path / 'evals'}"
    assert reason(suite) == "from evals"


def test_the_stored_suite_finds_it_again_in_a_fresh_process(tmp_path: Path) -> None:
    path = suite_with_scorer(tmp_path / "evals", "beside_two", "again")
    stored = load_suite(path).model_dump(mode="json")
    custom._LOADED.clear()  # as in a new process resuming the run
    del sys.modules["beside_two"]
    assert reason(Suite.model_validate(stored)) == "again"


def test_two_suites_with_a_scorers_module_of_the_same_name_each_use_their_own(
    tmp_path: Path,
) -> None:
    first = load_suite(suite_with_scorer(tmp_path / "a", "twin_scorers", "from a"))
    second = load_suite(suite_with_scorer(tmp_path / "b", "twin_scorers", "from b"))
    assert (reason(first), reason(second)) == ("from a", "from b")
    assert sys.modules["twin_scorers"].__file__ == str(tmp_path / "a" / "twin_scorers.py")


def test_two_suites_scorers_each_import_their_own_helper_module(tmp_path: Path) -> None:
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "twin_helpers.py").write_text(f"def tag():\n    return {name!r}\n")
        (folder / "twin_scorers.py").write_text(
            "from twin_helpers import tag\n\n"
            "def check(output, context):\n    return {'pass': True, 'reason': tag()}\n"
        )
        (folder / "suite.yaml").write_text(SUITE.replace("MODULE", "twin_scorers"))
    first, second = (load_suite(tmp_path / name / "suite.yaml") for name in ("a", "b"))
    assert (reason(first), reason(second)) == ("a", "b")  # b's scorer did not get a's helper


def test_the_current_folder_is_tried_after_the_suites(tmp_path: Path) -> None:
    suite_with_scorer(tmp_path / "elsewhere", "beside_cwd", "from the current folder")
    path = tmp_path / "suites" / "suite.yaml"
    path.parent.mkdir()
    path.write_text(SUITE.replace("MODULE", "beside_cwd"), encoding="utf-8")
    assert reason(load_suite(path)) == "from the current folder"


def test_installed_packages_still_work_and_stay_as_written(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    reference = "tests.unit.evals.scorer_examples:graded"  # on sys.path, as installed ones are
    path.write_text(SUITE.replace("MODULE:check", reference))
    suite = load_suite(path)
    assert suite.cases[0].assertions[0].value == reference
    assert asyncio.run(score_case(suite.cases[0], Output("answer"))).assertions[0].reason


def test_a_module_found_nowhere_names_the_folders_tried(tmp_path: Path) -> None:
    path = tmp_path / "evals" / "suite.yaml"
    path.parent.mkdir()
    path.write_text(SUITE.replace("MODULE", "beside_missing"), encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        load_suite(path)
    assert str(caught.value) == (
        f"{path}:3: case c-19e21ad5: python: scorer beside_missing:check: no module"
        f" beside_missing in {tmp_path / 'evals'}, {tmp_path / 'elsewhere'} or the installed"
        " packages (or name its file: file://beside_missing.py:check)"
    )


def test_a_module_that_fails_to_import_says_where_it_was_found(tmp_path: Path) -> None:
    folder = tmp_path / "evals"
    path = suite_with_scorer(folder, "beside_broken", "x")
    (folder / "beside_broken.py").write_text("import no_such_dependency_here\n")
    with pytest.raises(BadInput, match=rf"cannot import beside_broken from {folder} \("):
        load_suite(path)
