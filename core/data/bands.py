"""LSH band hashes of every example, kept in an anonymous temporary file instead of memory.

The band hashes are the largest per-example figures (4 bytes a band: 56 bytes an example at
the default threshold, 56 MB a million examples) and are only needed at the end of a check
and by a split, one band at a time. Each batch is appended band after band, so reading one
band back costs a read per batch, from the page cache once the file has just been written.
"""

from __future__ import annotations

import tempfile
import weakref
from collections.abc import Iterator, Sequence
from typing import BinaryIO, overload

import numpy as np
import numpy.typing as npt

from core.errors import BadInput

UInt32s = npt.NDArray[np.uint32]
_ITEM = np.dtype(np.uint32).itemsize


class BandStore(Sequence[UInt32s]):
    """Band hashes (examples x bands), appended per batch and read back one band at a time.

    As a sequence, item `i` is the hashes of band `i` for every example, in example order.
    """

    def __init__(self, bands: int) -> None:
        self.bands = bands
        self.examples = 0
        self._blocks: list[int] = []  # examples in each appended batch
        self._spill: BinaryIO | None = None

    @property
    def _file(self) -> BinaryIO:
        """The temporary file, created at the first batch (unlinked from the start)."""
        if self._spill is None:
            self._spill = tempfile.TemporaryFile(prefix="tunedeck-bands-")  # noqa: SIM115
            weakref.finalize(self, self._spill.close)  # no leaked descriptor or warning
        return self._spill

    def append(self, hashes: UInt32s) -> None:
        """Append the band hashes (examples x bands) of a batch."""
        if hashes.shape[1] != self.bands:
            raise ValueError(f"expected {self.bands} bands, got {hashes.shape[1]}")
        if not len(hashes):
            return
        try:
            self._file.seek(0, 2)
            self._file.write(np.ascontiguousarray(hashes.T, dtype=np.uint32).tobytes())
        except OSError as error:
            raise BadInput(
                f"temporary file of near-duplicate hashes ({tempfile.gettempdir()}): "
                f"write failed: {error.strerror or error}"
            ) from None
        self._blocks.append(len(hashes))
        self.examples += len(hashes)

    def __len__(self) -> int:
        return self.bands if self.examples else 0

    @overload
    def __getitem__(self, band: int) -> UInt32s: ...

    @overload
    def __getitem__(self, band: slice) -> list[UInt32s]: ...

    def __getitem__(self, band: int | slice) -> UInt32s | list[UInt32s]:
        if isinstance(band, slice):
            return [self[i] for i in range(len(self))[band]]
        if not -len(self) <= band < len(self):
            raise IndexError(f"band {band} out of range")
        return self._read(band % self.bands)

    def __iter__(self) -> Iterator[UInt32s]:
        return (self._read(band) for band in range(len(self)))

    def _read(self, band: int) -> UInt32s:
        column = np.empty(self.examples, dtype=np.uint32)
        start = block = 0
        for count in self._blocks:
            self._file.seek((block + band * count) * _ITEM)
            data = self._file.read(count * _ITEM)
            if len(data) != count * _ITEM:
                raise RuntimeError("the temporary file of band hashes was truncated")
            column[start : start + count] = np.frombuffer(data, dtype=np.uint32)
            start += count
            block += self.bands * count
        return column
