"""`{{ var }}` templates: what renders, and what is refused with the feature named."""

from __future__ import annotations

import re

import pytest

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
        (
            "{{ name | upper }}",
            {"name": "x"},
            "template filters like {{ name | upper }} are not supported",
        ),
        (
            "{% for x in y %}{% endfor %}",
            {},
            "template tags like {% for x in y %} are not supported",
        ),
        (
            "{{ a + b }}",
            {"a": 1, "b": 2},
            "{{ a + b }} is not a variable (expressions are not supported)",
        ),
        ("{{ 'literal' }}", {}, "is not a variable"),
    ],
)
def test_refusals(template: str, variables: dict[str, object], message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        render(template, variables)


def test_variables_in_order_of_first_use() -> None:
    assert variables_in("{{b}} {{ a.x }} {{b}} {{c[0]}}") == ["b", "a", "c"]
    with pytest.raises(TemplateError):
        variables_in("{{ a | b }}")
