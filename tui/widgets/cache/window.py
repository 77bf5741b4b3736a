"""The rows the Cache table holds: a window of at most two pages that slides over the cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from storage.records import CacheEntry

Direction = Literal["reset", "after", "before"]
Position = tuple[str, str]
"""An entry's place in the listing: `(created_at, key)`."""


@dataclass(frozen=True)
class PageRequest:
    """One page asked of the database: from the top (`reset`), or past either end of the window.

    `generation` changes whenever the listing starts again (a new filter, a clear), so a page
    that arrives for an older listing is dropped.
    """

    generation: int
    direction: Direction
    anchor: Position | None
    search: str


def position(entry: CacheEntry) -> Position:
    """Where `entry` sits in the listing (newest first, then by key)."""
    return (entry.created_at, entry.key)


@dataclass
class PageWindow:
    """At most `2 * page_size` consecutive entries of the listing, and whether more lie around."""

    page_size: int
    entries: list[CacheEntry] = field(default_factory=list)
    has_before: bool = False
    has_after: bool = False

    @property
    def limit(self) -> int:
        """The most entries the window holds."""
        return 2 * self.page_size

    def reset(self, page: list[CacheEntry]) -> None:
        """Start again at the top of the listing with its first page."""
        self.entries = list(page)
        self.has_before = False
        self.has_after = len(page) >= self.page_size

    def extend_after(self, page: list[CacheEntry]) -> int:
        """Add the next page at the end; returns how many entries left the top."""
        self.entries += page
        self.has_after = len(page) >= self.page_size
        dropped = max(0, len(self.entries) - self.limit)
        if dropped:
            self.entries = self.entries[dropped:]
            self.has_before = True
        return dropped

    def extend_before(self, page: list[CacheEntry]) -> int:
        """Add the previous page at the top (entries left the end); returns how many came in."""
        self.entries = [*page, *self.entries]
        self.has_before = len(page) >= self.page_size
        dropped = max(0, len(self.entries) - self.limit)
        if dropped:
            self.entries = self.entries[:-dropped]
            self.has_after = True
        return len(page)

    def remove(self, key: str) -> bool:
        """Forget a deleted entry; whether it was in the window."""
        kept = [entry for entry in self.entries if entry.key != key]
        removed = len(kept) != len(self.entries)
        self.entries = kept
        return removed

    def find(self, key: str) -> CacheEntry | None:
        """The entry with `key`, if the window holds it."""
        return next((entry for entry in self.entries if entry.key == key), None)

    def anchor(self, direction: Direction) -> Position | None:
        """Where a page past the given end of the window starts from."""
        if not self.entries or direction == "reset":
            return None
        return position(self.entries[-1] if direction == "after" else self.entries[0])
