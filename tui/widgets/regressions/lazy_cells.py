"""A row's cells as DataTable keeps them, made when first read.

A page put in a table holds 100-200 rows, of which a frame shows ~15: making every row's
cells at once (~0.1 ms a row) would hold back the frame that shows the first of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from textual.widgets.data_table import ColumnKey


class LazyCells(dict[ColumnKey, Any]):
    """A row's cells by column key, as DataTable keeps them, made by `make` (one per column,
    in order) when first read. A cell set before (`update_cell`) is kept."""

    def __init__(self, columns: tuple[ColumnKey, ...], make: Callable[[], Sequence[Any]]):
        super().__init__()
        self._columns = columns
        self._make: Callable[[], Sequence[Any]] | None = make

    def made(self) -> bool:
        """Whether the cells are made."""
        return self._make is None

    def _fill(self) -> None:
        make = self._make
        if make is None:
            return
        cells = list(zip(self._columns, make(), strict=True))  # raises: still to be made
        self._make = None
        for column, cell in cells:
            self.setdefault(column, cell)

    def __missing__(self, key: ColumnKey) -> Any:
        if self._make is None:
            raise KeyError(key)
        self._fill()
        return dict.__getitem__(self, key)

    def get(self, key: ColumnKey, default: Any = None) -> Any:
        self._fill()
        return dict.get(self, key, default)

    def __iter__(self) -> Iterator[ColumnKey]:
        self._fill()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._fill()
        return dict.__len__(self)

    def __contains__(self, key: object) -> bool:
        self._fill()
        return dict.__contains__(self, key)

    def values(self) -> Any:
        self._fill()
        return dict.values(self)

    def items(self) -> Any:
        self._fill()
        return dict.items(self)

    def keys(self) -> Any:
        self._fill()
        return dict.keys(self)

    def __delitem__(self, key: ColumnKey) -> None:
        self._fill()
        dict.__delitem__(self, key)

    def pop(self, key: ColumnKey, *default: Any) -> Any:
        self._fill()
        return dict.pop(self, key, *default)

    def copy(self) -> dict[ColumnKey, Any]:
        self._fill()
        return dict(dict.items(self))
