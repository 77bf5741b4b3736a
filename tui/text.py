"""Text from models and users, made safe to show in a terminal."""

from __future__ import annotations

import re
from decimal import Decimal

from rich.text import Text


def inert(text: str) -> str:
    """`text` with escape sequences and control characters shown as visible `\\xNN` codes.

    A model's answer must not be able to restyle, retitle or clear the terminal: ESC, BEL and
    the other C0/C1 controls are replaced; newlines and tabs are kept.
    """
    return text.translate(_VISIBLE)


def uninert(text: str) -> str:
    """`text` with the `\\xNN` codes `inert` writes turned back into their characters
    (other `\\x..` text, such as `\\x0a` or `\\x41`, is left as it is)."""
    return _SHOWN_CODE.sub(lambda match: _CONTROL_OF[match.group(0)], text)


def plain(text: str) -> Text:
    """A Rich `Text` showing `text` exactly: no markup, no escape sequences interpreted."""
    return Text(inert(text), no_wrap=False)


_CONTROLS = [*range(32), 127, *range(0x80, 0xA0)]
_VISIBLE = {code: f"\\x{code:02x}" for code in _CONTROLS if chr(code) not in "\n\t"}
"""The C0 and C1 controls and DEL but newline and tab, each as its `\\xNN` code (for
`str.translate`: ~20x faster than going through the text a character at a time)."""
_CONTROL_OF = {shown: chr(code) for code, shown in _VISIBLE.items()}
_SHOWN_CODE = re.compile("|".join(re.escape(shown) for shown in _CONTROL_OF))
CONTROL_CHARACTERS = re.compile("[" + "".join(re.escape(chr(c)) for c in _VISIBLE) + "]")
"""Matches any character `inert` shows as a code."""


def money(value: Decimal | float | None) -> str:
    """USD for people: `unknown` when there is no price, more decimals for tiny sums."""
    if value is None:
        return "unknown"
    amount = Decimal(str(value))
    if amount == 0:
        return "$0"
    if abs(amount) < Decimal("0.01"):
        return f"${amount:.6f}".rstrip("0").rstrip(".")
    return f"${amount:,.4f}".rstrip("0").rstrip(".")
