"""A CSV test file's one-cell assertions that name a script file, as promptfoo reads them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.evals.loader import load_suite
from core.evals.scorers import Output
from core.evals.scoring import score_case


def test_a_cell_naming_a_javascript_file_is_a_javascript_assertion(tmp_path: Path) -> None:
    (tmp_path / "check.js").write_text(
        "module.exports = (output, context) => output.includes(context.vars.word);\n",
        encoding="utf-8",
    )
    (tmp_path / "t.csv").write_text("word,__expected\nbonjour,file://check.js\n", encoding="utf-8")
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text("prompts: ['Say {{word}}']\ntests: file://t.csv\n", encoding="utf-8")
    (case,) = load_suite(config).cases
    (assertion,) = case.assertions
    assert assertion.type == "javascript"
    passed = asyncio.run(score_case(case, Output("oui, bonjour")))
    failed = asyncio.run(score_case(case, Output("hello")))
    assert passed.passed and not failed.passed
