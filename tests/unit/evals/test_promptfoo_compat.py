"""promptfoo configs as real projects write them (a QA pass over 24 public configs): YAML read
as promptfoo reads it, prompt paths without `file://`, no `prompts:`, promptfoo's own provider
ids, CSV cells, and every unsupported feature named at once, where it is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import BadInput
from core.evals.loader import load_suite
from core.evals.suite import Suite, model_of_provider
from tests.unit.evals.test_promptfoo import write_project


def loaded(root: Path, config: str, files: dict[str, str] | None = None) -> Suite:
    return load_suite(write_project(root, config, files or {}))


def refused(root: Path, config: str, files: dict[str, str] | None = None) -> str:
    with pytest.raises(BadInput) as caught:
        loaded(root, config, files)
    return str(caught.value).removeprefix(f"{root}/")


def sent(suite: Suite, index: int = 0) -> str:
    (message,) = suite.messages_for(suite.cases[index])
    return message.content


def test_yaml_words_and_times_stay_text_as_promptfoo_reads_them(tmp_path: Path) -> None:
    # promptfoo's own simple-test example: `body: Yes` is the word, not the boolean true; its
    # reader (js-yaml) is YAML 1.2: no octal 01234, no 1_000, no base-60 12:30.
    suite = loaded(
        tmp_path,
        "prompts: ['{{body}} / {{country}} / {{at}} / {{flag}} / {{n}} / {{zip}} / {{big}}']\n"
        "tests:\n  - vars: {body: Yes, country: NO, at: 12:30, flag: true, n: 0x1F,"
        " zip: 01234, big: 1_000}\n",
    )
    assert sent(suite) == "Yes / NO / 12:30 / true / 31 / 1234 / 1_000"


def test_a_native_suite_is_still_read_as_before(tmp_path: Path) -> None:
    # Only promptfoo configs are read as YAML 1.2: a tunedeck suite's `yes` stays true, so its
    # flags load and its case ids and cache keys do not change (review).
    path = tmp_path / "native.yaml"
    path.write_text(
        "name: native\nprompt: 'flag {{flag}}'\ncases:\n  - id: a\n    critical: yes\n"
        "    vars: {flag: yes}\n    assert: [{type: contains, value: x}]\n",
        encoding="utf-8",
    )
    suite = load_suite(path)
    (case,) = suite.cases
    assert case.critical is True and sent(suite) == "flag true"


def test_a_prompt_path_without_file_scheme_is_read_from_its_file(tmp_path: Path) -> None:
    files = {"prompts/tutor.txt": "You are a tutor. Explain {{topic}}.\n"}
    suite = loaded(
        tmp_path, "prompts: [prompts/tutor.txt]\ntests: [{vars: {topic: loops}}]\n", files
    )
    assert sent(suite) == "You are a tutor. Explain loops."
    words = loaded(
        tmp_path, "prompts: ['Is {{a}}/{{b}} a fraction?']\ntests: [{vars: {a: 1, b: 2}}]\n"
    )
    assert sent(words) == "Is 1/2 a fraction?"  # a sentence with a slash stays a prompt


def test_a_prompt_shaped_like_a_missing_file_is_refused_not_sent(tmp_path: Path) -> None:
    message = refused(tmp_path, "prompts: [file:/prompt.txt]\ntests: [{vars: {}}]\n")
    assert message.startswith(
        "promptfooconfig.yaml: prompts: 'file:/prompt.txt' is read as a file's path"
    )
    assert "there is no such file" in message


def test_without_prompts_each_tests_prompt_var_is_sent(tmp_path: Path) -> None:
    suite = loaded(tmp_path, "tests:\n  - vars: {prompt: 'What is 2+2?'}\n")
    assert sent(suite) == "What is 2+2?"
    message = refused(tmp_path, "tests:\n  - vars: {question: 'What is 2+2?'}\n")
    assert message.startswith("promptfooconfig.yaml:2: the config has no prompts:")


@pytest.mark.parametrize("provider", ["echo", "http", "https", "openai", "webhook"])
def test_promptfoos_own_providers_are_not_taken_for_model_names(provider: str) -> None:
    assert model_of_provider(provider) is None
    assert model_of_provider(f"openai:{provider}") == provider  # a model of that name is fine


def test_a_config_with_the_echo_provider_asks_for_a_model(tmp_path: Path) -> None:
    suite = loaded(tmp_path, "prompts: ['{{q}}']\nproviders: [echo]\ntests: [{vars: {q: hi}}]\n")
    assert "provider echo is not an OpenAI-compatible model: run with --model" in suite.warnings


def test_csv_cells_are_trimmed_and_metadata_lists_split_as_promptfoo_does(
    tmp_path: Path,
) -> None:
    csv = (
        "question,__expected1,__expected2,__metadata:tags[],__metadata:topic\n"
        'q1,contains: algorithm ,"icontains-any: sort , order","smoke, fast\\, cheap",search\n'
    )
    suite = loaded(tmp_path, "prompts: ['{{question}}']\ntests: file://t.csv\n", {"t.csv": csv})
    (case,) = suite.cases
    assert [a.value for a in case.assertions] == ["algorithm", ["sort", "order"]]
    assert list(case.tags) == ["smoke", "fast, cheap"]


def test_every_unsupported_feature_of_a_config_is_named_at_once_with_its_lines(
    tmp_path: Path,
) -> None:
    config = (
        "prompts: ['{{q}}']\n"
        "extensions: [file://hooks.js]\n"
        "defaultTest:\n"
        "  options:\n"
        "    prefix: 'Q: '\n"
        "tests:\n"
        "  - vars: {q: a}\n"
        "    assert:\n"
        "      - type: webhook\n"
        "        value: http://localhost/grade\n"
        "      - type: equals\n"
        "        value: x\n"
        "        contextTransform: output.trim()\n"
        "  - vars: {q: b}\n"
        "    assert:\n"
        "      - {type: webhook, value: http://localhost/grade}\n"
    )
    assert refused(tmp_path, config) == (
        "promptfooconfig.yaml: the config uses 4 promptfoo features tunedeck does not support:"
        " extensions (hooks) (extensions:); options.prefix (line 5); promptfoo assertion type"
        " 'webhook' is not supported by tunedeck (lines 9, 16); equals: assertion context"
        " transforms (contextTransform:) are not supported (line 11)"
    )


def test_a_refused_default_test_assertion_is_named_where_it_is_written(tmp_path: Path) -> None:
    files = {"cases/a.yaml": "- vars: {q: a}\n"}
    config = (
        "prompts: ['{{q}}']\n"
        "defaultTest:\n"
        "  assert:\n"
        "    - type: equals\n"
        "      value: x\n"
        "      contextTransform: output.trim()\n"
        "tests: file://cases/a.yaml\n"
    )
    assert refused(tmp_path, config, files) == (
        "promptfooconfig.yaml:4: defaultTest: equals: assertion context transforms"
        " (contextTransform:) are not supported"
    )


def test_template_features_of_a_prompt_file_are_named_at_that_file(tmp_path: Path) -> None:
    files = {"prompts.txt": "Answer {% if q %}{{q}}\n", "t.csv": "q\na\n"}
    message = refused(tmp_path, "prompts: [file://prompts.txt]\ntests: file://t.csv\n", files)
    assert message.startswith("prompts.txt: prompt: invalid template at line 1: Unexpected end")

    chat = '[\n  {"role": "system", "content": "Be brief"},\n  {% for turn in _conversation %}\n'
    message = refused(
        tmp_path, "prompts: [file://chat.json]\ntests: [{vars: {}}]\n", {"chat.json": chat}
    )
    assert message.startswith("chat.json: prompt: invalid template at line 3: Unexpected end")
