"""Tables of the command line fit the terminal: fixed columns whole, flexible ones cut with an
ellipsis, optional ones left out first (tui/cli/output.print_table); its signed figures never
read -0."""

from __future__ import annotations

import re

import pytest

from tui.cli.output import print_table

HEADERS = ["run", "model", "status", "started", "note", "cost"]
ROWS = [
    [12, "ft:gpt-4o-mini:acme:support-bot-v7", "interrupted", "11-29 02:20", "x" * 50, "$0.0123"],
    [3, "gpt-4o-mini", "completed", "11-28 23:59", "short", "$0"],
]


def printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(width))
    print_table(HEADERS, ROWS, flexible=("model", "note"), optional=("cost", "note"))
    return [line.rstrip() for line in capsys.readouterr().out.splitlines()]


def test_a_wide_terminal_shows_every_cell_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = printed(capsys, monkeypatch, 200)
    assert lines[0].split() == HEADERS
    assert "ft:gpt-4o-mini:acme:support-bot-v7" in lines[1] and "x" * 50 in lines[1]


@pytest.mark.parametrize("width", [80, 60, 50])
def test_a_narrow_terminal_keeps_fixed_columns_whole_and_cuts_the_flexible_ones(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    lines = printed(capsys, monkeypatch, width)
    assert all(len(line) <= width for line in lines)
    for line, row in zip(lines[1:], ROWS, strict=True):
        assert line.split()[0] == str(row[0])
        assert re.search(rf" {row[2]} +{row[3]}( |$)", line)  # status and time whole
    assert "…" in lines[1]  # the long model name is cut, visibly


def test_optional_columns_go_in_their_order_only_as_far_as_needed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert printed(capsys, monkeypatch, 80)[0].split() == HEADERS  # cut, none left out
    assert printed(capsys, monkeypatch, 60)[0].split() == HEADERS[:5]  # cost goes first
    assert printed(capsys, monkeypatch, 50)[0].split() == HEADERS[:4]  # then the note


def test_without_flexible_columns_a_table_prints_as_before(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    print_table(["a", "b"], [["1", "two words"]])
    assert capsys.readouterr().out.split() == ["a", "b", "1", "two", "words"]


@pytest.mark.parametrize(
    ("value", "spec", "unit", "shown"),
    [(-0.2, ".0f", " ms", "0 ms"), (0.0004, ".3f", "", "0.000"), (-12.6, ".0f", " ms", "-13 ms")],
)
def test_a_signed_delta_that_rounds_to_zero_has_no_sign(
    value: float, spec: str, unit: str, shown: str
) -> None:
    from tui.cli.eval_output import _signed
    from tui.widgets.regressions.figures import signed

    assert _signed(value, spec, unit) == shown  # the command line's
    assert signed(value, unit, int(spec[1])) == shown  # the Regressions pane's


@pytest.mark.parametrize(("value", "shown"), [(-1e-9, "$0"), (0.0, "$0"), (0.25, "+$0.25")])
def test_a_cost_delta_of_nothing_has_no_sign(value: float, shown: str) -> None:
    from tui.cli.eval_output import _signed_money

    assert _signed_money(value) == shown
