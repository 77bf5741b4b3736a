"""Saving a case to a suite file: new and existing JSONL and YAML suites, refusals, atomicity."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import BadInput
from core.evals.loader import load_suite
from core.evals.saving import NewCase, save_case, suggest_case_id
from core.evals.scorers import Output
from core.params import Message, RequestParams
from tests.unit.evals.helpers import score

ASKED = [
    Message(role="system", content="You answer with one word."),
    Message(role="user", content="What is the capital of France?"),
]
SENT = [message.as_api() for message in ASKED]

COMMENTED = """\
# Capitals, kept by hand
name: capitals   # the suite's name
params: {temperature: 0}

cases:
    # Europe first
    -   id: fr
        input: Capital of France?
        assert:
          - {type: icontains, value: paris}
"""

PROMPTFOO = """\
prompts: ["Capital of {{country}}?"]
tests:
  - vars: {country: France}
    assert: [{type: icontains, value: paris}]
"""


def new_case(**fields: object) -> NewCase:
    return NewCase(messages=ASKED, **{"expected": "Paris", **fields})  # type: ignore[arg-type]


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_a_new_jsonl_suite_gets_a_header_with_the_params_set_and_the_case(
    tmp_path: Path,
) -> None:
    path = tmp_path / "suites" / "prompts.jsonl"
    params = RequestParams(temperature=0, max_tokens=64)
    saved = save_case(path, new_case(params=params, tags=["geo", " ", "geo"], critical=True))
    assert (saved.case_id, saved.cases, saved.created) == ("what-is-the-capital-of-france", 1, True)
    header, line = (json.loads(text) for text in path.read_text().splitlines())
    assert header == {"suite": {"name": "prompts", "params": {"temperature": 0, "max_tokens": 64}}}
    assert line["messages"] == SENT and line["expected"] == "Paris" and line["critical"] is True
    suite = load_suite(path)
    assert suite.params.temperature == 0 and suite.params.max_tokens == 64
    (case,) = suite.cases
    assert case.id == saved.case_id and case.expected == "Paris" and case.tags == ["geo"]
    assert suite.messages_for(case) == ASKED and case.critical
    (check,) = case.assertions
    assert (check.type, check.value, check.threshold) == ("similar", "Paris", 0.8)


def test_appending_to_a_jsonl_suite_keeps_its_bytes_and_makes_the_id_unique(
    tmp_path: Path,
) -> None:
    path = tmp_path / "prompts.jsonl"
    first = {"id": "what-is-the-capital-of-france", "input": "Capital of France?"}
    original = json.dumps(first).encode()  # no newline at the end
    path.write_bytes(original)
    saved = save_case(path, new_case(check="equals", expected="Paris\n"))
    data = path.read_bytes()
    assert data.startswith(original + b"\n") and data.count(b"\n") == 2
    assert saved.case_id == "what-is-the-capital-of-france-2" and not saved.created
    suite = load_suite(path)
    assert [case.id for case in suite.cases] == [first["id"], saved.case_id]
    added = suite.cases[1]
    assert added.messages == ASKED and added.expected == "Paris\n"
    assert [(a.type, a.value) for a in added.assertions] == [("equals", "Paris\n")]


def test_a_new_yaml_suite_loads_with_its_params_and_case(tmp_path: Path) -> None:
    path = tmp_path / "qa.yaml"
    save_case(path, new_case(case_id="fr", check="icontains", expected="  Paris.\n"))
    text = path.read_text()
    assert text.startswith("name: qa\ncases:\n  - id: fr\n")
    suite = load_suite(path)
    (case,) = suite.cases
    assert case.id == "fr" and case.messages == ASKED and case.expected == "  Paris.\n"
    assert [(a.type, a.value) for a in case.assertions] == [("icontains", "Paris.")]


def test_appending_to_a_yaml_suite_keeps_comments_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "capitals.yml"
    path.write_text(COMMENTED)
    saved = save_case(path, new_case(case_id="fr-2", expected="Paris\nthe capital\n"))
    text = path.read_text()
    assert text.startswith(COMMENTED)
    assert text[len(COMMENTED) :].startswith("    - id: fr-2\n")  # under the first item's dash
    suite = load_suite(path)
    assert suite.name == "capitals" and [case.id for case in suite.cases] == ["fr", "fr-2"]
    assert suite.cases[1].expected == "Paris\nthe capital\n" and saved.cases == 2


def test_a_saved_case_passes_with_the_answer_it_was_saved_from(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    answer = "The capital of France is Paris."
    for check in ("similar", "equals", "icontains"):
        save_case(path, new_case(case_id=check, check=check, expected=answer))
    for case in load_suite(path).cases:
        assert score(case, Output(answer)).passed, case.id
        assert not score(case, Output("I do not know")).passed, case.id


@pytest.mark.parametrize("name", ["s.jsonl", "s.yaml"])
def test_escape_sequences_and_line_separators_in_the_answer_are_kept_as_data(
    tmp_path: Path, name: str
) -> None:
    answer = "\x1b[31mred\x1b[0m [bold]x[/bold]\u2028next\x85line\r\nend"
    path = tmp_path / name
    save_case(path, new_case(expected=answer))
    save_case(path, new_case(expected=answer + "!"))
    assert "\x1b" not in path.read_text()  # escaped in the file
    assert [case.expected for case in load_suite(path).cases] == [answer, answer + "!"]


def test_yaml_whose_cases_are_not_last_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    text = "cases:\n  - {id: a, input: hi}\ndefaults:\n  tags: [x]\n"
    path.write_text(text)
    with pytest.raises(BadInput, match=r"s\.yaml:3: defaults: comes after cases:") as error:
        save_case(path, new_case())
    assert "\n" not in str(error.value)
    assert path.read_text() == text and files_in(tmp_path) == ["s.yaml"]


def test_yaml_with_a_flow_list_of_cases_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("cases: [{id: a, input: hi}]\n")
    with pytest.raises(BadInput, match=r"s\.yaml:1: cases: is not a block list"):
        save_case(path, new_case())


@pytest.mark.parametrize("name", ["s.jsonl", "s.yaml"])
def test_a_duplicate_id_is_refused_and_the_file_is_unchanged(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    save_case(path, new_case(case_id="fr"))
    before = path.read_bytes()
    with pytest.raises(BadInput, match=r"case id 'fr' is already used"):
        save_case(path, new_case(case_id=" fr "))
    assert path.read_bytes() == before and files_in(tmp_path) == [name]


def test_a_promptfoo_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "promptfooconfig.yaml"
    path.write_text(PROMPTFOO)
    with pytest.raises(BadInput, match=r"promptfooconfig\.yaml: is a promptfoo config"):
        save_case(path, new_case())
    assert path.read_text() == PROMPTFOO


def test_an_unreadable_suite_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    text = '{"id": "a", "input": "hi"}\n{"id": "b", "input": \n'
    path.write_text(text)
    with pytest.raises(BadInput, match=r"s\.jsonl:2: invalid JSON"):
        save_case(path, new_case())
    assert path.read_text() == text


@pytest.mark.parametrize(
    ("name", "fields", "reason"),
    [
        ("s.txt", {}, "saved to a .jsonl, .yaml or .yml suite, not .txt"),
        ("s.jsonl", {"expected": " \n"}, "the expected answer is empty"),
        ("s.jsonl", {"threshold": 1.5}, "threshold must be above 0 and at most 1"),
        ("s.jsonl", {"case_id": "a\nb"}, "id must be one line of text"),
    ],
)
def test_bad_input_is_refused_before_any_file_is_made(
    tmp_path: Path, name: str, fields: dict[str, object], reason: str
) -> None:
    with pytest.raises(BadInput, match=reason) as error:
        save_case(tmp_path / name, new_case(**fields))
    assert str(error.value).count("\n") == 0 and str(tmp_path) in str(error.value)
    assert files_in(tmp_path) == []


def test_a_result_that_would_not_load_is_never_written(tmp_path: Path) -> None:
    # A YAML document end marker: text appended after it is not part of the suite.
    path = tmp_path / "s.yaml"
    text = "cases:\n  - {id: a, input: hi}\n...\n"
    path.write_text(text)
    with pytest.raises(BadInput, match=r"not saved, the suite would not load: .*s\.yaml"):
        save_case(path, new_case())
    assert path.read_text() == text and files_in(tmp_path) == ["s.yaml"]


def test_a_result_that_would_change_the_cases_already_there_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The guard behind the textual append: here a faulty writer slips a key into the case
    # before; the result loads, but the existing case would not read back unchanged.
    from core.evals import suitetext

    real = suitetext.yaml_item
    monkeypatch.setattr(
        suitetext, "yaml_item", lambda entry, indent: "    tags: [x]\n" + real(entry, indent)
    )
    path = tmp_path / "s.yaml"
    text = "cases:\n  - id: a\n    input: hi\n"
    path.write_text(text)
    with pytest.raises(BadInput, match=r"s\.yaml: not saved: the cases already there would"):
        save_case(path, new_case())
    assert path.read_text() == text and files_in(tmp_path) == ["s.yaml"]


def test_a_failed_rename_leaves_the_suite_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.jsonl"
    save_case(path, new_case(case_id="a"))
    before = path.read_bytes()

    def full_disk(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(BadInput, match=r"s\.jsonl: cannot be written \(No space left on device\)"):
        save_case(path, new_case(case_id="b"))
    assert path.read_bytes() == before and files_in(tmp_path) == ["s.jsonl"]


CRASH = """
import os, sys
from pathlib import Path
from core.evals.saving import NewCase, save_case
from core.params import Message

def crash(source, target):
    print(Path(source).read_text(), end="", flush=True)  # the checked text, not yet renamed
    os._exit(9)

os.replace = crash
save_case(sys.argv[1], NewCase([Message(role="user", content="hi")], "hello", case_id="b"))
"""


def test_a_crash_between_writing_and_renaming_leaves_the_original_intact(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(COMMENTED)
    done = subprocess.run(
        [sys.executable, "-c", CRASH, str(path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[3],
        check=False,
    )
    assert done.returncode == 9 and "- id: b" in done.stdout
    assert path.read_text() == COMMENTED
    assert [case.id for case in load_suite(path).cases] == ["fr"]


def test_a_file_changed_meanwhile_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.jsonl"
    save_case(path, new_case(case_id="a"))
    import core.evals.saving as saving

    real = saving._checked

    def edited_meanwhile(*args: object) -> object:
        with path.open("a") as file:
            file.write('{"id": "by-hand", "input": "x"}\n')
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(saving, "_checked", edited_meanwhile)
    with pytest.raises(BadInput, match="changed while the case was being saved"):
        save_case(path, new_case(case_id="b"))
    assert [case.id for case in load_suite(path).cases] == ["a", "by-hand"]


def test_a_blank_file_becomes_a_new_suite(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text("\n")
    saved = save_case(path, new_case())
    assert saved.created and [c.id for c in load_suite(path).cases] == [saved.case_id]


@pytest.mark.parametrize(
    ("prompt", "taken", "expected"),
    [
        ("What is the capital of France?", (), "what-is-the-capital-of-france"),
        ("Ça coûte combien ?", (), "ca-coute-combien"),
        ("hi", ("hi", "hi-2"), "hi-3"),
        ("¿?", (), "case"),
        ("x" * 60 + " tail", (), "x" * 40),
        (
            "one two three four five six seven eight nine ten",
            (),
            "one-two-three-four-five-six-seven-eight",
        ),
    ],
)
def test_suggested_ids_are_short_slugs_made_unique(
    prompt: str, taken: tuple[str, ...], expected: str
) -> None:
    assert suggest_case_id(prompt, taken) == expected


SAVER = """
import pathlib, sys, time
sys.path.insert(0, {root!r})
import core.evals.saving as saving
from core.params import Message

real = saving._checked

def slow_check(*args):
    time.sleep(0.02)  # widen the window between reading the suite and replacing it
    return real(*args)

saving._checked = slow_check
ready = pathlib.Path({ready!r})
(ready / sys.argv[1]).touch()  # ready: all start together, once every one has started
deadline = time.time() + 60
while len(list(ready.iterdir())) < {savers} and time.time() < deadline:
    time.sleep(0.001)
for number in range(4):
    asked = [Message(role="user", content="q")]
    case = saving.NewCase(messages=asked, expected="a", case_id=f"{{sys.argv[1]}}-{{number}}")
    saving.save_case({path!r}, case)
"""


def test_processes_saving_to_one_suite_at_once_take_turns_and_lose_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.jsonl"
    save_case(path, new_case(case_id="first"))
    ready = tmp_path / "ready"
    ready.mkdir()
    root = str(Path(__file__).resolve().parents[3])
    code = SAVER.format(root=root, ready=str(ready), savers=5, path=str(path))
    savers = [
        subprocess.Popen([sys.executable, "-c", code, f"p{n}"], stderr=subprocess.PIPE)
        for n in range(5)
    ]
    errors = [saver.communicate(timeout=60)[1].decode() for saver in savers]
    assert [saver.returncode for saver in savers] == [0] * 5, errors
    ids = sorted(case.id for case in load_suite(path).cases)
    assert ids == sorted(["first", *(f"p{n}-{k}" for n in range(5) for k in range(4))])
