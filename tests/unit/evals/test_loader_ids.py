"""Case ids follow the case, not its position: insert, remove or reorder cases and every other
case keeps its id (native YAML and JSONL, promptfoo configs, prompts with their own ids)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from core.errors import BadInput
from core.evals.caseids import content_digest
from core.evals.loader import load_suite
from core.evals.suite import Suite

COUNTRIES = ["France", "Japan", "Peru", "Kenya", "Norway", "Chile", "Egypt", "India"]


def native_yaml(folder: Path, cases: list[str], name: str = "geo.yaml") -> Path:
    path = folder / name
    lines = [f"  - vars: {{country: {country}}}\n" for country in cases]
    text = "prompt: 'Capital of {{country}}?'\ncases:\n" + "".join(lines)
    path.write_text(text, encoding="utf-8")
    return path


def native_jsonl(folder: Path, inputs: list[str]) -> Path:
    path = folder / "geo.jsonl"
    header = json.dumps({"suite": {"name": "geo"}})
    lines = [json.dumps({"input": f"Capital of {text}?"}) for text in inputs]
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def ids_by_input(suite: Suite) -> dict[str, str]:
    return {suite.messages_for(case)[-1].content: case.id for case in suite.cases}


def test_native_yaml_ids_survive_an_insert_a_removal_and_a_shuffle(tmp_path: Path) -> None:
    before = ids_by_input(load_suite(native_yaml(tmp_path, COUNTRIES)))
    assert len(set(before.values())) == len(COUNTRIES)
    shuffled = ["Atlantis", *COUNTRIES[1:]]  # France removed, Atlantis at the top
    random.Random(3).shuffle(shuffled)
    after = ids_by_input(load_suite(native_yaml(tmp_path, shuffled)))
    assert {key: after[key] for key in before if key in after} == {
        key: value for key, value in before.items() if "France" not in key
    }
    assert after["Capital of Atlantis?"] not in before.values()


def test_a_native_id_is_c_and_the_hash_of_the_input_as_written(tmp_path: Path) -> None:
    suite = load_suite(native_yaml(tmp_path, ["Japan"]))
    assert suite.cases[0].id == "c-" + content_digest({"vars": {"country": "Japan"}})[:8]
    assert suite.cases[0].id == "c-1e40124f"  # pinned: stored runs pair through it


def test_jsonl_ids_survive_an_insert_and_input_text_is_its_user_message(tmp_path: Path) -> None:
    before = ids_by_input(load_suite(native_jsonl(tmp_path, COUNTRIES)))
    after = ids_by_input(load_suite(native_jsonl(tmp_path, ["Atlantis", *reversed(COUNTRIES)])))
    assert all(after[key] == value for key, value in before.items())
    as_messages = tmp_path / "m.yaml"
    as_messages.write_text("cases:\n  - messages: [{role: user, content: 'Capital of Peru?'}]\n")
    assert load_suite(as_messages).cases[0].id == before["Capital of Peru?"]


def test_same_input_gets_suffixes_in_file_order_and_a_warning(tmp_path: Path) -> None:
    suite = load_suite(native_yaml(tmp_path, ["Peru", "Japan", "Peru", "Peru"]))
    peru, japan = (f"c-{content_digest({'vars': {'country': c}})[:8]}" for c in ("Peru", "Japan"))
    assert [case.id for case in suite.cases] == [peru, japan, f"{peru}-2", f"{peru}-3"]
    assert (
        f"cases with the same input: {peru} (line 3), {peru}-2 (line 5), {peru}-3 (line 6); "
        "their ids follow their order in the file (give them ids)"
    ) in suite.warnings


def test_explicit_ids_are_kept_and_derived_ones_step_aside(tmp_path: Path) -> None:
    derived = load_suite(native_yaml(tmp_path, ["Peru"])).cases[0].id
    path = tmp_path / "mixed.yaml"
    path.write_text(
        "prompt: 'Capital of {{country}}?'\ncases:\n"
        "  - vars: {country: Peru}\n"
        f"  - {{id: {derived}, vars: {{country: Chile}}}}\n"  # someone wrote that id by hand
        "  - {id: 3, vars: {country: Chile}}\n",
        encoding="utf-8",
    )
    suite = load_suite(path)
    assert [case.id for case in suite.cases] == [f"{derived}-2", derived, "3"]
    assert not any("same input" in warning for warning in suite.warnings)


def test_a_duplicate_explicit_id_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("cases:\n  - {id: a, input: x}\n  - {id: a, input: y}\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"dup.yaml:3: case a: duplicate case id"):
        load_suite(path)


# -- promptfoo --------------------------------------------------------------------------------


def promptfoo(folder: Path, tests: list[str], prompts: str = "['Capital of {{country}}?']") -> Path:
    path = folder / "promptfooconfig.yaml"
    path.write_text(f"prompts: {prompts}\ntests:\n" + "".join(tests), encoding="utf-8")
    return path


def anonymous(country: str) -> str:
    return f"  - vars: {{country: {country}}}\n    assert: [{{type: icontains, value: x}}]\n"


def test_promptfoo_ids_survive_an_insert_and_a_shuffle(tmp_path: Path) -> None:
    before = ids_by_input(load_suite(promptfoo(tmp_path, [anonymous(c) for c in COUNTRIES])))
    shuffled = ["Atlantis", *COUNTRIES]
    random.Random(5).shuffle(shuffled)
    after = ids_by_input(load_suite(promptfoo(tmp_path, [anonymous(c) for c in shuffled])))
    assert all(after[key] == value for key, value in before.items())
    assert all(value.startswith("t-") and len(value) == 10 for value in after.values())


def test_promptfoo_tests_are_named_by_a_unique_description(tmp_path: Path) -> None:
    tests = [
        "  - description: 'French   capital'\n    vars: {country: France}\n",
        "  - description: twice\n    vars: {country: Japan}\n",
        "  - description: twice\n    vars: {country: Peru}\n",  # not unique: by vars
        "  - description: many\n    vars: {country: [Chile, Egypt]}\n",
    ]
    suite = load_suite(promptfoo(tmp_path, tests))
    japan, peru, chile, egypt = (
        content_digest({"country": country})[:8] for country in ("Japan", "Peru", "Chile", "Egypt")
    )
    assert [case.id for case in suite.cases] == [
        "French capital",
        f"t-{japan}",
        f"t-{peru}",
        f"many.{chile}",
        f"many.{egypt}",
    ]


def test_promptfoo_tests_with_the_same_vars_get_suffixes_and_a_warning(tmp_path: Path) -> None:
    tests = [anonymous("Peru"), anonymous("Japan"), anonymous("Peru")]
    suite = load_suite(promptfoo(tmp_path, tests))
    peru = "t-" + content_digest({"country": "Peru"})[:8]
    assert [case.id for case in suite.cases][::2] == [peru, f"{peru}-2"]
    path = tmp_path / "promptfooconfig.yaml"
    assert (
        f"tests with the same vars: {peru} ({path}:3), {peru}-2 ({path}:7); "
        "their ids follow their order in the file (give them ids)"
    ) in suite.warnings


def test_metadata_id_is_kept_as_written(tmp_path: Path) -> None:
    tests = [anonymous("Peru"), "  - vars: {country: Japan}\n    metadata: {id: jp}\n"]
    suite = load_suite(promptfoo(tmp_path, tests))
    assert suite.cases[1].id == "jp"


def test_prompt_ids_and_labels_name_the_prompt_part(tmp_path: Path) -> None:
    prompts = """
  - 'Capital of {{country}}?'
  - {id: terse, raw: 'Capital of {{country}}? One word.'}
  - {label: formal, raw: 'Kindly name the capital of {{country}}.'}
  - {label: same, raw: 'A {{country}}'}
  - {label: same, raw: 'B {{country}}'}"""
    suite = load_suite(promptfoo(tmp_path, [anonymous("Peru")], prompts))
    assert [prompt.id for prompt in suite.prompts] == ["p1", "terse", "formal", "p4", "p5"]
    test = "t-" + content_digest({"country": "Peru"})[:8]
    assert [case.id for case in suite.cases] == [
        f"{test}:p1",
        f"{test}:terse",
        f"{test}:formal",
        f"{test}:p4",  # a label two prompts share names neither
        f"{test}:p5",
    ]


def test_editing_a_prompts_text_keeps_its_cases_ids(tmp_path: Path) -> None:
    tests = [anonymous("Peru"), anonymous("Japan")]
    first = load_suite(promptfoo(tmp_path, tests, "['Capital of {{country}}?', 'Hi {{country}}']"))
    edited = load_suite(promptfoo(tmp_path, tests, "['Name the capital of {{country}}.', 'Hi']"))
    assert [case.id for case in first.cases] == [case.id for case in edited.cases]
    assert first.version != edited.version


def test_a_prompt_named_like_another_prompts_position_is_refused(tmp_path: Path) -> None:
    prompts = "['Capital of {{country}}?', {id: p1, raw: 'Other {{country}}'}]"
    hint = r"prompt 1 has no id or label, so it is named 'p1': give it one"
    with pytest.raises(BadInput, match=rf"prompts: 2 prompts have the id 'p1' \({hint}\)"):
        load_suite(promptfoo(tmp_path, [anonymous("Peru")], prompts))
