"""Templates: plain `{{ var }}` placeholders (fast path), nunjucks filters and tags (Jinja2 in
a sandbox), and what is refused with a one-line reason."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.evals.template import TemplateError, render, variables_in


@pytest.mark.parametrize(
    ("template", "variables", "text"),
    [
        ("Hi {{name}}!", {"name": "Ann"}, "Hi Ann!"),
        ("Hi {{ name }} / {{name}}", {"name": "Ann"}, "Hi Ann / Ann"),
        ("{{ user.name }} is {{ user.age }}", {"user": {"name": "Bo", "age": 7}}, "Bo is 7"),
        ("{{ items[1] }} {{ items.0 }}", {"items": ["a", "b"]}, "b a"),
        ("{{ data }}", {"data": {"k": [1, True, None]}}, '{"k":[1,true,null]}'),
        (
            "{{ flag }} {{ n }} {{ nothing }}",
            {"flag": False, "n": 2.5, "nothing": None},
            "false 2.5 ",
        ),
        ("{# a comment #}kept", {}, "kept"),
        ("no placeholders {single} }}", {}, "no placeholders {single} }}"),
        ("{{ text }}", {"text": "{{ not rendered again }}"}, "{{ not rendered again }}"),
        ("東京 {{ 名前 }}", {"名前": "太郎"}, "東京 太郎"),
    ],
)
def test_rendering(template: str, variables: dict[str, object], text: str) -> None:
    assert render(template, variables) == text


@pytest.mark.parametrize(
    ("template", "variables", "message"),
    [
        ("{{ missing }}", {}, "variable 'missing' is not defined"),
        (
            "{{ user.email }}",
            {"user": {"name": "x"}},
            "'user.email': '.email' is not in variable 'user'",
        ),
        ("{{ items[5] }}", {"items": []}, "'items[5]': '[5]' is not in variable 'items'"),
        ("{{ missing | upper }}", {}, "variable 'missing' is not defined"),
        ("{% for x in missing %}{% endfor %}", {}, "variable 'missing' is not defined"),
        ("{{ user.email | upper }}", {"user": {"name": "x"}}, """'email' is not in {"name":"x"}"""),
        (
            "{{ name | nosuch }}",
            {"name": "x"},
            "invalid template at line 1: No filter named 'nosuch'",
        ),
        (
            "Hello\n{% for x in y %}",
            {"y": []},
            "invalid template at line 2: Unexpected end of template.",
        ),
        ("{{ a + }}", {"a": 1}, "invalid template at line 1: unexpected 'end of print statement'"),
        ("{{ text | load }}", {"text": "not json"}, "load: invalid JSON (Expecting value)"),
        ("{{ n | load }}", {"n": 3}, "load takes a JSON text, not int"),
        ("line one\n{{ 1 / zero }}", {"zero": 0}, "division by zero (template line 2)"),
    ],
)
def test_refusals(template: str, variables: dict[str, object], message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        render(template, variables)


def test_variables_in_order_of_first_use() -> None:
    assert variables_in("{{b}} {{ a.x }} {{b}} {{c[0]}}") == ["b", "a", "c"]
    assert variables_in("{{ a | upper }}") == ["a"]
    with pytest.raises(TemplateError, match="No filter named 'b'"):
        variables_in("{{ a | b }}")


def test_variables_in_leaves_out_loop_set_and_global_names() -> None:
    template = (
        "{% set greeting = 'Hi' %}{{ greeting }} {{ user.name | upper }}\n"
        "{% for turn in history %}{{ loop.index }} {{ turn.content }} {{ tone }}{% endfor %}\n"
        "{% for i in range(count) %}{{ i }}{% endfor %}{{ user }}"
    )
    assert variables_in(template) == ["user", "history", "tone", "count"]
    with pytest.raises(TemplateError, match=re.escape("invalid template at line 2")):
        variables_in("ok\n{% if x %}")


@pytest.mark.parametrize(
    ("template", "variables", "text"),
    [
        ("{{ name | upper }} {{ name | capitalize }}", {"name": "aNN"}, "ANN Ann"),
        ("{{ name | lower | title }}", {"name": "ANN LEE"}, "Ann Lee"),
        ("{{ data | dump }}", {"data": {"k": [1, "é", None]}}, '{"k":[1,"é",null]}'),
        ("{{ data | dump(2) }}", {"data": {"k": 1}}, '{\n  "k": 1\n}'),
        ("{{ text | dump }}", {"text": 'say "hi"'}, '"say \\"hi\\""'),
        ("{{ (style | load).tone }}", {"style": '{"tone": "formal"}'}, "formal"),
        ("{{ raw | load }}", {"raw": '{"b": [1, true]}'}, '{"b":[1,true]}'),
        (
            "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}",
            {
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Yo"},
                ]
            },
            "user: Hi\nassistant: Yo\n",
        ),
        ("{% if context %}Context: {{ context }}{% else %}none{% endif %}", {}, "none"),
        ("{% if n > 2 %}big{% elif n %}small{% endif %}", {"n": 1}, "small"),
        ("{{ missing | default('n/a') }} {{ missing is defined }}", {}, "n/a false"),
        ("{{ items | join(', ') }}", {"items": [1, True, None, "x"]}, "1, true, , x"),
        ("{{ items | join('-', 'id') }}", {"items": [{"id": 1}, {"id": "b"}]}, "1-b"),
        (
            "{{ items | length }} {{ items.length }} {{ word.length }}",
            {"items": [1, 2], "word": "abc"},
            "2 2 3",
        ),
        ("{{ items | first }}/{{ items | last }}", {"items": ["a", "b", "c"]}, "a/c"),
        ("{{ text | trim | replace('a', 'o') }}", {"text": "  banana "}, "bonono"),
        (
            "{{ 2.5 | round }} {{ 3.14159 | round(2) }} {{ 2.7 | round(0, 'floor') }}",
            {},
            "3 3.14 2",
        ),
        ("{{ '42' | int + 1 }} {{ '1.5' | float }}", {}, "43 1.5"),
        ("{{ html | striptags }}", {"html": "<b>bold</b>  <i>text</i>"}, "bold text"),
        ("{{ text | truncate(9) }}", {"text": "hello big world"}, "hello big..."),
        ("{{ text | nl2br }}", {"text": "a\nb"}, "a<br />\nb"),
        ("{{ flag | string }} {{ nothing | upper }}.", {"flag": True, "nothing": None}, "true ."),
        ("{{ a + b }} {{ 'literal' }}", {"a": 1, "b": 2}, "3 literal"),
        ("{% set total = a * 2 %}{{ total }}", {"a": 4}, "8"),
        ("{{ d.items }}", {"d": {"items": [1]}}, "[1]"),  # a key before a dict's method
        ("{# note #}{% if x %}\nA\n{% endif %}\n", {"x": 1}, "\nA\n\n"),  # no block trimming
        ("{% raw %}{{ kept }}{% endraw %}", {}, "{{ kept }}"),
    ],
)
def test_nunjucks_rendering(template: str, variables: dict[str, object], text: str) -> None:
    assert render(template, variables) == text


@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=8,
    )
)
def test_a_value_is_written_alike_with_or_without_tags(value: object) -> None:
    # The fast path and Jinja2 must write a value the same way: rendered prompts are cache keys.
    plain = render("<{{ v }}>", {"v": value})
    assert render("<{{ v }}>{% if true %}{% endif %}", {"v": value}) == plain
    assert render("<{{ v | string }}>", {"v": value}) == plain


@pytest.mark.parametrize(
    "template",
    [
        "{{ text.__class__ | string }}",
        "{{ text.__class__.__mro__[1].__subclasses__() }}",
        "{% for c in text.__class__.__mro__ %}{% endfor %}",
        "{{ fn.__globals__ }}{% if true %}{% endif %}",
    ],
)
def test_the_sandbox_refuses_python_internals(template: str) -> None:
    with pytest.raises(TemplateError, match="unsafe"):
        render(template, {"text": "x", "fn": render})


def test_a_compiled_template_is_reused_with_other_variables() -> None:
    template = "{% for x in xs %}{{ x | upper }}{% endfor %}"
    assert render(template, {"xs": ["a", "b"]}) == "AB"
    assert render(template, {"xs": ["c"]}) == "C"
