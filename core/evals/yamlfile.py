"""Read YAML and JSON suite files, keeping the line of every mapping for error messages."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from core.evals.sources import SuiteProblem

MAX_NODES = 2_000_000
"""A document larger than this once its YAML aliases are expanded is refused (alias bombs)."""


class Located(dict[str, Any]):
    """A mapping read from a file, with the (1-based) line it starts on."""

    line: int | None = None


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Any:
    mapping = Located()
    mapping.line = node.start_mark.line + 1
    yield mapping
    mapping.update(loader.construct_mapping(node))  # type: ignore[arg-type]


def _construct_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# A date stays the text it was written as: vars are rendered into prompts, and stored as JSON.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)

_BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{kind}" for kind in ("bool", "int", "float"))


class _PromptfooLoader(_Loader):
    """YAML 1.2's core schema, as promptfoo's reader (js-yaml) reads a config: only `true` and
    `false` are booleans (`Yes`, `NO`, `on` stay words), an integer is decimal, `0o17` or
    `0x1F` (`01234` is 1234, `1_000` and `12:30` stay text), and dates stay text."""

    yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML's own class attribute)
        first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
        for first, resolvers in _Loader.yaml_implicit_resolvers.items()
    }


def _construct_int_12(loader: _PromptfooLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    digits = text.lstrip("+-")
    base = 8 if digits.startswith("0o") else 16 if digits.startswith("0x") else 10
    value = int(digits[2:] if base != 10 else digits, base)
    return -value if text.startswith("-") else value


_PromptfooLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_PromptfooLoader.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_PromptfooLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_PromptfooLoader.add_constructor(_INT, _construct_int_12)

_PLAIN = (str, int, float, bool, type(None))


def line_of(value: Any) -> int | None:
    """The line a mapping read by `read_yaml` starts on, None for anything else."""
    return value.line if isinstance(value, Located) else None


def _where_and_what(error: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    """The line to name and the problem. A quote or bracket left open is found only at the
    end of the file: then the line where it was opened is named, with the end's line."""
    problem = error.problem or error.context or "invalid YAML"
    opened, found = error.context_mark, error.problem_mark
    at_the_end = "end of stream" in problem or "<stream end>" in problem
    if opened is not None and found is not None and error.context and at_the_end:
        return opened.line + 1, f"{error.context} from here: {problem} (line {found.line + 1})"
    mark = found or opened
    return (mark.line + 1 if mark is not None else None), problem


def read_yaml(text: str, name: str, *, as_promptfoo: bool = False) -> Any:
    """Parse YAML `text` (named `name` in errors); mappings become `Located`. A tunedeck suite
    is read as YAML 1.1 (PyYAML's: `yes` is true), dates aside (they stay text); a promptfoo
    config and its files `as_promptfoo` reads them (`_PromptfooLoader`: YAML 1.2).

    Raises:
        SuiteProblem: the YAML is invalid (with its line), nested too deeply, or too large
            once its aliases are expanded.
    """
    try:
        data = yaml.load(text, Loader=_PromptfooLoader if as_promptfoo else _Loader)
    except yaml.MarkedYAMLError as error:
        line, problem = _where_and_what(error)
        raise SuiteProblem(f"invalid YAML: {problem}", file=name, line=line) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        problem = f"character {error.character!r} is not allowed in YAML"
        raise SuiteProblem(f"invalid YAML: {problem}", file=name, line=line) from None
    except yaml.YAMLError as error:
        raise SuiteProblem(f"invalid YAML: {error}", file=name) from None
    except RecursionError:
        raise SuiteProblem("invalid YAML: nested too deeply", file=name) from None
    _check_size(data, name)
    return data


def read_json(text: str, name: str) -> Any:
    """Parse JSON `text`; mappings become `Located` without a line.

    Raises:
        SuiteProblem: the JSON is invalid (with its line) or nested too deeply.
    """
    try:
        return json.loads(text, object_hook=Located)
    except json.JSONDecodeError as error:
        raise SuiteProblem(f"invalid JSON: {error.msg}", file=name, line=error.lineno) from None
    except RecursionError:
        raise SuiteProblem("invalid JSON: nested too deeply", file=name) from None


def _check_size(data: Any, name: str) -> None:
    """Count nodes as if aliases were copies, giving up past MAX_NODES (so this is bounded)."""
    count, stack = 0, [data]
    while stack:
        value = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise SuiteProblem(
                f"too large once its YAML aliases are expanded (over {MAX_NODES:,} values)",
                file=name,
            )
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif not isinstance(value, _PLAIN):
            kind = type(value).__name__
            raise SuiteProblem(
                f"holds a YAML value of type {kind}, which suites do not use", file=name
            )
