"""Time as the log stores it: UTC, ISO 8601 text that sorts in time order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """`moment` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC): sortable and understood by SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_after(moment: datetime, seconds: float | None) -> str | None:
    """`iso(moment + seconds)`, or None when there is no limit."""
    return None if seconds is None else iso(moment + timedelta(seconds=seconds))


_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: datetime) -> str:
    """A user's `--since` (`30m`, `24h`, `7d`, `2w`, or a date `2026-11-01` in local time)
    as the UTC ISO time the log compares with.

    Raises:
        ValueError: with a message naming the accepted forms.
    """
    text = text.strip()
    unit = text[-1:].lower()
    if unit in _UNITS and text[:-1].isdigit():
        return iso(now - timedelta(seconds=int(text[:-1]) * _UNITS[unit]))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'{text}' is not a time: use 30m, 24h, 7d, 2w or a date like 2026-11-01"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a bare date means the user's local time
    return iso(moment)
