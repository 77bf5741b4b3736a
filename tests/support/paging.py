"""Walking a paged table (tui/widgets/paging.py) with page keys, checking it at every step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import pairwise
from typing import Any

from textual.pilot import Pilot

from tui.widgets.paging import PagedTable


def keys_of(table: PagedTable[Any]) -> list[str]:
    """The keys of the rows in the widget, top to bottom."""
    return [str(row.key.value) for row in table.ordered_rows]


def check(table: PagedTable[Any], listing: list[str]) -> tuple[int, int]:
    """Assert that the table shows a run of `listing` (at most two pages) that the window
    agrees with, with the cursor on screen and the pages past both ends read ahead; returns
    the cursor's place in the whole listing and its line on screen."""
    shown = keys_of(table)
    assert 0 < len(shown) <= 2 * table.window.page_size
    first = listing.index(shown[0])
    assert shown == listing[first : first + len(shown)]
    assert shown == [table.row_key(row) for row in table.window.rows]
    assert not table.window.wants("after") and not table.window.wants("before")
    visible = table.scrollable_content_region.height - table.header_height
    line = table.cursor_row - int(table.scroll_y)
    assert 0 <= line < visible, "cursor off screen"
    return first + table.cursor_row, line


async def walk(
    pilot: Pilot[None],
    table: PagedTable[Any],
    listing: list[str],
    key: str,
    settle: Callable[[Pilot[None]], Awaitable[None]],
) -> list[int]:
    """Press `key` (pagedown or pageup) until the cursor stops moving; check the table after
    each press, and that each moved the cursor as far as the first did, keeping it on the same
    line of the screen (a slide of the window must not show), but near the end of the listing;
    returns the cursor's place in the listing after each press."""
    places = [check(table, listing)]
    while True:
        await pilot.press(key)
        await settle(pilot)
        places.append(check(table, listing))
        if places[-1][0] == places[-2][0]:
            break
    moves = [(b[0] - a[0], b[1]) for a, b in pairwise(places[1:-3])]  # not the last screen
    assert len(set(moves)) <= 1, f"uneven page moves: {moves}"
    return [place for place, _ in places]
