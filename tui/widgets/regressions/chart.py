"""Pass rate over time, one line per model, for the selected suite; the legend sits under the
plot (plotext draws its own legend over the data)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Static
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from storage.eval_records import HistoryPoint
from tui.text import inert

TICKS = 4  # labels on each axis
LABEL_WIDTH = 24  # a model's name in the legend
DAY = 86400.0
COLORS = (  # plotext's name, Rich's name of the same 256-colour entry
    ("cyan", "cyan"),
    ("orange", "dark_orange"),
    ("magenta", "magenta"),
    ("green", "green"),
    ("yellow", "yellow"),
    ("blue", "blue"),
    ("red", "red"),
)

Series = dict[str, list[tuple[float, float]]]


class PassRatePlot(PlotextPlot):
    """A `PlotextPlot` that builds its lines once per size, theme and data: plotext builds the
    whole plot at every render, and each of its characters has a style of its own (~20 ms a
    render), while a pane's first frame, or a theme change elsewhere, renders it again."""

    def __init__(self) -> None:
        super().__init__()
        self._generation = 0
        self._built: tuple[object, RenderResult] | None = None
        self._lines: tuple[object, list[Strip]] | None = None

    def changed(self) -> None:
        """The plot's data changed: build it again at the next render."""
        self._generation += 1
        self.refresh()

    def use_built(self, text: Text) -> None:
        """Show `text`, built by `draw_chart` for the data, size and theme now."""
        self._built = (self._key(), text)

    def _key(self) -> tuple[object, ...]:
        return (self.size, self.app.theme, self.theme, self._generation)

    def render(self) -> RenderResult:
        if not self._generation:
            return ""  # nothing shown yet: no empty plot (~15 ms of a pane's first frame)
        key = self._key()
        if self._built is None or self._built[0] != key:
            self._built = (key, super().render())
        return self._built[1]

    def render_lines(self, crop: Region) -> list[Strip]:
        key = (crop, self._key())
        if self._lines is None or self._lines[0] != key:
            self._lines = (key, super().render_lines(crop))
        return self._lines[1]


class PassRateChart(Vertical):
    """A plotext chart of `EvalStore.pass_rate_history`: x the run's start, y its pass rate."""

    DEFAULT_CSS = """
    PassRateChart > PassRatePlot { height: 1fr; }
    PassRateChart > Static { height: 1; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield PassRatePlot()
        yield Static("", id="chart-legend")

    def show(
        self,
        suite: str | None,
        history: dict[str, list[HistoryPoint]],
        drawn: DrawnChart | None = None,
    ) -> None:
        """Plot each model's completed runs of `suite`, oldest first (`drawn`: the plot
        built already, in a thread, by `draw_chart`: used if made for the plot's size and
        theme now)."""
        plot = self.query_one(PassRatePlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        series = _series(history)
        self.query_one("#chart-legend", Static).update(legend(series))
        _plot(plt, suite, series)
        plot.changed()
        if drawn is not None and drawn.at == chart_place(self):
            plot.use_built(drawn.text)


@dataclass(frozen=True)
class ChartPlace:
    """A plot's size and plotext theme."""

    width: int
    height: int
    theme: str


@dataclass(frozen=True)
class DrawnChart:
    """A plot built for a place (see `draw_chart`)."""

    at: ChartPlace
    text: Text


def chart_place(chart: PassRateChart) -> ChartPlace | None:
    """Where `chart`'s plot is drawn now (None: nowhere yet)."""
    plot = chart.query_one(PassRatePlot)
    width, height = plot.size
    if not (width and height and chart.display and plot.is_mounted):
        return None
    return ChartPlace(width, height, plot._get_plotext_theme_name(plot.app.theme))


def draw_chart(
    place: ChartPlace, suite: str | None, history: dict[str, list[HistoryPoint]]
) -> DrawnChart:
    """Build the plot `PassRateChart.show` shows, at `place`, off the event loop (a thread:
    ~20-25 ms of plotext, the most of drawing it), as `PlotextPlot.render` builds it."""
    plt = Plot()
    _plot(plt, suite, _series(history))
    plt.plotsize(place.width, place.height)
    plt._set_size(place.width, place.height)  # as PlotextPlot.render (its issue #5)
    plt.theme(place.theme)
    return DrawnChart(place, Text.from_ansi(plt.build()))


def _series(history: dict[str, list[HistoryPoint]]) -> Series:
    series = {model: _points(points) for model, points in sorted(history.items())}
    return {model: points for model, points in series.items() if points}


def _plot(plt: Plot, suite: str | None, series: Series) -> None:
    title = f"Pass rate % by model · {inert(suite)[:40]}" if suite else "No suite"
    plt.title(title if series or not suite else f"{title}: no completed run yet")
    if series:
        _draw(plt, series)


def _draw(plt: Plot, series: Series) -> None:
    for index, points in enumerate(series.values()):
        xs, ys = zip(*points, strict=True)
        color = COLORS[index % len(COLORS)][0]
        plt.plot(list(xs), list(ys), marker="braille", color=color)
    lowest = min(y for points in series.values() for _, y in points)
    bottom = max(0.0, math.floor(lowest / 10) * 10 - 10)
    plt.ylim(bottom, 100)
    steps = [bottom + (100 - bottom) * k / TICKS for k in range(TICKS + 1)]
    plt.yticks(steps, [f"{step:.0f}" for step in steps])
    ticks, labels = labelled_ticks(_ticks([x for points in series.values() for x, _ in points]))
    plt.xticks(ticks, labels)


def legend(series: Series) -> Text:
    """`━ gpt-4.1  ━ gpt-4o-mini`, each in its line's colour."""
    text = Text()
    for index, model in enumerate(series):
        text.append("━ ", style=f"bold {COLORS[index % len(COLORS)][1]}")
        text.append(_label(model) + "  ")
    text.rstrip()
    return text


def _points(points: list[HistoryPoint]) -> list[tuple[float, float]]:
    """(days since the epoch, pass rate %) of the runs that have a pass rate."""
    found = []
    for point in points:
        if point.pass_rate is not None:
            moment = datetime.fromisoformat(point.started_at).timestamp() / DAY
            found.append((moment, point.pass_rate * 100))
    return found


def _ticks(xs: list[float]) -> list[float]:
    low, high = min(xs), max(xs)
    if high - low < 1e-9:
        return [low]
    step = (high - low) / (TICKS - 1)
    return [low + step * index for index in range(TICKS)]


def tick_labels(ticks: list[float]) -> list[str]:
    """The x ticks (days since the epoch) as local `MM-DD`, or `HH:MM` when they span less
    than two days (runs of one afternoon would all read the same day); with seconds, or the
    hour, when two ticks would read the same otherwise (runs of one minute)."""
    shown = ("%H:%M", "%H:%M:%S") if ticks[-1] - ticks[0] < 2 else ("%m-%d", "%m-%d %H:%M")
    for form in shown:
        labels = [_local(tick, form) for tick in ticks]
        if len(set(labels)) == len(labels):
            break
    return labels


def labelled_ticks(ticks: list[float]) -> tuple[list[float], list[str]]:
    """The ticks and their labels (`tick_labels`), each label once: a tick that would
    repeat the one before it (runs within one second) is left out."""
    kept: dict[str, float] = {}
    for tick, label in zip(ticks, tick_labels(ticks), strict=True):
        kept.setdefault(label, tick)
    return list(kept.values()), list(kept)


def _local(tick: float, form: str) -> str:
    return datetime.fromtimestamp(tick * DAY).astimezone().strftime(form)


def _label(model: str) -> str:
    """A legend entry: the model's name, inert and short."""
    name = " ".join(inert(model).split())
    return name if len(name) <= LABEL_WIDTH else name[: LABEL_WIDTH - 1] + "…"
