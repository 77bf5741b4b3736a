"""The Regressions pane's pass-rate chart: its time axis (tui/widgets/regressions/chart.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tui.widgets.regressions.chart import DAY, labelled_ticks, tick_labels


def days(day: str, *times: str) -> list[float]:
    """Days since the epoch of `day` (YYYY-MM-DD, UTC) at each of `times`, or of each day."""
    stamps = [f"{day}T{at}+00:00" for at in times] if times else [day]
    return [datetime.fromisoformat(stamp).timestamp() / DAY for stamp in stamps]


pytestmark = pytest.mark.usefixtures("local_time_utc")


def test_runs_of_one_afternoon_are_told_apart_by_their_time() -> None:
    ticks = days("2026-11-29", "13:00", "15:30", "18:00")
    assert tick_labels(ticks) == ["13:00", "15:30", "18:00"]


def test_runs_over_days_are_labelled_by_day() -> None:
    ticks = [*days("2026-11-01"), *days("2026-11-15"), *days("2026-11-29")]
    assert tick_labels(ticks) == ["11-01", "11-15", "11-29"]


def test_runs_of_one_minute_are_labelled_with_seconds_each_once() -> None:
    ticks = days("2026-11-29", "04:19:05", "04:19:20", "04:19:35", "04:19:50")
    assert labelled_ticks(ticks) == (ticks, ["04:19:05", "04:19:20", "04:19:35", "04:19:50"])


def test_ticks_that_would_read_the_same_are_left_out() -> None:
    ticks = days("2026-11-29", "04:19:05.1", "04:19:05.4", "04:19:05.7", "04:19:06.2")
    shown, labels = labelled_ticks(ticks)
    assert labels == ["04:19:05", "04:19:06"] and shown == [ticks[0], ticks[3]]


def test_days_that_would_repeat_get_their_time() -> None:
    ticks = days("2026-11-01", "00:30", "16:30") + days("2026-11-02", "08:30")
    ticks += days("2026-11-03", "00:30")
    assert tick_labels(ticks) == ["11-01 00:30", "11-01 16:30", "11-02 08:30", "11-03 00:30"]
