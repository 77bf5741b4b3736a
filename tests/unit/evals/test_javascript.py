"""`javascript` assertions, run as promptfoo runs them, on the embedded QuickJS engine: what the
code may be, how its verdict is read, and that bad code, a throw or a runaway loop never takes a
run down."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from core.errors import BadInput
from core.evals import javascript
from core.evals.loader import load_suite
from core.evals.scorers import Output
from core.evals.scoring import AssertionScore, score_assertion
from core.evals.sources import SuiteProblem
from core.evals.suite import Case
from tests.unit.evals.helpers import assertion


def js(
    value: str,
    text: str,
    *,
    kind: str = "javascript",
    variables: dict[str, Any] | None = None,
    base: Path | None = None,
    **fields: Any,
) -> AssertionScore:
    """Score `text` against a `javascript` assertion, for a case with `variables`."""
    built = assertion({"type": kind, "value": value, **fields}, variables=variables, base=base)
    case = Case(id="c1", vars=variables)
    return asyncio.run(score_assertion(built, Output(text), case))


def test_a_boolean_expression_passes_or_fails() -> None:
    assert js("output.startsWith('Ahoy')", "Ahoy, matey").passed
    failed = js("output.startsWith('Ahoy')", "Hello")
    assert (failed.passed, failed.score, failed.reason) == (False, 0.0, "javascript returned false")


def test_modern_syntax_runs() -> None:
    code = (
        "[...output].map((c) => c.toUpperCase()).at(-1) === `${'X'}` && ({a: {b: 1}})?.a?.b === 1"
    )
    assert js(code, "abx").passed
    assert js("Object.hasOwn(JSON.parse(output), 'n') && [1, 2].findLast((n) => n < 2) === 1",
              '{"n": 1}').passed  # fmt: skip


def test_a_number_is_the_score_and_passes_above_zero_or_at_the_threshold() -> None:
    assert js("output.length <= 5 ? 1 : 0", "short").passed
    too_long = js("output.length <= 5 ? 1 : 0", "much too long")
    assert (too_long.passed, too_long.score) == (False, 0.0)

    quarter = js("1 / (output.length + 1)", "abc")  # 0.25
    assert (quarter.passed, quarter.score, quarter.reason) == (
        True,
        0.25,
        "javascript returned 0.25",
    )
    assert js("1 / (output.length + 1)", "abc", threshold=0.25).passed
    below = js("1 / (output.length + 1)", "abcd", threshold=0.25)  # 0.2
    assert (below.passed, below.score) == (False, 0.2)


def test_a_grading_result_object_gives_pass_score_and_reason() -> None:
    code = "({pass: output.includes('x'), score: 0.7, reason: 'looked for x'})"
    result = js(code, "an x")
    assert (result.passed, result.score, result.reason) == (True, 0.7, "looked for x")
    assert not js(code, "nothing").passed
    bare = js("({pass: false})", "a")
    assert (bare.passed, bare.score, bare.reason) == (False, 0.0, "javascript returned pass=false")


def test_several_lines_are_a_function_body_that_returns_its_verdict() -> None:
    code = """
        const refs = ['NYC', 'Big Apple', 'Manhattan'];
        const found = refs.filter((ref) => output.toLowerCase().includes(ref.toLowerCase()));
        return found.length > 0 ? 1 : 0;
    """
    assert js(code, "I love manhattan").passed
    assert not js(code, "I love Paris").passed
    # promptfoo's rule: several lines are a body, so one without `return` gives no verdict.
    silent = js("const n = output.length\nn > 0", "abc")
    assert not silent.passed and "returned undefined" in silent.reason


def test_one_line_declarations_return_their_last_statement() -> None:
    assert js("const s = JSON.parse(output).score; s > 0.5", '{"score": 0.9}').passed
    assert js("const s = output; s === 'a;b'", "a;b").passed  # the `;` in a string is not one
    assert js("return output === 'ok';", "ok").passed
    assert js(" output === 'ok';;  ", "ok").passed


def test_context_holds_the_case_vars_and_test() -> None:
    variables = {"topic": "café ☕", "n": 2}
    code = "context.vars.topic === 'café ☕' && context.vars.n === 2 && context.test.id === 'c1'"
    assert js(code, "", variables=variables).passed


def test_values_are_rendered_with_the_vars_first() -> None:
    assert js("output.includes('{{word}}')", "a banana", variables={"word": "banana"}).passed


def test_not_javascript_negates() -> None:
    assert not js("output.includes('sorry')", "sorry, no", kind="not-javascript").passed
    result = js("output.includes('sorry')", "here it is", kind="not-javascript")
    assert (result.passed, result.score) == (True, 1.0)


def test_unicode_output_reaches_the_script_intact() -> None:
    text = "Ahoy 👋 héllo «ok» 日本"
    assert js("output === 'Ahoy 👋 héllo «ok» 日本'", text).passed
    assert js("output.length === 21", text).passed  # UTF-16 code units, as in JavaScript
    assert js("[...output].length === 20 && output.includes('日本')", text).passed


def test_a_throw_fails_the_assertion_with_the_error_message() -> None:
    result = js("JSON.parse(output).category === 'billing'", "not json")
    assert not result.passed and not result.error
    assert result.reason.startswith("threw SyntaxError: ") and "\n" not in result.reason
    custom = js("(() => { throw new TypeError('no ' + output) })()", "luck")
    assert custom.reason == "threw TypeError: no luck"
    negated = js("JSON.parse(output).a", "nope", kind="not-javascript")
    assert not negated.passed  # a crash fails whatever the polarity, as in promptfoo


def test_what_is_neither_bool_number_nor_grading_result_fails() -> None:
    for code, shown in [("'yes'", "string"), ("NaN", "NaN"), ("null", "null"), ("[1]", "object")]:
        result = js(code, "a")
        assert not result.passed
        assert result.reason.startswith(f"javascript returned {shown}, not a boolean")


def test_a_promise_is_awaited() -> None:
    assert js("(async () => output === 'y')()", "y").passed
    rejected = js("Promise.reject(new RangeError('late'))", "y")
    assert rejected.reason == "threw RangeError: late"


def test_an_endless_loop_is_stopped_and_the_engine_keeps_working() -> None:
    began = time.monotonic()
    result = js("while (true) {}\nreturn true", "a")
    assert time.monotonic() - began < javascript.TIME_LIMIT_S + 2
    assert not result.passed and "time limit" in result.reason
    assert js("output === 'b'", "b").passed


def test_a_runaway_loop_does_not_hold_the_event_loop() -> None:
    built = assertion({"type": "javascript", "value": "while (true) {}\nreturn true"})
    ticks: list[float] = []

    async def tick() -> None:
        for _ in range(10):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    async def both() -> AssertionScore:
        ticker = asyncio.create_task(tick())
        result = await score_assertion(built, Output("a"), Case(id="c1"))
        await ticker
        return result

    result = asyncio.run(both())
    assert "time limit" in result.reason
    assert len(ticks) == 10 and ticks[-1] - ticks[0] < javascript.TIME_LIMIT_S


def test_running_out_of_memory_fails_and_a_fresh_engine_takes_over() -> None:
    code = "const a = [];\nwhile (true) a.push('x'.repeat(64) + a.length);"
    result = js(code, "")
    assert not result.passed and "out of memory" in result.reason
    assert js("output.length === 3", "abc").passed


# -- file:// modules --------------------------------------------------------------------------


def test_a_file_exporting_a_function_is_called_with_output_and_context(tmp_path: Path) -> None:
    (tmp_path / "check.js").write_text(
        "const wanted = 'billing';\n"
        "module.exports = (output, context) => ({\n"
        "  pass: JSON.parse(output).category === wanted,\n"
        "  score: 1, reason: 'for ' + context.vars.who,\n"
        "});\n",
        encoding="utf-8",
    )
    result = js(
        "file://check.js", '{"category": "billing"}', base=tmp_path, variables={"who": "Al"}
    )
    assert (result.passed, result.reason) == (True, "for Al")


def test_a_files_named_function_or_default_export(tmp_path: Path) -> None:
    (tmp_path / "many.js").write_text(
        "exports.short = (output) => output.length < 5;\n"
        "module.exports.long = function (output) { return output.length >= 5; };\n",
        encoding="utf-8",
    )
    (tmp_path / "default.js").write_text("module.exports = {default: (o) => o === 'd'};\n")
    assert js("file://many.js:short", "abc", base=tmp_path).passed
    assert not js("file://many.js:long", "abc", base=tmp_path).passed
    assert js("file://default.js", "d", base=tmp_path).passed


@pytest.mark.parametrize(
    ("files", "value", "message"),
    [
        ({}, "file://gone.js", "gone.js: no such file"),
        ({"x.js": "exports.a = () => true;"}, "file://x.js:b", "b is not a function the file"),
        ({"x.js": "exports.a = () => true;"}, "file://x.js", "the file exports no function"),
        ({"x.js": "// ok\nmodule.exports = (o) => {\n  return o ==== 1;\n};"}, "file://x.js",
         "x.js: SyntaxError: unexpected token in expression: '=' (line 3)"),
        ({"x.js": "export default (o) => true;"}, "file://x.js", "write module.exports"),
        ({"x.js": "throw new Error('no config');"}, "file://x.js", "x.js: Error: no config"),
        ({"x.py": ""}, "file://x.py", "expected file://path.js"),
    ],
)  # fmt: skip
def test_a_bad_scorer_file_is_refused_when_the_suite_loads(
    tmp_path: Path, files: dict[str, str], value: str, message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(SuiteProblem) as refused:
        assertion({"type": "javascript", "value": value}, base=tmp_path)
    assert message in str(refused.value)


# -- refused when the suite loads --------------------------------------------------------------

BAD_CODE_SUITE = """\
name: bad
cases:
  - id: fine
    input: hi
    assert: [{type: javascript, value: "output.length > 0"}]
  - id: broken
    input: hi
    assert:
      - type: javascript
        value: |
          const n = output.length;
          return n >>>= ;
"""


def test_a_syntax_error_is_refused_at_load_with_file_line_case_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(BAD_CODE_SUITE, encoding="utf-8")
    with pytest.raises(BadInput) as refused:
        load_suite(path)
    message = str(refused.value)
    assert message.startswith(f"{path}:9: case broken: javascript: SyntaxError: "), message
    assert message.endswith("(line 2 of the code)")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("output ==== 1", "SyntaxError: unexpected token in expression: '=' (line 1 of the code)"),
        ("while (true) {}", "(line 1 of the code)"),  # one line is an expression, as in promptfoo
        ("if (output) {\n  return (\n}", "(line 3 of the code)"),
        ("", "needs a value"),
    ],
)
def test_bad_inline_code_is_refused(value: str, message: str) -> None:
    with pytest.raises(SuiteProblem) as refused:
        assertion({"type": "javascript", "value": value})
    assert message in str(refused.value)


def test_the_value_stored_with_a_run_names_the_file_absolutely(tmp_path: Path) -> None:
    (tmp_path / "check.js").write_text("module.exports = (o) => true;\n", encoding="utf-8")
    built = assertion({"type": "javascript", "value": "file://check.js"}, base=tmp_path)
    assert built.value == f"file://{tmp_path / 'check.js'}"
