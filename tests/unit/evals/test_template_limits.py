"""The work one render of a nunjucks template may do: each limit refused quickly with a line
naming it, nunjucks' globals only, and ordinary loops, filters and operators unaffected."""

from __future__ import annotations

import time

import pytest

from core.evals import nunjucks_limits as limits
from core.evals.template import TemplateError, render, variables_in

BIG = "{% set s = 'a' * 1000000 %}"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "the template does more than 1,000,000 loop items or calls in one render",
        ),
        (
            "{% for i in items %}{% for c in 'x' * 1000 %}{% endfor %}{% endfor %}",
            "the template does more than 1,000,000 loop items or calls in one render",
        ),
        (
            "{% macro m() %}{% for i in range(999) %}{{ 'x' }}{% endfor %}{% endmacro %}"
            "{% for i in range(2000) %}{% set x = m() %}{% endfor %}",
            "the template does more than 1,000,000 loop items or calls in one render",
        ),
        ("{{ range(10**9) | length }}", "more than 1,000,000 loop items or calls"),
        ("{{ 'a' * 10**8 }}", "a repetition would make 100,000,000 (limit 1,000,000)"),
        ("{{ 10**10 * 'a' }}", "a repetition would make 10,000,000,000 (limit 1,000,000)"),
        ("{{ [1, 2] * 600000 }}", "a repetition would make 1,200,000 (limit 1,000,000)"),
        ("{{ 10 ** 400 }}", "a power is beyond 2**1024"),
        ("{{ (10 ** 300) * (10 ** 300) * (10 ** 300) * (10 ** 300) }}", "a product is beyond"),
        (
            "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('ab') }}",
            "the template builds more than 100,000,000 characters of text in one render",
        ),
        ("{% macro f(s) %}{{ f(s + s) }}{% endmacro %}{{ f('ab') }}", "builds more than"),
        (BIG + "{{ s | replace('', s) }}", "builds more than 100,000,000 characters"),
        (BIG + "{{ s.replace('a', s) }}", "builds more than 100,000,000 characters"),
        (BIG + "{% for i in range(200) %}{% set t = s | upper %}{% endfor %}", "builds more"),
        ("{{ ('a\n' * 500000) | indent(1000) }}", "builds more than 100,000,000 characters"),
        ("{{ 'x'.center(10**9) }}", "a width of 1,000,000,000 is above the limit of 1,000,000"),
        ("{{ 'x' | center(10**9) }}", "a width of 1,000,000,000 is above the limit of 1,000,000"),
        ("{{ [1] | batch(10**9, 0) }}", "a width of 1,000,000,000 is above the limit"),
        (
            BIG + "{% for i in range(20) %}{{ s }}{% endfor %}",
            "the rendered text is longer than 10,000,000 characters",
        ),
    ],
)
def test_runaway_work_is_refused_quickly_naming_the_limit(template: str, message: str) -> None:
    began = time.perf_counter()
    with pytest.raises(TemplateError, match=r"^[^\n]*$") as refused:
        render(template, {"items": list(range(1001))})
    assert time.perf_counter() - began < 1.5
    assert message in str(refused.value)


def test_a_refusal_in_a_template_of_several_lines_names_the_line() -> None:
    with pytest.raises(TemplateError) as refused:
        render("Question: {{ q }}\n{{ '=' * 10**7 }}", {"q": "x"})
    assert str(refused.value) == (
        "a repetition would make 10,000,000 (limit 1,000,000) (template line 2)"
    )


def test_the_budget_is_per_render_not_per_process() -> None:
    almost_all = "{% for i in range(400000) %}{% endfor %}done"  # range items and loop items
    for _ in range(3):
        assert render(almost_all, {}) == "done"


def test_the_limits_hold_exactly_at_their_bounds() -> None:
    assert len(render("{{ 'ab' * 500000 }}", {})) == limits.MAX_REPEAT
    with pytest.raises(TemplateError, match="1,000,002"):
        render("{{ 'ab' * 500001 }}", {})
    assert render("{{ 2 ** 1023 }}", {}) == str(2**1023)
    with pytest.raises(TemplateError, match="power"):
        render("{{ 2 ** 1025 }}", {})


@pytest.mark.parametrize("name", ["lipsum", "namespace", "dict"])
def test_jinja2_globals_that_nunjucks_lacks_are_gone(name: str) -> None:
    with pytest.raises(TemplateError, match=f"variable '{name}' is not defined"):
        render(f"{{{{ {name}() }}}}", {})
    assert variables_in(f"{{{{ {name}(1) }}}} {{{{ x | upper }}}}") == [name, "x"]


@pytest.mark.parametrize(
    ("template", "text"),
    [
        ("{{ range(3) }} {{ range(1, 7, 2) }} {{ range(5, 0, -2) }}", "[0,1,2] [1,3,5] [5,3,1]"),
        (
            "{{ range(0, 1, 0.25) }} {{ range(2, 4, 0) }} {{ range(3, 1) }}",
            "[0,0.25,0.5,0.75] [2,3] []",
        ),
        (
            "{% set c = cycler('odd', 'even') %}[{{ c.current }}]{% for i in range(3) %}"
            "{{ c.next() }} {% endfor %}{{ c.current }}{{ c.reset() }}[{{ c.current }}]",
            "[]odd even odd odd[]",
        ),
        ("{% set j = joiner() %}{% for i in range(3) %}{{ j() }}{{ i }}{% endfor %}", "0,1,2"),
        ("{% set j = joiner(' | ') %}{% for i in 'ab' %}{{ j() }}{{ i }}{% endfor %}", "a | b"),
    ],
)
def test_nunjucks_globals(template: str, text: str) -> None:
    assert render(template, {}) == text


def test_percent_is_a_remainder_of_numbers_and_refused_on_text() -> None:
    assert render("{{ 7 % 3 }} {{ n % 4 }}", {"n": 10}) == "1 2"
    with pytest.raises(TemplateError) as refused:
        render("{{ 'a %s' % x }}", {"x": {"a": 1}})
    assert str(refused.value) == (
        "'%' on a text: in nunjucks '%' is the remainder of two numbers, not formatting"
    )


@pytest.mark.parametrize("template", ["{{ '%s' | format(1) }}", "{{ 'a{}'.format(1) }}"])
def test_python_string_formatting_is_not_available(template: str) -> None:
    with pytest.raises(TemplateError, match="format"):
        render(template, {})


def test_a_template_cannot_change_the_vars_it_is_given() -> None:
    items = [1]
    with pytest.raises(TemplateError, match="unsafe"):
        render("{{ items.append(2) }}", {"items": items})
    assert items == [1]


@pytest.mark.parametrize(
    ("template", "text"),
    [
        (
            "{% for d in docs %}{{ loop.index }}. {{ d.title | upper }}\n{% endfor %}",
            "1. A\n2. B\n",
        ),
        ("{% for k, v in meta | dictsort %}{{ k }}={{ v }};{% endfor %}", "x=1;y=2;"),
        ("{% for d in docs if d.title == 'b' %}{{ d.title }}{% else %}-{% endfor %}", "b"),
        (
            "{% for i in [[1, [2]], 3] recursive %}{% if i is iterable %}{{ loop(i) }}"
            "{% else %}{{ i }}{% endif %}{% endfor %}",
            "123",
        ),
        (
            "{{ '=' * 5 }} {{ 3 * [0] }} {{ 2 ** 10 }} {{ 2 ** 0.5 }}",
            "===== [0,0,0] 1024 1.4142135623730951",
        ),
        ("{{ 'a' ~ 1 ~ docs | length }} {{ 'a' + 'b' }} {{ [1] + [2] }}", "a12 ab [1,2]"),
        (
            "{{ 'x' | center(5) }}|{{ 'a b c' | replace(' ', '-') }}|{{ 'a,b'.split(',') }}",
            '  x  |a-b-c|["a","b"]',
        ),
        ("{{ docs | map(attribute='title') | join(', ') }}", "a, b"),
    ],
)
def test_ordinary_loops_filters_and_operators_are_unaffected(template: str, text: str) -> None:
    variables = {"docs": [{"title": "a"}, {"title": "b"}], "meta": {"y": 2, "x": 1}}
    assert render(template, variables) == text


def test_a_large_var_is_written_whole() -> None:
    document = "word " * 1_000_000  # 5 MB: above the repetition cap, under the output cap
    assert render("{{ doc | trim }}!{% if true %}{% endif %}", {"doc": document}) == (
        document.strip() + "!"
    )
