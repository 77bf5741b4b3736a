"""tunedeck's own suite files (YAML, JSON, JSONL), and every way a suite can be refused."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import pytest

from core.errors import BadInput
from core.evals.loader import load_suite

CAPITALS = """\
name: capitals
description: Capital cities
model: gpt-4o-mini
params: {temperature: 0, max_tokens: 16}
system: You answer with one word.
prompt: "What is the capital of {{country}}?"
defaults:
  assert: [{type: not-icontains, value: sorry}]
  tags: [geo]
cases:
  - id: fr
    vars: {country: France}
    expected: Paris
    critical: true
    tags: [europe]
    assert:
      - type: equals
        options: {ignore_case: true}
      - type: similar
        threshold: 0.9
  - vars: {country: Japan}
    assert:
      - type: regex
        value: "^To[kK]yo"
  - id: 7
    messages:
      - {role: system, content: Be brief.}
      - {role: user, content: "Spell {{ not a var }}"}
  - input: Give me JSON with a number a
    assert:
      - type: is-json
        value: {type: object, required: [a]}
      - type: json-field
        value: 1
        options: {path: a}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> str:
    with pytest.raises(BadInput) as caught:
        load_suite(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_native_yaml_suite(tmp_path: Path) -> None:
    path = write(tmp_path, "capitals.yaml", CAPITALS)
    suite = load_suite(path)
    assert (suite.name, suite.format, suite.default_model) == ("capitals", "native", "gpt-4o-mini")
    assert suite.version == hashlib.sha256(path.read_bytes()).hexdigest()
    assert suite.params.temperature == 0 and suite.params.max_tokens == 16
    # Pinned: a change of how ids are derived would unpair new runs from stored ones.
    assert [case.id for case in suite.cases] == ["fr", "c-1e40124f", "7", "c-4456df92"]
    assert [case.line for case in suite.cases] == [11, 21, 25, 29]
    france = suite.case("fr")
    assert france.critical and france.tags == ["geo", "europe"] and france.expected == "Paris"
    assert [a.type for a in france.assertions] == ["not-icontains", "equals", "similar"]
    assert france.assertions[1].value == "Paris" and france.assertions[2].threshold == 0.9
    assert [m.as_api() for m in suite.messages_for(france)] == [
        {"role": "system", "content": "You answer with one word."},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    literal = suite.case("7")
    assert [m.content for m in suite.messages_for(literal)] == [
        "Be brief.",
        "Spell {{ not a var }}",
    ]
    assert suite.warnings == []  # case 7 has the defaults' assertion


def test_messages_are_sent_as_written_and_the_system_prompt_is_not_doubled(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, "s.yaml", CAPITALS))
    messages = suite.messages_for(suite.case("7"))
    assert [m.role for m in messages] == ["system", "user"]
    assert [m.role for m in suite.messages_for(suite.case("c-4456df92"))] == ["system", "user"]


def test_a_case_without_assertions_is_a_warning(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, "s.yaml", "cases:\n  - input: hi\n"))
    assert suite.name == "s" and suite.cases[0].id == "c-19e21ad5"
    assert suite.warnings == ["case c-19e21ad5 has no assertions: it always passes"]


def test_a_chat_template_with_vars(tmp_path: Path) -> None:
    text = """\
system: "You translate to {{lang}}."
prompt:
  - {role: user, content: "{{text}}"}
cases:
  - vars: {lang: French, text: {greeting: hi, n: [1, 2]}}
    assert: [{type: icontains, value: "{{lang}}"}]
"""
    suite = load_suite(write(tmp_path, "chat.yml", text))
    assert [m.as_api() for m in suite.messages_for(suite.cases[0])] == [
        {"role": "system", "content": "You translate to French."},
        {"role": "user", "content": '{"greeting":"hi","n":[1,2]}'},
    ]


def test_a_native_jsonl_suite_with_a_header(tmp_path: Path) -> None:
    lines = [
        {"suite": {"name": "math", "params": {"temperature": 0}, "prompt": "{{q}} ="}},
        {"id": "add", "vars": {"q": "2+2"}, "assert": [{"type": "numeric", "value": 4}]},
        {},
        {"id": "mul", "vars": {"q": "3*3"}, "assert": [{"type": "equals", "value": "9"}]},
    ]
    text = "\n".join("" if line == {} else json.dumps(line) for line in lines) + "\n"
    suite = load_suite(write(tmp_path, "arith.jsonl", text))
    assert suite.name == "math" and [c.id for c in suite.cases] == ["add", "mul"]
    assert [c.line for c in suite.cases] == [2, 4]
    assert suite.messages_for(suite.cases[1])[0].content == "3*3 ="


def test_a_jsonl_suite_without_header_is_named_after_its_file(tmp_path: Path) -> None:
    text = '{"input": "hi", "assert": [{"type": "contains", "value": "hello"}]}\n'
    suite = load_suite(write(tmp_path, "greetings.jsonl", text))
    assert suite.name == "greetings" and suite.cases[0].messages is not None


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x1c"])
def test_a_jsonl_case_may_hold_line_separators_that_json_leaves_unescaped(
    tmp_path: Path, separator: str
) -> None:
    """JSON writes U+2028, NEL and the like raw (ensure_ascii=False): only line feeds end a
    line of a JSONL suite, or a held-out split with such an answer could not be read back."""
    case = {"id": "a", "input": f"one{separator}two", "expected": f"x{separator}y"}
    other = {"id": "b", "input": "z"}
    text = json.dumps(case, ensure_ascii=False) + "\n" + json.dumps(other) + "\n"
    suite = load_suite(write(tmp_path, "seps.jsonl", text))
    assert [c.id for c in suite.cases] == ["a", "b"] and [c.line for c in suite.cases] == [1, 2]
    assert suite.cases[0].expected == f"x{separator}y"


def test_a_native_json_suite(tmp_path: Path) -> None:
    data = {"cases": [{"input": "hi", "assert": [{"type": "starts-with", "value": "H"}]}]}
    suite = load_suite(write(tmp_path, "s.json", json.dumps(data)))
    assert suite.format == "native" and suite.cases[0].assertions[0].type == "starts-with"


def one(assertion: str) -> str:
    """A suite of one case, `a`, with one assertion written in YAML flow style."""
    return f"cases:\n  - id: a\n    input: x\n    assert: [{assertion}]\n"


JS = "cases:\n  - id: a\n    input: hi\n    assert:\n      - type: webhook\n        value: 1\n"
SCHEMA = JS.replace("webhook", "is-json").replace("value: 1", "value: {type: x}")
BAD_SUITES = {
    "unknown assertion type": (
        one("{type: contians, value: x}"),
        "s.yaml:4: case a: unknown assertion type 'contians' (supported: contains, contains-all,",
    ),
    "promptfoo-only assertion": (
        JS,
        "s.yaml:5: case a: promptfoo assertion type 'webhook' is not supported by tunedeck",
    ),
    "bad regex": (
        one("{type: regex, value: '(unclosed'}"),
        "s.yaml:4: case a: regex: bad regex '(unclosed': missing ) at position 9",
    ),
    "bad JSON schema": (
        SCHEMA,
        "s.yaml:5: case a: is-json: bad JSON schema at type: 'x' is not valid under any of the",
    ),
    "duplicate ids": (
        "cases:\n  - {id: a, input: x}\n  - {id: b, input: y}\n  - {id: a, input: z}\n",
        "s.yaml:4: case a: duplicate case id; the first is earlier (line 2)",
    ),
    "no input": (
        "cases:\n  - id: a\n    expected: x\n",
        "s.yaml:2: case a: needs exactly one of input, messages or vars (found none)",
    ),
    "two inputs": (
        "cases:\n  - {id: a, input: x, messages: [{role: user, content: y}]}\n",
        "s.yaml:2: case a: needs exactly one of input, messages or vars (found input and messages)",
    ),
    "missing var": (
        "prompt: 'Hi {{name}} from {{town}}'\ncases:\n  - id: a\n    vars: {name: Ann}\n",
        "s.yaml:3: case a: prompt: variable 'town' is not defined",
    ),
    "vars without a prompt": (
        "cases:\n  - id: a\n    vars: {x: 1}\n",
        "s.yaml:2: case a: has vars but the suite has no prompt template to fill in",
    ),
    "unknown template filter": (
        "prompt: '{{ name | shout }}'\ncases:\n  - {id: a, vars: {name: x}}\n",
        "s.yaml:3: case a: prompt: invalid template at line 1: No filter named 'shout'.",
    ),
    "unclosed template tag": (
        "prompt: '{% if x %}y'\ncases:\n  - {id: a, vars: {x: 1}}\n",
        "s.yaml:3: case a: prompt: invalid template at line 1: Unexpected end of template.",
    ),
    "equals without value": (
        one("{type: equals}"),
        "s.yaml:4: case a: equals: needs a value (or the case's expected answer)",
    ),
    "unknown option": (
        one("{type: equals, value: y, options: {ignore_caps: true}}"),
        "s.yaml:4: case a: equals: unknown option 'ignore_caps' (options: ignore_case, ignore_pu",
    ),
    "unknown assertion key": (
        one("{type: contains, vaule: y}"),
        "s.yaml:4: case a: contains: 'vaule' is not an assertion key",
    ),
    "python scorer as a dotted name": (
        one("{type: python, value: nosuchmodule.scorer}"),
        "s.yaml:4: case a: python: 'nosuchmodule.scorer' reads as inline code, not an import"
        " path: write module:function (e.g. nosuchmodule:scorer)",
    ),
    "python scorer as a bare file name": (
        one("{type: python, value: checks.py}"),
        "s.yaml:4: case a: python: 'checks.py' is not a file reference: write file://checks.py",
    ),
    "latency without threshold": (
        one("{type: latency, value: 100}"),
        "s.yaml:4: case a: latency: takes its ceiling as threshold, not value",
    ),
    "json-field without path": (
        one("{type: json-field, value: 1}"),
        "s.yaml:4: case a: json-field: needs options.path",
    ),
    "bad path": (
        one("{type: json-field, value: 1, options: {path: 'a..b'}}"),
        "s.yaml:4: case a: json-field: options.path: 'a..b' is not a field path",
    ),
    "bad weight": (
        one("{type: contains, value: y, weight: heavy}"),
        "s.yaml:4: case a: contains: weight must be a number, not 'heavy'",
    ),
    "similar threshold": (
        one("{type: similar, value: y, threshold: 80}"),
        "s.yaml:4: case a: similar: threshold must be above 0 and at most 1",
    ),
    "a string assertion": (
        one("contains"),
        "s.yaml:2: case a: assertion 'contains' must be a mapping with a type (type: contains)",
    ),
    "unknown case key": (
        "cases:\n  - id: a\n    input: x\n    asserts: []\n",
        "s.yaml:2: case a: 'asserts' is not a case key",
    ),
    "unknown suite key": ("nmae: x\ncases: []\n", "s.yaml:1: 'nmae' is not a suite key"),
    "no cases": ("name: x\n", "s.yaml:1: cases: is required, a list of cases"),
    "empty cases": ("cases: []\n", "s.yaml: the suite has no cases"),
    "bad params": (
        "params: {temperature: 3}\ncases: [{input: x}]\n",
        "s.yaml:1: params.temperature: must be at most 2",
    ),
    "bad role": (
        "cases:\n  - id: a\n    messages: [{role: wizard, content: x}]\n",
        "s.yaml:2: case a: messages.0.role: must be one of 'system', 'developer', 'user',",
    ),
    "bad critical": (
        "cases:\n  - {id: a, input: x, critical: maybe}\n",
        "s.yaml:2: case a: critical must be true or false",
    ),
    "a list at the top": (
        "- input: x\n",
        "s.yaml: the top level must be a mapping (with cases:, or promptfoo's tests:)",
    ),
    "bad YAML: a bracket left open is named where it opens": (
        "cases:\n  - id: a\n    input: [unclosed\n",
        "s.yaml:3: invalid YAML: while parsing a flow sequence from here: expected ',' or ']',"
        " but got '<stream end>' (line 4)",
    ),
    "bad YAML: a quote left open is named where it opens": (
        'cases:\n  - id: a\n    input: "unclosed\n  - id: b\n    input: x\n',
        "s.yaml:3: invalid YAML: while scanning a quoted scalar from here: found unexpected end"
        " of stream (line 6)",
    ),
    "an empty file": ("", "s.yaml: the file is empty"),
    "bad YAML: a bad indent is named where it is found": (
        "cases:\n  - id: a\n    input: x\n   assert: []\n",
        "s.yaml:4: invalid YAML: expected <block end>, but found '<block mapping start>'",
    ),
    "tab indentation": (
        "cases:\n\t- id: a\n",
        "s.yaml:2: invalid YAML: found character '\\t' that cannot start any token",
    ),
}
BAD_JSON = {
    "bad JSONL line": (
        "s.jsonl",
        '{"input": "x"}\n{"input": "y",}\n',
        "s.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes",
    ),
    "a JSONL case that is not a mapping": (
        "s.jsonl",
        '{"input": "x"}\n[1]\n',
        "s.jsonl:2: each line must be a JSON object (a case)",
    ),
    "a JSONL header with cases": (
        "s.jsonl",
        '{"suite": {"name": "x", "cases": []}}\n{"input": "y"}\n',
        "s.jsonl:1: the header line must be",
    ),
    "bad JSON": ("s.json", '{"cases": [}', "s.json:1: invalid JSON: Expecting value"),
    "wrong extension": (
        "s.txt",
        "cases: []",
        "s.txt: a suite is a .yaml, .yml, .json or .jsonl file, not '.txt'",
    ),
}


@pytest.mark.parametrize(("text", "message"), BAD_SUITES.values(), ids=BAD_SUITES.keys())
def test_bad_suites_are_refused_with_file_line_case_and_reason(
    tmp_path: Path, text: str, message: str
) -> None:
    assert refused(write(tmp_path, "s.yaml", text)).startswith(f"{tmp_path}/{message}")


@pytest.mark.parametrize(("name", "text", "message"), BAD_JSON.values(), ids=BAD_JSON.keys())
def test_bad_json_suites_are_refused(tmp_path: Path, name: str, text: str, message: str) -> None:
    assert refused(write(tmp_path, name, text)).startswith(f"{tmp_path}/{message}")


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes("cases:\n  - {input: caf\xe9}\n".encode("latin-1"))
    assert refused(path) == f"{path}:2: not UTF-8 text (byte 0xe9)"


def test_a_missing_file_and_a_folder(tmp_path: Path) -> None:
    assert refused(tmp_path / "nope.yaml") == f"{tmp_path / 'nope.yaml'}: no such file"
    (tmp_path / "dir.yaml").mkdir()
    assert refused(tmp_path / "dir.yaml") == f"{tmp_path / 'dir.yaml'}: is a folder, not a file"


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        bomb += f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
    bomb += "cases: [{input: x, metadata: {boom: *i}}]\n"
    started = time.perf_counter()
    message = refused(write(tmp_path, "bomb.yaml", bomb))
    assert message.endswith("too large once its YAML aliases are expanded (over 2,000,000 values)")
    assert time.perf_counter() - started < 5


def test_yaml_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    text = """\
defaults:
  metadata:
    check: &check {type: icontains, value: paris}
cases:
  - {id: a, input: x, assert: [*check]}
  - {id: b, input: y, assert: [{<<: *check, value: lyon}]}
"""
    suite = load_suite(write(tmp_path, "s.yaml", text))
    assert [case.assertions[0].value for case in suite.cases] == ["paris", "lyon"]


def test_dates_stay_text(tmp_path: Path) -> None:
    suite = load_suite(
        write(tmp_path, "s.yaml", "prompt: 'On {{day}}'\ncases: [{vars: {day: 2024-05-01}}]\n")
    )
    assert suite.messages_for(suite.cases[0])[0].content == "On 2024-05-01"


def test_the_version_changes_with_the_content(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", "cases: [{input: x}]\n")
    first = load_suite(path).version
    path.write_text("cases: [{input: y}]\n")
    assert load_suite(path).version != first
    assert re.fullmatch(r"[0-9a-f]{64}", first)
