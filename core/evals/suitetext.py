"""YAML suite text written by tunedeck: a case appended to `cases:`, or a new suite file.

Appending is textual, so the user's comments, order and layout stay as they were: the case
goes at the end of the file, indented like the first item of `cases:`, which must be the
file's last top-level key and a block list (`- id: ...`).
"""

from __future__ import annotations

from typing import Any

import yaml

from core.errors import BadInput


class _Dumper(yaml.SafeDumper):
    """Multi-line texts as `|` blocks (readable and editable); others as PyYAML chooses
    (it quotes and escapes control characters, so an answer's escape sequences stay data)."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def dump(value: Any) -> str:
    """`value` as block YAML, keys in their order, lines never folded."""
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000)


def cases_indent(text: str, name: str) -> int:
    """The column of the `-` of the items of the top-level `cases:` list of a suite.

    Raises:
        BadInput: `cases:` is not the last top-level key, or is not a block list; the
            top level is not a block mapping.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise BadInput(f"{name}: invalid YAML: {error}") from None
    if not isinstance(root, yaml.MappingNode) or root.flow_style or not root.value:
        raise BadInput(f"{name}: cases can be added only to a suite whose top level is a block")
    key, value = root.value[-1]
    if key.value != "cases":
        line = key.start_mark.line + 1
        raise BadInput(
            f"{name}:{line}: {key.value}: comes after cases:; cases are appended only when "
            "cases: is the last top-level key (move it to the end of the file)"
        )
    if not isinstance(value, yaml.SequenceNode) or value.flow_style:
        line = key.start_mark.line + 1
        raise BadInput(
            f"{name}:{line}: cases: is not a block list; write it as lines starting with "
            "'- ' to add cases to it"
        )
    return int(value.start_mark.column)


def yaml_item(entry: dict[str, Any], indent: int) -> str:
    """`entry` as one item of a block list whose `-` is at column `indent`."""
    # Split at "\n" only: a text may hold other line separators (U+2028...), kept as they are.
    lines = dump([entry]).split("\n")
    return "\n".join(" " * indent + line if line.strip() else line for line in lines)


def new_yaml(header: dict[str, Any], entry: dict[str, Any]) -> str:
    """A new suite: the `header` keys (name, params), then `cases:` with `entry`."""
    return dump(header) + "cases:\n" + yaml_item(entry, 2)
