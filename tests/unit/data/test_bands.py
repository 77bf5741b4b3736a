"""Band hashes kept in a temporary file, and the duplicate finders that read them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data.bands import BandStore
from core.data.quality import repeats


def test_bands_read_back_in_example_order_across_batches_of_any_size() -> None:
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 2**32, (size, 5), dtype=np.uint32) for size in (3, 1, 0, 1024, 7)]
    store = BandStore(5)
    for batch in batches:
        store.append(batch)
    whole = np.concatenate(batches)
    assert store.examples == len(whole) and len(store) == 5
    for band, column in enumerate(store):
        assert column.dtype == np.uint32
        assert np.array_equal(column, whole[:, band])
    assert np.array_equal(store[-1], whole[:, 4])
    assert [list(c) for c in store[1:3]] == [list(whole[:, 1]), list(whole[:, 2])]
    with pytest.raises(IndexError):
        store[5]


def test_an_empty_store_has_no_bands_and_a_wrong_shape_is_refused() -> None:
    store = BandStore(3)
    assert len(store) == 0 and list(store) == []
    with pytest.raises(ValueError, match="expected 3 bands"):
        store.append(np.zeros((2, 4), dtype=np.uint32))


def reference_repeats(hashes: list[int], members: list[int]) -> list[tuple[int, int, int]]:
    first: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for member in members:
        if hashes[member]:
            first.setdefault(hashes[member], member)
            sizes[hashes[member]] = sizes.get(hashes[member], 0) + 1
    found = [(m, first[hashes[m]], sizes[hashes[m]]) for m in members if hashes[m]]
    later = [row for row in found if row[0] != row[1]]
    return sorted(later, key=lambda row: (hashes[row[0]], row[0]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=40), st.integers(0, 2**32 - 1), st.booleans())
def test_repeats_equal_a_dictionary_reference(values: list[int], seed: int, all_: bool) -> None:
    hashes = np.array(values, dtype=np.uint64)
    rng = np.random.default_rng(seed)
    members = np.arange(len(values)) if all_ else np.flatnonzero(rng.random(len(values)) < 0.7)
    later, first, sizes = repeats(hashes, None if all_ else members)
    got = list(zip(later.tolist(), first.tolist(), sizes.tolist(), strict=True))
    assert got == reference_repeats(values, members.tolist())
