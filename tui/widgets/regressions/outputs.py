"""A case's answers with the scorers' reasons: one run's, or two runs' side by side.

Answers and reasons come from models and suite files: they are shown inert (markup stays text,
escape sequences show as `\\x1b...`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from storage.eval_records import RecordedResult
from tui.text import inert, money
from tui.widgets.regressions.figures import RESULT_STYLES, ms, score

MAX_OUTPUT = 4000  # characters of an answer shown (a huge answer would slow every repaint)


def describe_results(
    title: str, results: Sequence[RecordedResult], asked: Text | None = None
) -> Text:
    """`title`, `asked` (what the case asked and expects: see `case_input`), then each
    repeat's status, figures, answer and scorer verdicts."""
    text = Text(title + "\n", style="bold")
    if asked:
        text.append(asked)
        text.append("\n")
    if not results:
        text.append("no result in this run", style="dim")
        return text
    for result in results:
        text.append(_result(result, len(results) > 1))
        text.append("\n")
    text.rstrip()
    return text


def _result(result: RecordedResult, repeated: bool) -> Text:
    text = Text()
    if repeated:
        text.append(f"repeat {result.repeat_index + 1}: ", style="dim")
    text.append(result.status, style=RESULT_STYLES.get(result.status, ""))
    figures = [f"score {score(result.score)}", ms(result.latency_ms), money(result.cost_usd)]
    if result.cache_hit:
        figures.append("cache hit")
    text.append(" · " + " · ".join(figures) + "\n", style="dim")
    if result.error:
        text.append(inert(result.error) + "\n", style="red")
    text.append(_answer(result.output_text))
    text.append("\n")
    for verdict in result.scores:
        text.append(_verdict(verdict))
    return text


def _answer(output: str | None) -> Text:
    if output is None:
        return Text("(no answer)", style="dim")
    if output == "":
        return Text("(empty answer)", style="dim")
    shown = output if len(output) <= MAX_OUTPUT else output[:MAX_OUTPUT]
    text = Text(inert(shown))
    if len(output) > MAX_OUTPUT:
        text.append(f"\n… {len(output) - MAX_OUTPUT:,} more characters", style="dim")
    return text


def _verdict(verdict: dict[str, Any]) -> Text:
    """`✓ contains 1.00  reason` for one scorer."""
    passed = bool(verdict.get("passed"))
    text = Text("✓ " if passed else "✗ ", style="green" if passed else "bold red")
    text.append(inert(str(verdict.get("type", "?"))), style="bold")
    value = verdict.get("score")
    if isinstance(value, int | float):
        text.append(f" {value:.2f}", style="dim")
    reason = verdict.get("reason")
    if reason:
        text.append("  " + inert(str(reason)))
    text.append("\n")
    return text


class SideBySide(Horizontal):
    """Run A's answer on the left, run B's on the right (each scrolls on its own)."""

    DEFAULT_CSS = """
    SideBySide { height: 1fr; }
    SideBySide > VerticalScroll { width: 1fr; height: 1fr; border: round $panel-lighten-2; }
    SideBySide > VerticalScroll:focus-within { border: round $accent; }
    """

    shown = False
    """Whether either side shows something."""
    case: object = None
    """What the sides describe, as the caller of `show` named it (None: nothing named)."""

    def compose(self) -> ComposeResult:
        for side in ("a", "b"):
            with VerticalScroll(id=f"side-{side}"):
                yield Static("", id=f"side-{side}-text")

    def show(self, left: Text, right: Text, case: object = None) -> None:
        """Show two descriptions (see `describe_results`) of `case`."""
        self.shown, self.case = bool(left or right), case
        for side, text in (("a", left), ("b", right)):
            self.query_one(f"#side-{side}-text", Static).update(text)
            self.query_one(f"#side-{side}", VerticalScroll).scroll_home(animate=False)

    def clear(self) -> None:
        """Show nothing (at no cost when nothing is shown)."""
        if self.shown:
            self.show(Text(""), Text(""))
