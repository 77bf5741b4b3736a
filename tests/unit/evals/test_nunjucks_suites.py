"""promptfoo configs whose prompts use nunjucks (filters, `{% for %}`, `{% if %}`), loaded with
`load_suite` and checked on the messages each case sends."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import BadInput
from core.evals.loader import load_suite
from core.evals.suite import Suite


def project(root: Path, config: str, files: dict[str, str] | None = None) -> Path:
    for name, text in (files or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    path = root / "promptfooconfig.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def sent(suite: Suite, index: int) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in suite.messages_for(suite.cases[index])]


CHAT_PROMPT = """\
{% for turn in history -%}
{{ turn.role | upper }}: {{ turn.content }}
{% endfor -%}
Context: {{ context | dump }}
{% if hint %}Hint: {{ hint | trim }}
{% endif %}Question: {{ question }} ({{ history | length }} turns before)"""

CONFIG = """\
prompts: [file://prompt.txt]
tests:
  - vars:
      question: Who wrote it?
      history:
        - {role: user, content: Name a novel}
        - {role: assistant, content: Dune}
      context: {year: 1965, tags: [sf, "é"]}
      hint: '  the author  '
    assert: [{type: icontains, value: "{{ history[1].content | lower }}"}]
  - vars:
      question: And then?
      history: []
      context: none
"""


def test_a_prompt_with_for_if_and_dump_renders_per_case(tmp_path: Path) -> None:
    suite = load_suite(project(tmp_path, CONFIG, {"prompt.txt": CHAT_PROMPT}))
    assert sent(suite, 0) == [
        (
            "user",
            "USER: Name a novel\nASSISTANT: Dune\n"
            'Context: {"year":1965,"tags":["sf","é"]}\n'
            "Hint: the author\n"
            "Question: Who wrote it? (2 turns before)",
        )
    ]
    # `hint` is not given: `{% if hint %}` is false, as nunjucks has it.
    assert sent(suite, 1) == [("user", 'Context: "none"\nQuestion: And then? (0 turns before)')]
    (assertion,) = suite.cases[0].assertions
    assert assertion.value == "dune"  # assertion values are templates too


def test_promptfoo_csv_json_var_read_with_load(tmp_path: Path) -> None:
    # promptfoo's simple-csv example (QA suite 03): `{{ (style_config | load).tone }}`.
    files = {
        "prompts.txt": "Tone: {{ (style_config | load).tone }}\n---\nStyle: {{style_config}}",
        "tests.csv": 'body,style_config\nHello,"{""tone"":""formal""}"\n',
    }
    suite = load_suite(
        project(tmp_path, "prompts: [file://prompts.txt]\ntests: file://tests.csv\n", files)
    )
    assert [sent(suite, index) for index in range(2)] == [
        [("user", "Tone: formal")],
        [("user", 'Style: {"tone":"formal"}')],
    ]


def test_a_missing_var_in_a_loop_is_refused_at_load(tmp_path: Path) -> None:
    config = "prompts: ['{% for t in turns %}{{ t }}{% endfor %}']\ntests:\n  - vars: {q: a}\n"
    with pytest.raises(BadInput, match="prompt: variable 'turns' is not defined"):
        load_suite(project(tmp_path, config))


def test_a_template_syntax_error_is_refused_at_its_prompt_file(tmp_path: Path) -> None:
    files = {"prompt.txt": "Answer:\n{% for x in items %}{{ x }}\n", "t.csv": "items\na\n"}
    config = "prompts: [file://prompt.txt]\ntests: file://t.csv\n"
    with pytest.raises(BadInput) as caught:
        load_suite(project(tmp_path, config, files))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path}/prompt.txt: prompt: invalid template at line 2:")
    assert "\n" not in message
