"""The result of checking a file: its summary, its problems, and its per-example index.

Plain dataclasses, so a Textual worker can hand them to a pane and `--json` can print them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.data.contexts import training_price_per_million
from core.data.index import ExampleIndex
from core.data.problems import Problem, ProblemList
from core.data.reader import DEFAULT_MAX_LINE_BYTES, LineReader, read_line_at
from core.data.stats import (
    CostEstimate,
    HistogramBin,
    TokenStats,
    estimate_cost,
    histogram,
    token_stats,
)


@dataclass(frozen=True, slots=True)
class MessageStats:
    """Messages per example."""

    min: int
    mean: float
    max: int


@dataclass(frozen=True)
class Summary:
    """Figures of a set of examples.

    Attributes:
        examples: valid examples (lines without format problems).
        messages: messages per example.
        tokens: tokens per example (longest trained sequence, framing and tools included).
        histogram: examples per power-of-two range of tokens.
        trained_tokens: tokens of assistant messages with a weight other than 0, per epoch.
        tokens_exact: False when the tokenizer or the framing of the model is an estimate.
        context: the model's training context, None when unknown.
        over_context: examples with more tokens than the context.
        cost: epochs, billed tokens and cost of a training run on these examples.
    """

    examples: int
    messages: MessageStats | None
    tokens: TokenStats | None
    histogram: list[HistogramBin]
    trained_tokens: int
    tokens_exact: bool
    context: int | None
    over_context: int
    cost: CostEstimate


@dataclass
class CheckReport:
    """Everything a check found in one file.

    Attributes:
        path: the file, as given.
        sha256: hex digest of its bytes.
        size_bytes: its size.
        format: `chat`, `preference` or `completion`; None when no line had a known shape.
        model: the model whose tokenizer and context were used.
        lines: lines in the file.
        bom: it starts with a UTF-8 byte order mark (removed before parsing).
        crlf_lines: lines ending in CRLF (accepted).
        summary: figures of the valid examples.
        problems: every problem (counts exact; details up to a cap), pageable.
        index: per-example numbers, for clean and split.
        timings: seconds spent in each phase.
    """

    path: str
    sha256: str
    size_bytes: int
    format: str | None
    model: str
    lines: int
    bom: bool
    crlf_lines: int
    summary: Summary
    problems: ProblemList
    index: ExampleIndex = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """No problem of any kind."""
        return not len(self.problems)

    def read_line(self, line: int, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> bytes | None:
        """The bytes of `line` (1-based) as the check read them, to show an example in full.

        A valid example is read at its offset; any other line by reading up to it. None when
        the file has no such line or the line is longer than `max_line_bytes`.
        """
        lines = self.index.column("lines")
        at = int(np.searchsorted(lines, line))
        with Path(self.path).open("rb") as file:
            if at < len(lines) and lines[at] == line:
                return read_line_at(file, self.index.offsets[at], max_line_bytes)
            for raw in LineReader(file, max_line_bytes):
                if raw.number == line:
                    return None if raw.too_long else raw.data
        return None

    def statistics(self) -> dict[str, Any]:
        """The summary and problem counts as JSON-ready values (what lineage records)."""
        return {
            "format": self.format,
            "model": self.model,
            "lines": self.lines,
            "bom": self.bom,
            "crlf_lines": self.crlf_lines,
            "summary": jsonable(self.summary),
            "problem_counts": self.problems.counts(),
            "problem_categories": self.problems.category_counts(),
        }

    def to_dict(self, problem_limit: int | None = None) -> dict[str, Any]:
        """The whole report as JSON-ready values, with up to `problem_limit` problems."""
        details = self.problems.details()
        shown = details if problem_limit is None else details[:problem_limit]
        return {
            "path": self.path,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            **self.statistics(),
            "problems_total": len(self.problems),
            "problems_listed": len(shown),
            "problems": [problem_dict(problem) for problem in shown],
            "timings": {name: round(seconds, 3) for name, seconds in self.timings.items()},
        }


def problem_dict(problem: Problem) -> dict[str, Any]:
    """A problem as JSON-ready values, its category included."""
    return {**jsonable(problem), "category": problem.category}


def jsonable(value: Any) -> Any:
    """Dataclasses, Decimals and tuples made into plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    return value


def summarize(
    index: ExampleIndex,
    members: npt.NDArray[np.int64] | None,
    *,
    model: str,
    context: int | None,
    tokens_exact: bool,
    epochs: int | None = None,
) -> Summary:
    """The summary of the examples `members` of `index` (all of them when None)."""
    tokens = index.column("tokens").astype(np.uint32, copy=False)
    messages = index.column("messages")
    trained = index.column("trained")
    if members is not None:
        tokens, messages, trained = tokens[members], messages[members], trained[members]
    stats = token_stats(tokens)
    return Summary(
        examples=len(tokens),
        messages=_message_stats(messages),
        tokens=stats,
        histogram=histogram(tokens),
        trained_tokens=int(trained.sum(dtype=np.uint64)) if len(trained) else 0,
        tokens_exact=tokens_exact,
        context=context,
        over_context=int((tokens > context).sum()) if context is not None else 0,
        cost=estimate_cost(tokens, context, training_price_per_million(model), epochs),
    )


def _message_stats(messages: npt.NDArray[Any]) -> MessageStats | None:
    if not len(messages):
        return None
    return MessageStats(int(messages.min()), float(messages.mean()), int(messages.max()))
