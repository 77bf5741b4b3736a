"""Budget periods in the user's time zone: a day, a week, a month, or all time.

A day starts at local midnight; a week on Monday at local midnight (ISO 8601 weeks); a month
on its first day. With a time zone that has daylight saving time, a period is simply shorter
or longer (23 or 25 hours for the day of the change). Without a configured zone the system's
local time is used, as the Usage pane does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.clock import iso
from storage.budgets import Window

PERIODS = ("day", "week", "month", "all")
"""The periods a budget can have."""

_WORDS = {"day": "today", "week": "this week", "month": "this month", "all": "in total"}


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone `name` (like `Europe/Paris`).

    Raises:
        ValueError: no such zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{name}' (use a name like Europe/Paris)") from None


def zone_setting(name: str | None) -> ZoneInfo | None:
    """The zone of the `timezone` setting, or None (the system's local time) when unset."""
    return zone_named(name) if name else None


def period_words(period: str) -> str:
    """How a message names the current period: `today`, `this week`, `this month`, `in total`."""
    return _WORDS[period]


def local_date(now: datetime, zone: tzinfo | None) -> date:
    """The date at `now` in `zone` (the system's local time when None)."""
    return now.astimezone(zone).date()


def day_start(day: date, zone: tzinfo | None) -> datetime:
    """The moment `day` starts in `zone` (the system's local time when None)."""
    if zone is None:
        return datetime.combine(day, time()).astimezone()
    return datetime.combine(day, time(), tzinfo=zone)


def first_days(period: str, today: date) -> tuple[date, date] | None:
    """The first day of the period holding `today` and the first day of the next one
    (None for `all`)."""
    if period == "day":
        return today, today + timedelta(days=1)
    if period == "week":
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=7)
    if period == "month":
        first = today.replace(day=1)
        return first, (first + timedelta(days=32)).replace(day=1)
    if period == "all":
        return None
    raise ValueError(f"unknown period '{period}'")


def window(period: str, now: datetime, zone: tzinfo | None) -> Window:
    """The current `period` at `now` as UTC times, with the key naming it for alerts."""
    days = first_days(period, local_date(now, zone))
    if days is None:
        return Window(key="all", since=None, until=None)
    first, after = days
    key = f"month:{first:%Y-%m}" if period == "month" else f"{period}:{first.isoformat()}"
    return Window(key=key, since=iso(day_start(first, zone)), until=iso(day_start(after, zone)))


class Windows(Mapping[str, Window]):
    """The current window of every period, each worked out when first asked for (a call
    covered by no budget, the common case, needs none)."""

    def __init__(self, now: datetime, zone: tzinfo | None) -> None:
        self._now, self._zone = now, zone
        self._made: dict[str, Window] = {}

    def __getitem__(self, period: str) -> Window:
        if period not in self._made:
            self._made[period] = window(period, self._now, self._zone)
        return self._made[period]

    def __iter__(self) -> Iterator[str]:
        return iter(PERIODS)

    def __len__(self) -> int:
        return len(PERIODS)


def windows(now: datetime, zone: tzinfo | None) -> Windows:
    """The current window of every period."""
    return Windows(now, zone)
