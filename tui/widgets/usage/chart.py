"""Daily cost (bars) and tokens (line, right axis) over the last 30 days."""

from __future__ import annotations

from datetime import date

from textual_plotext import PlotextPlot

from storage.records import UsageRow

TICK_EVERY = 7  # days between labels on the x axis


class UsageChart(PlotextPlot):
    """A plotext chart of a daily series (`UsageQueries.daily`), oldest day first."""

    def show(self, days: list[UsageRow]) -> None:
        """Plot `days` (each row's group is a `YYYY-MM-DD` local day)."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        positions = list(range(1, len(days) + 1))
        plt.bar(positions, [row.cost_usd for row in days], label="cost $", width=0.6)
        plt.plot(
            positions,
            [row.prompt_tokens + row.completion_tokens for row in days],
            label="tokens",
            yside="right",
            marker="braille",
        )
        ticks = positions[::-1][::TICK_EVERY][::-1]
        plt.xticks(ticks, [_short(days[tick - 1].group) for tick in ticks])
        plt.title(f"Daily cost and tokens, last {len(days)} days")
        self.refresh()


def _short(day: str) -> str:
    try:
        return date.fromisoformat(day).strftime("%m-%d")
    except ValueError:
        return day
