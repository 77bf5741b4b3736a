"""Whole text files written atomically (core/data/writing.write_text_atomically)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.writing import write_text_atomically


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("one\u2028two\u0085three\u2029\n", "one\u2028two\u0085three\u2029\n"),  # text, not lines
        ("a\nb", "a\nb\n"),  # the last line is ended
        ("a\r\nb\n", "a\r\nb\n"),  # kept as given
        ("", ""),
    ],
)
def test_only_newlines_end_lines_and_every_other_character_is_kept(
    tmp_path: Path, text: str, written: str
) -> None:
    target = tmp_path / "reports" / "report.xml"  # its folder is made
    result = write_text_atomically(target, text)
    assert target.read_bytes().decode("utf-8") == written
    assert result.lines == written.count("\n") and list(target.parent.iterdir()) == [target]
