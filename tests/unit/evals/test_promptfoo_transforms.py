"""promptfoo's output transforms (`options.transform`, its alias `postprocess`, an assertion's
`transform:`) and assertion templates (`$ref: '#/assertionTemplates/name'`), read and scored as
promptfoo does: what a transform returns is what the assertions see, the answer is kept."""

from __future__ import annotations

from pathlib import Path

from core.evals.scorers import Output
from core.evals.scoring import CaseScore
from core.evals.suite import Case, Suite
from tests.unit.evals.helpers import score
from tests.unit.evals.test_promptfoo_compat import loaded, refused

COLOURS = '{"color": "purple", "countries": ["Brazil", "India"]}'


def config(test: str, *, default: str = "", top: str = "") -> str:
    """A one-prompt config with one test (`test`: its YAML lines, indented by 4)."""
    text = "prompts: ['Describe {{item}}']\n" + top
    if default:
        text += "defaultTest:\n" + default
    return text + "tests:\n  - vars: {item: fruit}\n" + test


def scored(suite: Suite, answer: str, index: int = 0) -> CaseScore:
    return score(suite.cases[index], Output(answer))


def verdicts(result: CaseScore) -> list[tuple[str, bool]]:
    return [(item.type, item.passed) for item in result.assertions]


def test_a_test_transform_changes_what_every_assertion_sees(tmp_path: Path) -> None:
    suite = loaded(
        tmp_path,
        config(
            "    options: {transform: output.toUpperCase()}\n"
            "    assert:\n"
            "      - {type: equals, value: PLUM}\n"
            "      - {type: not-contains, value: plum}\n"
        ),
    )
    result = scored(suite, "plum")
    assert verdicts(result) == [("equals", True), ("not-contains", True)]
    assert result.assertions[0].reason.endswith("(on the transformed output)")
    assert verdicts(scored(suite, "pear")) == [("equals", False), ("not-contains", True)]


def test_a_default_test_transform_applies_to_every_test_and_a_test_overrides_it(
    tmp_path: Path,
) -> None:
    text = (
        "prompts: ['{{item}}']\n"
        "defaultTest:\n  options:\n    transform: output.trim().toLowerCase()\n"
        "tests:\n"
        "  - vars: {item: a}\n    assert: [{type: equals, value: plum}]\n"
        "  - vars: {item: b}\n    options: {transform: \"'fixed'\"}\n"
        "    assert: [{type: equals, value: fixed}]\n"
    )
    suite = loaded(tmp_path, text)
    assert scored(suite, "  PLUM \n", 0).passed
    assert scored(suite, "PLUM", 1).passed  # its own transform, not the default's


def test_postprocess_is_the_deprecated_name_of_transform(tmp_path: Path) -> None:
    suite = loaded(
        tmp_path,
        config(
            "    options: {postprocess: output.length}\n    assert: [{type: equals, value: 4}]\n"
        ),
    )
    assert scored(suite, "plum").passed
    assert not scored(suite, "pears").passed


def test_an_assertion_transform_applies_after_the_test_transform_to_it_alone(
    tmp_path: Path,
) -> None:
    # promptfoo's examples/json-output, second test: parse once, then look at one field.
    suite = loaded(
        tmp_path,
        config(
            "    options: {transform: JSON.parse(output)}\n"
            "    assert:\n"
            "      - {type: contains-any, transform: output.countries, value: [Chile, India]}\n"
            "      - {type: not-contains, value: India, transform: output.color}\n"
            "      - {type: javascript, value: \"output.color === 'purple'\"}\n"
        ),
    )
    result = scored(suite, COLOURS)
    assert verdicts(result) == [
        ("contains-any", True),  # '["Brazil","India"]' contains India
        ("not-contains", True),  # 'purple' does not
        ("javascript", True),  # given the object, not its text
    ]


def test_an_object_is_scored_as_its_json_text(tmp_path: Path) -> None:
    suite = loaded(
        tmp_path,
        config(
            "    options: {transform: '({name: output, n: 1.0, ok: true})'}\n"
            "    assert:\n"
            "      - type: is-json\n"
            "        value: {type: object, required: [name, n]}\n"
            "      - {type: contains, value: '\"n\":1,'}\n"  # JSON.stringify's text
            "      - {type: equals, value: {name: plum, n: 1, ok: true}}\n"
            "      - {type: python, value: \"output['name'] == 'plum'\"}\n"
        ),
    )
    result = scored(suite, "plum")
    assert verdicts(result) == [
        ("is-json", True),
        ("contains", True),
        ("equals", True),
        ("python", True),
    ]
    assert not scored(suite, "pear").assertions[2].passed


def test_a_text_that_a_transform_returns_is_not_json_unless_it_is(tmp_path: Path) -> None:
    suite = loaded(
        tmp_path,
        config("    options: {transform: output.slice(1)}\n    assert: [{type: is-json}]\n"),
    )
    assert scored(suite, 'x{"a": 1}').passed
    assert not scored(suite, "x plum").passed


def test_a_transform_from_a_file_runs_its_exported_function(tmp_path: Path) -> None:
    files = {
        "transforms/shout.js": (
            "module.exports = (output, context) => output + '!';\n"
            "module.exports.named = (output, context) => context.vars.item + ':' + output;\n"
        )
    }
    suite = loaded(
        tmp_path,
        config(
            "    options: {transform: file://transforms/shout.js}\n"
            "    assert:\n"
            "      - {type: equals, value: plum!}\n"
            "      - {type: equals, value: fruit:plum!, transform: "
            "'file://transforms/shout.js:named'}\n"
        ),
        files,
    )
    assert verdicts(scored(suite, "plum")) == [("equals", True), ("equals", True)]
    # the file is part of the suite's version, and the suite loaded again runs it as edited
    before = suite.version
    (tmp_path / "transforms/shout.js").write_text(
        "module.exports = (o) => o;\nmodule.exports.named = (o) => o;\n"
    )
    again = loaded(tmp_path, Path(suite.path).read_text())
    assert again.version != before
    assert verdicts(scored(again, "plum")) == [("equals", False), ("equals", False)]


def test_a_transform_that_throws_errors_the_assertions_with_the_reason(tmp_path: Path) -> None:
    suite = loaded(
        tmp_path,
        config(
            "    options: {transform: JSON.parse(output)}\n"
            "    assert:\n"
            "      - {type: is-json}\n"
            "      - {type: not-contains, value: plum}\n"
            "      - {type: latency, threshold: 5000}\n"
        ),
    )
    result = score(suite.cases[0], Output("plum, not JSON", latency_ms=10))
    # no verdict on the model (as promptfoo makes it an error), not a failure; the run goes on
    assert not result.passed and result.errored
    first, negated, _ = result.assertions
    assert first.reason.startswith("options.transform threw SyntaxError") and first.error
    assert (negated.passed, negated.reason) == (False, first.reason)  # `not-` does not flip it
    assert negated.error
    latency = result.assertions[2]  # every assertion of the test sees its result
    assert (latency.passed, latency.error) == (False, True)
    assert score(suite.cases[0], Output(COLOURS, latency_ms=10)).passed


def test_a_transform_that_returns_nothing_or_loops_errors_its_assertion(tmp_path: Path) -> None:
    suite = loaded(
        tmp_path,
        config(
            "    assert:\n"
            "      - {type: contains, value: a, transform: 'undefined'}\n"
            '      - {type: contains, value: a, transform: "while (true) {}\\nreturn 1"}\n'
            "      - {type: contains, value: plum}\n"
        ),
    )
    nothing, endless, plain = scored(suite, "plum").assertions
    assert nothing.reason == "transform returned undefined, not a value"
    assert endless.reason.startswith("transform stopped after the time limit")
    assert nothing.error and endless.error and not nothing.passed and not endless.passed
    assert plain.passed and not plain.error
    assert not plain.reason.endswith("(on the transformed output)")


def test_the_answer_kept_is_the_models_own(tmp_path: Path) -> None:
    suite = loaded(
        tmp_path,
        config(
            "    options: {transform: output.toUpperCase()}\n"
            "    assert: [{type: icontains, value: x}]\n"
        ),
    )
    output = Output("plum")
    result = score(suite.cases[0], output)
    assert output.text == "plum" and not result.passed
    assert result.assertions[0].reason.startswith('output does not contain "x"')


def test_bad_transforms_are_refused_when_the_suite_loads(tmp_path: Path) -> None:
    assert refused(tmp_path, config("    options: {transform: 'output +* 1'}\n")).startswith(
        "promptfooconfig.yaml:3: options.transform: SyntaxError"
    )
    no_python = refused(
        tmp_path, config("    assert: [{type: equals, value: a, transform: 'file://t.py'}]\n")
    )
    assert no_python.startswith("promptfooconfig.yaml:4: case t-3704fa0c: equals: transform: ")
    assert no_python.endswith("/t.py: no such file")
    missing = refused(tmp_path, config("    options: {transform: file://gone.js}\n"))
    assert missing.startswith("promptfooconfig.yaml:3: options.transform: ")
    assert missing.endswith("/gone.js: no such file")
    # a defaultTest transform is refused where it is written, not at the first test
    bad_default = refused(tmp_path, config("", default="  options: {transform: '('}\n"))
    assert bad_default.startswith("promptfooconfig.yaml:3: defaultTest: options.transform:")


def test_an_assertion_template_is_expanded_where_it_is_referred_to(tmp_path: Path) -> None:
    # promptfoo's examples/simple-test: `$ref: '#/assertionTemplates/containsPirateNoise'`.
    text = config(
        "    assert:\n"
        "      - $ref: '#/assertionTemplates/containsPirateNoise'\n"
        "      - {$ref: '#/assertionTemplates/containsPirateNoise', value: yarr}\n",
        default="  assert:\n    - $ref: '#/assertionTemplates/short'\n",
        top=(
            "assertionTemplates:\n"
            "  containsPirateNoise: {type: icontains, value: arrr}\n"
            "  short: {type: javascript, value: output.length < 20}\n"
        ),
    )
    suite = loaded(tmp_path, text)
    (case,) = suite.cases
    assert [(a.type, a.value) for a in case.assertions] == [
        ("javascript", "output.length < 20"),
        ("icontains", "arrr"),
        ("icontains", "yarr"),  # a key next to the $ref overrides the template's
    ]
    assert not any("assertionTemplates" in warning for warning in suite.warnings)
    assert verdicts(score(case, Output("Arrr, yarr!"))) == [
        ("javascript", True),
        ("icontains", True),
        ("icontains", True),
    ]


def test_an_unknown_assertion_template_is_refused_with_its_line(tmp_path: Path) -> None:
    text = config(
        "    assert:\n"
        "      - {type: equals, value: a}\n"
        "      - $ref: '#/assertionTemplates/nope'\n",
        top="assertionTemplates:\n  polite: {type: icontains, value: please}\n",
    )
    assert refused(tmp_path, text) == (
        "promptfooconfig.yaml:8: $ref '#/assertionTemplates/nope': no such assertion template"
        " (assertionTemplates: polite)"
    )
    elsewhere = config("    assert: [{$ref: 'templates.yaml#/polite'}]\n")
    assert refused(tmp_path, elsewhere).startswith(
        "promptfooconfig.yaml:4: $ref 'templates.yaml#/polite': only a pointer into the config"
    )


def test_a_native_suite_assertion_may_have_a_transform(tmp_path: Path) -> None:
    from core.evals.loader import load_suite

    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(
        "cases:\n  - input: hi\n    assert:\n"
        "      - {type: equals, value: '2', transform: output.split(' ').length}\n"
    )
    (case,) = load_suite(suite_file).cases
    assert score(case, Output("two words")).passed
    assert isinstance(case, Case) and case.assertions[0].test_transform is None
