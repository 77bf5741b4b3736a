"""promptfoo configs run unchanged: prompts, providers, defaultTest, tests in files, refusals."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from core.errors import BadInput
from core.evals.loader import load_suite
from core.evals.scorers import Output
from core.evals.scoring import score_case
from core.evals.suite import Suite

CONFIG = """\
# yaml-language-server: $schema=https://promptfoo.dev/config-schema.json
description: Translation bot
prompts:
  - file://prompts/translate.txt
  - file://prompts/chat.json
providers:
  - id: openai:chat:gpt-4o-mini
    config:
      temperature: 0
      max_tokens: 100
      apiBaseUrl: https://example.invalid/v1
  - anthropic:messages:claude-3-5-sonnet-20241022
defaultTest:
  vars:
    tone: polite
  assert:
    - type: not-icontains
      value: as an AI
  options:
    provider: openai:gpt-4o
tests:
  - description: French greeting
    vars:
      language: French
      input: Hello
    assert:
      - type: icontains
        value: bonjour
      - type: llm-rubric
        value: Is a {{tone}} translation into {{language}}
        threshold: 0.5
  - file://tests/more.yaml
  - file://tests/*.csv
  - vars:
      language: [German, Spanish]
      input: Thanks
    metadata:
      id: thanks
      critical: true
      tags: [smoke]
    assert:
      - type: python
        value: len(output) < 200
outputPath: results.json
"""

FILES = {
    "prompts/translate.txt": "Translate into {{language}}, {{tone}}:\n{{input}}\n"
    "---\n{{input}} in {{language}}?\n",
    "prompts/chat.json": '[{"role": "system", "content": "You translate into {{language}}."},\n'
    ' {"role": "user", "content": "{{input}}"}]\n',
    "tests/more.yaml": "- vars: {language: Italian, input: Good night}\n"
    "  threshold: 0.5\n"
    "  assert:\n"
    "    - {type: icontains, value: notte, weight: 2}\n"
    "    - {type: similar, value: Buona notte, threshold: 0.7}\n",
    "tests/cases.csv": "language,input,__expected,__expected2,__description,__metadata:area\n"
    'Dutch,Hello,icontains:hallo,"not-contains-any:Hello,hello",Dutch hello,europe\n'
    "Greek,Yes,similar(0.6):Ναι,,,\n"
    'Polish,"multi\nline",grade:Sounds natural,latency(2000),,\n',
}


def write_project(root: Path, config: str = CONFIG, files: dict[str, str] | None = None) -> Path:
    for name, text in (FILES if files is None else files).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    path = root / "promptfooconfig.yaml"
    path.write_text(config, encoding="utf-8")
    return path


@pytest.fixture
def suite(tmp_path: Path) -> Suite:
    return load_suite(write_project(tmp_path))


def test_prompts_providers_and_params(suite: Suite) -> None:
    assert (suite.format, suite.name, suite.description) == (
        "promptfoo",
        "Translation bot",  # named by its description
        "Translation bot",
    )
    assert [p.id for p in suite.prompts] == ["p1", "p2", "p3"]
    assert [p.label for p in suite.prompts] == ["prompts/translate.txt"] * 2 + ["prompts/chat.json"]
    assert suite.providers == [
        "openai:chat:gpt-4o-mini",
        "anthropic:messages:claude-3-5-sonnet-20241022",
    ]
    assert suite.default_model == "gpt-4o-mini"
    assert suite.judge_model == "gpt-4o"  # defaultTest's options.provider, promptfoo's grader
    assert (suite.params.temperature, suite.params.max_tokens) == (0, 100)
    assert suite.warnings == [
        "outputPath: ignored",
        "2 providers: a run uses one model (--model, else openai:chat:gpt-4o-mini)",
        "providers config apiBaseUrl: ignored",
        "similar: scored by a fuzzy text ratio (offline, default threshold 0.8), not by"
        " embeddings as promptfoo does: its thresholds do not mean the same",
    ]


# Tests without a description or an id are named by a hash of their vars (pinned here: a
# change of how ids are derived would unpair new runs from stored ones).
ITALIAN, GREEK, POLISH = "t-53f6ecad", "t-c705efa4", "t-a96b1e99"


def test_cases_are_tests_times_var_combinations_times_prompts(suite: Suite) -> None:
    ids = [case.id for case in suite.cases]
    assert ids == [
        *(f"French greeting:p{n}" for n in (1, 2, 3)),  # described tests: by description
        *(f"{ITALIAN}:p{n}" for n in (1, 2, 3)),
        *(f"Dutch hello:p{n}" for n in (1, 2, 3)),  # a CSV's __description
        *(f"{test}:p{n}" for test in (GREEK, POLISH) for n in (1, 2, 3)),
        *(f"thanks.{k}:p{n}" for k in (1, 2) for n in (1, 2, 3)),  # metadata.id, as written
    ]
    first = suite.case("French greeting:p1")
    assert first.description == "French greeting" and first.vars == {
        "tone": "polite",
        "language": "French",
        "input": "Hello",
    }
    assert [a.type for a in first.assertions] == ["not-icontains", "icontains", "llm-rubric"]
    assert first.assertions[2].value == "Is a polite translation into French"
    spanish = suite.case("thanks.2:p3")
    assert spanish.vars is not None and spanish.vars["language"] == "Spanish"
    assert spanish.critical and spanish.tags == ["smoke"]


def test_each_prompt_renders(suite: Suite) -> None:
    french = "French greeting"
    assert [m.as_api() for m in suite.messages_for(suite.case(f"{french}:p1"))] == [
        {"role": "user", "content": "Translate into French, polite:\nHello"}
    ]
    assert suite.messages_for(suite.case(f"{french}:p2"))[0].content == "Hello in French?"
    assert [m.as_api() for m in suite.messages_for(suite.case(f"{french}:p3"))] == [
        {"role": "system", "content": "You translate into French."},
        {"role": "user", "content": "Hello"},
    ]


def test_tests_from_yaml_and_csv_files(suite: Suite) -> None:
    italian = suite.case(f"{ITALIAN}:p1")
    assert italian.threshold == 0.5 and italian.line == 1
    assert [(a.type, a.weight) for a in italian.assertions] == [
        ("not-icontains", 1),
        ("icontains", 2),
        ("similar", 1),
    ]
    dutch = suite.case("Dutch hello:p1")
    assert dutch.description == "Dutch hello" and dutch.metadata == {"area": "europe"}
    assert [(a.type, a.value) for a in dutch.assertions][1:] == [
        ("icontains", "hallo"),
        ("not-contains-any", ["Hello", "hello"]),
    ]
    greek = suite.case(f"{GREEK}:p1")
    assert (greek.assertions[1].type, greek.assertions[1].threshold) == ("similar", 0.6)
    polish = suite.case(f"{POLISH}:p1")
    assert polish.vars is not None and polish.vars["input"] == "multi\nline"
    assert [(a.type, a.threshold) for a in polish.assertions][1:] == [
        ("llm-rubric", None),
        ("latency", 2000),
    ]
    assert [suite.case(f"{t}:p1").line for t in ("Dutch hello", GREEK, POLISH)] == [2, 3, 4]


def test_a_promptfoo_threshold_scores_like_promptfoo(suite: Suite) -> None:
    italian = suite.case(f"{ITALIAN}:p1")
    # icontains (weight 2) passes, similar fails: 2/4 + 1/4 = 0.75 >= 0.5 though one failed
    result = asyncio.run(score_case(italian, Output("Notte!")))
    assert result.passed and not all(item.passed for item in result.assertions)


def test_the_version_covers_the_files_the_config_reads(tmp_path: Path) -> None:
    path = write_project(tmp_path)
    first = load_suite(path).version
    assert first != hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "tests/more.yaml").write_text(FILES["tests/more.yaml"].replace("notte", "notte!"))
    assert load_suite(path).version != first


def test_a_minimal_config(tmp_path: Path) -> None:
    config = (
        "prompts: ['Say {{word}}']\ntests:\n  - vars: {word: hi}\n    assert: [{type: equals}]\n"
    )
    config = config.replace("{type: equals}", "{type: equals, value: hi}")
    suite = load_suite(write_project(tmp_path, config, {}))
    assert (
        [case.id for case in suite.cases] == ["t-ff0d87e9"]
        and suite.providers == []
        and suite.default_model is None
    )


def test_similar_is_scored_as_promptfoo_does_not_and_says_so(tmp_path: Path) -> None:
    config = "prompts: ['Say {{word}}']\ntests:\n  - vars: {word: hi}\n    assert: [ASSERT]\n"
    similar = load_suite(
        write_project(tmp_path, config.replace("ASSERT", "{type: similar, value: hi}"), {})
    )
    negated = load_suite(
        write_project(tmp_path, config.replace("ASSERT", "{type: not-similar, value: hi}"), {})
    )
    plain = load_suite(
        write_project(tmp_path, config.replace("ASSERT", "{type: equals, value: hi}"), {})
    )
    assert [w for w in similar.warnings if w.startswith("similar:")] == [
        "similar: scored by a fuzzy text ratio (offline, default threshold 0.8), not by"
        " embeddings as promptfoo does: its thresholds do not mean the same"
    ]
    assert similar.warnings == negated.warnings
    assert plain.warnings == []
    assert similar.cases[0].assertions[0].threshold == 0.8  # tunedeck's default, not 0.75


def test_a_promptfoo_suite_is_named_by_its_description_or_its_project_folder(
    tmp_path: Path,
) -> None:
    minimal = "prompts: ['Say {{word}}']\ntests:\n  - vars: {word: hi}\n"
    names = {}
    for folder in ("maths", "greetings"):
        (tmp_path / folder).mkdir()
        names[folder] = load_suite(write_project(tmp_path / folder, minimal, {})).name
    assert names == {"maths": "maths", "greetings": "greetings"}  # not both "promptfooconfig"

    described = "description: |\n  Greeting\n  checks\n" + minimal
    assert load_suite(write_project(tmp_path / "maths", described, {})).name == "Greeting checks"
    for default_name in ("promptfooconfig.yml", "promptfooconfig.json"):
        other = tmp_path / "maths" / default_name
        other.write_text(
            minimal if default_name.endswith(".yml") else json.dumps(yaml.safe_load(minimal))
        )
        assert load_suite(other).name == "maths"
    own_name = tmp_path / "maths" / "smoke.yaml"
    own_name.write_text(minimal)
    assert load_suite(own_name).name == "smoke"


def test_no_tests_runs_each_prompt_once(tmp_path: Path) -> None:
    suite = load_suite(write_project(tmp_path, "prompts: [Tell a joke, Tell a pun]\n", {}))
    assert [case.id for case in suite.cases] == ["t-44136fa3:p1", "t-44136fa3:p2"]  # vars {}


def test_inline_chat_prompts_labels_and_provider_maps(tmp_path: Path) -> None:
    config = """\
prompts:
  - raw: '[{"role": "system", "content": "Be {{mood}}"}, {"role": "user", "content": "Hi"}]'
    label: chatty
providers:
  openai:gpt-4.1-mini:
    config: {seed: 7}
tests: [{vars: {mood: kind}}]
"""
    suite = load_suite(write_project(tmp_path, config, {}))
    assert suite.prompts[0].label == "chatty"
    assert [m.role for m in suite.messages_for(suite.cases[0])] == ["system", "user"]
    assert suite.default_model == "gpt-4.1-mini" and suite.params.seed == 7


def test_file_vars_and_expansion_can_be_disabled(tmp_path: Path) -> None:
    files = {"docs/a.txt": "first doc", "docs/b.txt": "second doc"}
    config = """\
prompts: ['Summarise: {{doc}} ({{tags}})']
tests:
  - vars: {doc: file://docs/*.txt, tags: [x, y]}
    options: {disableVarExpansion: true}
  - vars: {doc: file://docs/*.txt, tags: [x, y]}
"""
    message = ""
    try:
        load_suite(write_project(tmp_path, config, files))
    except BadInput as error:
        message = str(error)
    assert message == ""
    suite = load_suite(tmp_path / "promptfooconfig.yaml")
    assert (
        suite.messages_for(suite.case("t-29b569dc"))[0].content
        == 'Summarise: file://docs/*.txt (["x","y"])'
    )
    # each combination is named by its own vars (the text a file var reads)
    assert [c.id for c in suite.cases[1:]] == [
        "t-496796e8",
        "t-5fce67af",
        "t-7e794b65",
        "t-d28e02ee",
    ]
    assert suite.messages_for(suite.case("t-d28e02ee"))[0].content == "Summarise: second doc (y)"


PF = "promptfooconfig.yaml"
ONE_TEST = "prompts: [x]\ntests:\n  - "
REFUSALS = {
    "promptfoo-only assert": (
        "prompts: [x]\ntests:\n  - vars: {}\n  - assert:\n      - type: webhook\n",
        f"{PF}:5: case t-44136fa3-2: promptfoo assertion type 'webhook' is not supported"
        " by tunedeck",  # the second test with vars {}: -2
    ),
    "scenarios": (
        "prompts: [x]\nscenarios: []\ntests: []\n",
        f"{PF}: scenarios (scenarios:) are not supported by tunedeck",
    ),
    "contextTransform": (
        ONE_TEST + "assert: [{type: equals, value: a, contextTransform: output.trim()}]\n",
        f"{PF}:3: case t-44136fa3: equals: assertion context transforms (contextTransform:) are"
        " not supported",
    ),
    "options.suffix": (
        ONE_TEST + "options: {suffix: ' Be brief.'}\n",
        f"{PF}:3: options.suffix is not supported by tunedeck",
    ),
    "prefix": (
        "prompts: [x]\ndefaultTest: {options: {prefix: 'Q: '}}\ntests: [{}]\n",
        f"{PF}:3: options.prefix is not supported by tunedeck",
    ),
    "providerOutput": (
        ONE_TEST + "providerOutput: hi\n",
        f"{PF}:3: fixed provider outputs (providerOutput:) are not supported",
    ),
    "test generator": (
        "prompts: [x]\ntests: file://gen.py\n",
        f"{PF}: tests generated by code (gen.py) are not supported",
    ),
    "prompt function": (
        "prompts: [file://make_prompt.py]\n",
        f"{PF}: prompts generated by code (make_prompt.py) are not supported",
    ),
    "prompt function with a name": (
        "prompts: [file://prompts.py:make]\n",
        f"{PF}: prompts generated by code (prompts.py:make) are not supported",
    ),
    "huggingface": (
        "prompts: [x]\ntests: huggingface://datasets/squad\n",
        f"{PF}: tests from huggingface:// are not supported (only file://)",
    ),
    "unknown filter": (
        "prompts: ['{{ q | shout }}']\ntests: [{vars: {q: a}}]\n",
        f"{PF}: prompt: invalid template at line 1: No filter named 'shout'.",
    ),
    "missing var": (
        "prompts: ['{{question}}']\ntests:\n  - vars: {q: a}\n",
        f"{PF}:3: case t-29a9829b: prompt: variable 'question' is not defined",
    ),
    "missing prompts": (
        "tests: [{vars: {}}]\n",
        f"{PF}:1: the config has no prompts:, so each test's var `prompt` is its prompt",
    ),
    "mixed formats": (
        "prompts: [x]\ncases: []\n",
        f"{PF}: mixes tunedeck's cases: with promptfoo's prompts:/tests:",
    ),
    "unknown test key": (
        ONE_TEST + "asserts: []\n",
        f"{PF}:3: 'asserts' is not a promptfoo test key",
    ),
    "missing tests file": ("prompts: [x]\ntests: file://nope.csv\n", "nope.csv: no such file"),
    "csv special column": (
        "prompts: [x]\ntests: file://t.csv\n",
        "t.csv:2: prompt prefixes (__prefix) are not supported",
    ),
    "csv js syntax error": (
        "prompts: [x]\ntests: file://j.csv\n",
        "j.csv:3: case t-d235bf2e: javascript: SyntaxError: unexpected token in expression: '>'",
    ),
    "bad csv threshold": (
        "prompts: [x]\ntests: file://h.csv\n",
        "h.csv:2: __threshold must be a number, not 'high'",
    ),
    "bad assertion in a tests file": (
        "prompts: [x]\ntests: file://bad.yaml\n",
        "bad.yaml:2: case t-29a9829b: regex: bad regex '[a-': unterminated character set",
    ),
    "too many combinations": (
        ONE_TEST + "vars: {a: [" + ",".join("a" * 200) + "], b: [" + ",".join("b" * 200) + "]}\n",
        f"{PF}:3: array vars expand to 40,000 cases (at most 10,000)",
    ),
}
REFUSAL_FILES = {
    "t.csv": "q,__prefix\na,Q:\n",
    "j.csv": "q,__expected\na,hello\nb,fn:output.length >>> > 2\n",
    "h.csv": "q,__threshold\na,high\n",
    "bad.yaml": "- vars: {q: a}\n  assert: [{type: regex, value: '[a-'}]\n",
}


@pytest.mark.parametrize(("config", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_unsupported_features_are_refused_naming_them(
    tmp_path: Path, config: str, message: str
) -> None:
    with pytest.raises(BadInput) as caught:
        load_suite(write_project(tmp_path, config, REFUSAL_FILES))
    assert str(caught.value).startswith(f"{tmp_path}/{message}")


def test_files_are_named_as_the_user_named_the_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    write_project(project)
    monkeypatch.chdir(tmp_path)
    relative = load_suite("proj/promptfooconfig.yaml")
    assert relative.version == load_suite(project / "promptfooconfig.yaml").version
    (project / "tests/more.yaml").write_text("- vars: {language: x, input: y}\n  assert: 3\n")
    with pytest.raises(BadInput) as caught:
        load_suite("proj/promptfooconfig.yaml")
    assert str(caught.value) == "proj/tests/more.yaml:1: assert must be a list of assertions"


@pytest.mark.parametrize(
    ("provider", "judge", "warning"),
    [
        ("{id: 'openai:chat:gpt-4.1'}", "gpt-4.1", None),
        (
            "anthropic:messages:claude-3-5-sonnet-20241022",
            None,
            "defaultTest options.provider anthropic:messages:claude-3-5-sonnet-20241022 is not"
            " an OpenAI-compatible model: llm-rubric is graded by --judge-model, else the model"
            " under test",
        ),
    ],
)
def test_default_tests_provider_is_the_suites_judge_when_openai_can_serve_it(
    tmp_path: Path, provider: str, judge: str | None, warning: str | None
) -> None:
    config = (
        "prompts: ['Greet {{who}}']\n"
        f"defaultTest: {{options: {{provider: {provider}}}}}\n"
        "tests:\n"
        "  - vars: {who: Ann}\n"
        "    assert: [{type: llm-rubric, value: polite}]\n"
        "  - vars: {who: Bo}\n"
        "    options: {provider: openai:o3}\n"
        "    assert: [{type: llm-rubric, value: polite}]\n"
    )
    suite = load_suite(write_project(tmp_path, config, files={}))
    assert suite.judge_model == judge
    own = "options.provider: ignored, tunedeck's judge and runner decide"  # a test's own
    assert suite.warnings == ([warning] if warning else []) + [own]
