"""The Regressions pane's hint line (what the keys do now, fitted to its width) and which of
two marked runs is A, the baseline side of their diff."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from storage.eval_records import EvalRun
from tui.text import inert

SEPARATOR = " · "
MODEL_WIDTH = 24
"""Cells of a marked run's model in the hint's shorter forms (a fine-tune's name is long)."""


def diff_sides(first: EvalRun, second: EvalRun) -> tuple[EvalRun, EvalRun]:
    """Runs A (the baseline side) and B of a diff, whatever order they were marked in: the
    pinned baseline is A if only one of them is; else the older run is A."""
    if first.is_baseline != second.is_baseline:
        return (first, second) if first.is_baseline else (second, first)
    older, newer = sorted((first, second), key=lambda run: (run.started_at, run.id))
    return older, newer


class HintLine(Static):
    """One line of hints, given fullest first: it shows the first that fits its width (the
    last, cut, if none does)."""

    DEFAULT_CSS = "HintLine { height: 1; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", markup=False, **kwargs)
        self.forms: tuple[str, ...] = ("",)

    def show(self, forms: Sequence[str]) -> None:
        """Show the first of `forms` (fullest first) that fits."""
        self.forms = tuple(forms) or ("",)
        self.refresh(layout=False)

    @property
    def shown(self) -> str:
        """The form that fits the line's width now."""
        width = self.content_size.width
        return next((form for form in self.forms if cell_len(form) <= width), self.forms[-1])

    def render(self) -> Text:
        return Text(self.shown, no_wrap=True, overflow="ellipsis")


def hint_forms(sides: Sequence[tuple[str, EvalRun]], running: bool) -> list[str]:
    """The pane's hint, fullest form first: the marked runs, what the next key does, and
    `s` while a run started here is going."""
    if len(sides) == 2:
        steps = [["d diffs them"], ["d: diff"]]
    elif sides:
        steps = [["space marks B"], ["space: mark B"]]
    else:
        steps = [
            ["space marks A and B", "c compares with the baseline", "enter: results"],
            ["space: mark A/B", "c: vs baseline", "enter: results"],
            ["space: mark", "c: baseline", "enter: results"],
        ]
    marks = [
        [f"{side} #{run.id} {inert(run.model)}" for side, run in sides],
        [f"{side} #{run.id} {_cut(inert(run.model))}" for side, run in sides],
        [f"{side} #{run.id}" for side, run in sides],
    ]
    stop = [["s stops the run"], ["s: stop"]] if running else [[]]
    # Shortened in this order: the keys' words, then the models, then the stop key's words.
    forms = [
        SEPARATOR.join([*stop_form, *marked, *step])
        for stop_form in stop
        for marked in marks
        for step in steps
    ]
    return list(dict.fromkeys(forms))


def _cut(model: str) -> str:
    return model if cell_len(model) <= MODEL_WIDTH else model[: MODEL_WIDTH - 1] + "…"
