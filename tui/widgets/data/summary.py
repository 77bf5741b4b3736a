"""The figures of a checked file: summary lines and the token histogram."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual_plotext import PlotextPlot

from tui.text import inert, money

if TYPE_CHECKING:  # the engine is imported off the event loop, by the pane's workers
    from core.data.report import CheckReport, Summary
    from core.data.stats import HistogramBin


def summary_text(report: CheckReport, name: str) -> Text:
    """What a check found, for people, in short lines: the file, its examples, tokens, cost
    and problems."""
    summary = report.summary
    text = Text()
    text.append(inert(name) + "\n", style="bold")
    text.append(f"{report.format or 'unknown format'} · {report.lines:,} lines")
    text.append(f" · {_size(report.size_bytes)} · {report.sha256[:12]}\n")
    text.append(f"examples {summary.examples:,}")
    if summary.messages is not None:
        messages = summary.messages
        text.append(f" · messages {messages.min}-{messages.max} (mean {messages.mean:.1f})")
    text.append("\n" + _tokens_lines(summary) + "\n")
    text.append(_cost_lines(summary, report.model) + "\n")
    text.append_text(_problems_line(report))
    return text


def _tokens_lines(summary: Summary) -> str:
    stats = summary.tokens
    if stats is None:
        return "tokens: no valid example"
    estimated = " (estimated)" if not summary.tokens_exact else ""
    return (
        f"tokens{estimated} {stats.min:,}-{stats.max:,} · median {stats.median:,.0f}"
        f" · mean {stats.mean:,.0f}\np5 {stats.p5:,} · p95 {stats.p95:,}"
        f" · trained {summary.trained_tokens:,}"
    )


def _cost_lines(summary: Summary, model: str) -> str:
    cost = summary.cost
    over = f" · {summary.over_context:,} over context" if summary.over_context else ""
    return (
        f"{cost.epochs} epochs · billed tokens {cost.billed_tokens:,}{over}\n"
        f"est. cost {money(cost.cost_usd)} · {inert(model)}"
    )


def _problems_line(report: CheckReport) -> Text:
    total = len(report.problems)
    if not total:
        return Text("no problems found", style="green")
    categories = report.problems.category_counts()
    parts = ", ".join(f"{name} {count:,}" for name, count in categories.items() if count)
    return Text(f"{total:,} problems: {parts}", style="bold yellow")


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def bin_label(low: int) -> str:
    """The low edge of a bin, short enough for a bar's foot: `512`, `2k`, `64k`."""
    return f"{low // 1024}k" if low >= 1024 else str(low)


class TokenHistogram(PlotextPlot):
    """Examples per range of tokens (power-of-two bins), as a bar chart."""

    def show(self, bins: list[HistogramBin]) -> None:
        """Plot `bins` (empty: clear the chart)."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if bins:
            labels = [bin_label(b.low) for b in bins]
            counts = [b.count for b in bins]
            plt.bar(labels, counts, width=0.6)
            top = max(counts)
            plt.yticks(sorted({0, top // 2, top}))  # whole examples, not 6.8 of them
        plt.title("examples by tokens (from)")
        self.refresh()
