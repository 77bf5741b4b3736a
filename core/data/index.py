"""Per-example facts of a checked file in compact arrays (38 bytes an example in memory, and
4 bytes a band in a temporary file).

This is what `clean` and `split` work from after a check, and what keeps a check of a
multi-gigabyte file within a few hundred megabytes: no example is kept, only its numbers.
"""

from __future__ import annotations

from array import array

import numpy as np
import numpy.typing as npt

from core.data.bands import BandStore

_MAX_MESSAGES = 0xFFFF


class ExampleIndex:
    """The valid examples of a file, in file order; position `i` is the `i`-th valid example.

    Attributes:
        lines, offsets: where each example is in the file (1-based line, byte offset).
        tokens: tokens of its longest trained sequence, chat framing included.
        trained: tokens of its trained assistant messages.
        messages: number of messages (capped at 65,535).
        exact, answers: 64-bit normalised hashes of the example and of its final answer.
        bands: the 32-bit LSH band hashes, one band at a time (in a temporary file).
        keys: id of the stratification value of each example (`key_names[id]`), when asked.
    """

    def __init__(self, bands: int) -> None:
        self.lines = array("I")
        self.offsets = array("Q")
        self.tokens = array("I")
        self.trained = array("I")
        self.messages = array("H")
        self.exact = array("Q")
        self.answers = array("Q")
        self.bands = BandStore(bands)
        self.keys = array("I")
        self.key_names: list[str | None] = []
        self._key_ids: dict[str | None, int] = {}

    def __len__(self) -> int:
        return len(self.lines)

    def add(
        self,
        line: int,
        offset: int,
        messages: int,
        exact: int,
        answer: int,
    ) -> None:
        """Append an example's position and hashes (tokens and bands come per batch)."""
        self.lines.append(line)
        self.offsets.append(offset)
        self.messages.append(min(messages, _MAX_MESSAGES))
        self.exact.append(exact)
        self.answers.append(answer)

    def add_key(self, value: str | None) -> None:
        """Append the stratification value of the example just added."""
        key_id = self._key_ids.get(value)
        if key_id is None:
            key_id = self._key_ids[value] = len(self.key_names)
            self.key_names.append(value)
        self.keys.append(key_id)

    def add_bands(self, bands: npt.NDArray[np.uint32]) -> None:
        """Append the band hashes (examples x bands) of a batch."""
        self.bands.append(bands)

    def band_columns(self) -> BandStore:
        """The band hashes as a sequence of arrays, one per band, each read when asked for."""
        return self.bands

    def column(self, name: str) -> npt.NDArray[np.generic]:
        """A zero-copy numpy view of one of the arrays (`tokens`, `exact`...)."""
        values: array[int] = getattr(self, name)
        return np.frombuffer(values, dtype=values.typecode) if len(values) else np.empty(0)
