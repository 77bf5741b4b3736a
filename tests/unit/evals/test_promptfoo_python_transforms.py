"""promptfoo's Python output transforms (`transform: file://x.py[:function]`, `get_transform`
by default), loaded as `python` scorers are and called with the output and a context."""

from __future__ import annotations

import os
from pathlib import Path

from core.evals.scorers import Output
from core.settings import Settings
from storage.evals import EvalStore
from storage.store import Store
from tests.unit.evals.helpers import score
from tests.unit.evals.test_promptfoo_compat import loaded, refused
from tests.unit.evals.test_promptfoo_transforms import config, verdicts
from tests.unit.evals.test_runner import run

TRANSFORMS = """\
import json


def get_transform(output, context):
    return output.strip().upper() + "/" + context["vars"]["item"]


def colours(output, context):
    return json.loads(output)["countries"]


def nothing(output, context):
    return None


def broken(output, context):
    raise ValueError("cannot read " + output)
"""


def write(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shape.py").write_text(TRANSFORMS, encoding="utf-8")


def test_a_python_file_transform_calls_get_transform_by_default(tmp_path: Path) -> None:
    write(tmp_path)
    suite = loaded(
        tmp_path,
        config(
            "    options: {transform: file://shape.py}\n"
            "    assert: [{type: equals, value: PLUM/fruit}]\n"
        ),
    )
    result = score(suite.cases[0], Output(" plum "))
    assert verdicts(result) == [("equals", True)]


def test_a_named_function_returning_a_value_is_seen_as_its_json(tmp_path: Path) -> None:
    write(tmp_path)
    suite = loaded(
        tmp_path,
        config(
            "    assert:\n"
            "      - {type: contains, value: '\"India\"', transform: 'file://shape.py:colours'}\n"
            "      - {type: javascript, value: 'output.length === 2',"
            " transform: 'file://shape.py:colours'}\n"
        ),
    )
    result = score(suite.cases[0], Output('{"countries": ["Brazil", "India"]}'))
    assert verdicts(result) == [("contains", True), ("javascript", True)]


def test_a_python_transform_that_raises_or_returns_none_errors_the_case(tmp_path: Path) -> None:
    write(tmp_path)
    raising = loaded(
        tmp_path,
        config(
            "    options: {transform: 'file://shape.py:broken'}\n"
            "    assert: [{type: equals, value: x}]\n"
        ),
    )
    result = score(raising.cases[0], Output("plum"))
    assert result.errored
    assert result.assertions[0].reason.startswith(
        "options.transform raised ValueError: cannot read plum"
    )
    empty = loaded(
        tmp_path,
        config(
            "    options: {transform: 'file://shape.py:nothing'}\n"
            "    assert: [{type: equals, value: x}]\n"
        ),
    )
    [nothing] = score(empty.cases[0], Output("plum")).assertions
    assert nothing.reason.startswith("options.transform returned None, not a value")


def test_a_missing_python_function_is_refused_when_the_suite_loads(tmp_path: Path) -> None:
    write(tmp_path)
    message = refused(tmp_path, config("    options: {transform: 'file://shape.py:absent'}\n"))
    assert message == (
        "promptfooconfig.yaml:3: options.transform: shape.py:absent: absent is not a function"
        " of the module"
    )


def test_what_a_failing_python_transform_says_is_stored_with_keys_masked(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    key = os.environ["FAKE_API_KEY"]
    (tmp_path / "leak.py").write_text(
        "import os\n\ndef get_transform(output, context):\n"
        "    raise RuntimeError('auth with ' + os.environ['FAKE_API_KEY'])\n",
        encoding="utf-8",
    )
    suite = loaded(
        tmp_path,
        config(
            "    options: {transform: file://leak.py}\n    assert: [{type: equals, value: x}]\n"
        ),
    )
    outcome = run(settings, store, suite)
    (result,) = EvalStore(store).results(outcome.run.id)
    assert result.status == "error"
    assert result.error is not None and "[redacted]" in result.error and key not in result.error
    assert (
        result.scores[0]["reason"] == "options.transform raised RuntimeError: auth with [redacted]"
    )


def test_what_a_python_transform_returns_is_stored_with_keys_masked(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    key = os.environ["FAKE_API_KEY"]
    (tmp_path / "leak.py").write_text(
        "import os\n\ndef get_transform(output, context):\n"
        "    return 'key is ' + os.environ['FAKE_API_KEY']\n",
        encoding="utf-8",
    )
    asserted = (
        "[{type: equals, value: x}, {type: starts-with, value: y}, {type: contains, value: z}]"
    )
    suite = loaded(
        tmp_path,
        config(f"    options: {{transform: file://leak.py}}\n    assert: {asserted}\n"),
    )
    outcome = run(settings, store, suite)
    (result,) = EvalStore(store).results(outcome.run.id)
    equals, starts, contains = (score["reason"] for score in result.scores)
    assert equals.startswith('output "key is [redacted]" differs'), equals
    assert 'starts "key is [redacted]"' in starts  # a quoted start of the key: masked too
    assert not any(key[:10] in reason for reason in (equals, starts, contains))
