"""Near-duplicates: MinHash signatures of word 3-gram shingles, LSH banding, exact verification.

The permutations, the hashing scheme ("affine32") and the LSH band layout (`b` bands of `r`
rows, chosen for the similarity threshold) are datasketch's: `MinHash` and `MinHashLSH` give
them, and a unit test checks that the signatures here equal `MinHash.update_batch` on the same
shingles. Signatures are computed for a batch of examples at once with numpy, about 3x faster
than one `MinHash` per example, and the buckets are kept as compact arrays of band hashes (8
bytes a band an example) instead of a `MinHashLSH` index, which was measured at ~3.6 KB an
example: 3.6 GB for a million examples.

Candidates sharing a band are verified with the exact Jaccard similarity of their shingle sets,
so the threshold means what it says and the result does not depend on hashing luck beyond
recall.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

NUM_PERM = 128
SEED = 1
_CHUNK_SHINGLES = 8192  # keeps the (permutations x shingles) matrix in cache: ~4 MB
_EMPTY_BAND = 0
_PAD = np.zeros(2, dtype=np.uint32)
_U32 = np.uint32
_MIX64 = np.uint64(0x9E3779B97F4A7C15)
_NO_PARTNER = np.iinfo(np.int64).max
_WEIGHTS = (0.1, 0.9)  # false positives, false negatives

UInt32s = npt.NDArray[np.uint32]
Indexes = npt.NDArray[np.int64]
Int64s = npt.NDArray[np.int64]


def shingles(words: UInt32s) -> UInt32s:
    """Shingle hashes of one example: each run of 3 words (the last two padded), deduplicated."""
    padded = np.concatenate((words, _PAD))
    return np.unique(_trigrams(padded)[: len(words)])


def _trigrams(words: UInt32s) -> UInt32s:
    first, second, third = words[:-2], words[1:-1], words[2:]
    return ((first * _U32(0x9E3779B1)) ^ second) * _U32(0x85EBCA77) ^ third


def _fmix32(values: UInt32s) -> UInt32s:
    """MurmurHash3's finalizer, the pre-mix of datasketch's affine32 scheme."""
    values = values ^ (values >> _U32(16))
    values = values * _U32(0x85EBCA6B)
    values = values ^ (values >> _U32(13))
    values = values * _U32(0xC2B2AE35)
    return values ^ (values >> _U32(16))


def jaccard(left: UInt32s, right: UInt32s) -> float:
    """Exact Jaccard similarity of two deduplicated shingle sets."""
    if not len(left) and not len(right):
        return 1.0
    common = len(np.intersect1d(left, right, assume_unique=True))
    return common / (len(left) + len(right) - common)


class MinHasher:
    """Band hashes of examples, for a Jaccard `threshold`, with datasketch's parameters."""

    def __init__(self, threshold: float, num_perm: int = NUM_PERM, seed: int = SEED) -> None:
        from datasketch import MinHash, MinHashLSH

        # Missing a near-duplicate costs more than a false candidate, which the exact check
        # rejects: weigh false negatives 9 to 1 (at 0.8, 14 bands of 9 rows instead of 9 of 13:
        # a pair at the threshold is found 87% of the time instead of 40%, one at 0.9 99.9%).
        lsh: Any = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=_WEIGHTS)
        self.threshold = threshold
        self.bands: int = lsh.b
        self.rows: int = lsh.r
        permutations = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        self._a = np.ascontiguousarray(permutations[0], dtype=np.uint32)[:, None]
        self._b = np.ascontiguousarray(permutations[1], dtype=np.uint32)[:, None]
        self.num_perm = num_perm

    def signatures(self, words: UInt32s, counts: Int64s) -> UInt32s:
        """MinHash signatures (examples x num_perm) of a batch.

        Args:
            words: the word hashes of every example, one example after the other.
            counts: how many words each example has.

        An example without words gets datasketch's empty signature (every value 2^32 - 1).
        """
        result = np.full((len(counts), self.num_perm), np.iinfo(np.uint32).max, np.uint32)
        ends = np.cumsum(counts)
        first = 0
        while first < len(counts):
            start = int(ends[first - 1]) if first else 0
            last = int(np.searchsorted(ends, start + _CHUNK_SHINGLES, side="right"))
            last = max(last, first + 1)
            self._fill(words[start : int(ends[last - 1])], counts[first:last], result[first:last])
            first = last
        return result

    def _fill(self, words: UInt32s, counts: Int64s, out: UInt32s) -> None:
        filled = np.flatnonzero(counts)
        if not len(filled):
            return
        # Each example's words followed by two pads, so that its trigrams never cross into the
        # next example: the trigram at position p of an example starts at its run start + p.
        run_starts = np.concatenate(([0], np.cumsum(counts + 2)[:-1]))
        firsts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        padded = np.zeros(int(counts.sum()) + 2 * len(counts) + 2, dtype=np.uint32)
        placed = np.arange(len(words)) + np.repeat(run_starts - firsts, counts)
        padded[placed] = words
        mixed = _fmix32(_trigrams(padded)[placed])
        permuted = mixed[None, :] * self._a + self._b
        out[filled] = np.minimum.reduceat(permuted, firsts[filled], axis=1).T

    def band_hashes(self, signatures: UInt32s) -> UInt32s:
        """One 32-bit hash per band (examples x bands); 0 for an example without words.

        32 bits keep the index at 4 bytes a band; a chance collision only adds a candidate,
        which the exact verification then rejects.
        """
        count = len(signatures)
        bands = np.empty((count, self.bands), dtype=np.uint32)
        for band in range(self.bands):
            value = np.full(count, band + 1, dtype=np.uint64)
            for column in range(band * self.rows, (band + 1) * self.rows):
                value = (value ^ signatures[:, column].astype(np.uint64)) * _MIX64
            bands[:, band] = (value >> np.uint64(32)).astype(np.uint32)
        bands[bands == _EMPTY_BAND] = 1  # 0 is kept for "no words"
        bands[(signatures == np.iinfo(np.uint32).max).all(axis=1)] = _EMPTY_BAND
        return bands


def _sorted_buckets(hashes: UInt32s, members: Indexes) -> tuple[Indexes, Indexes]:
    """`members` ordered by (hash, index), and the bucket number of each."""
    members = members[hashes[members] != _EMPTY_BAND]
    ordered = members[np.argsort(hashes[members], kind="stable")]
    values = hashes[ordered]
    starts = np.concatenate(([True], values[1:] != values[:-1])) if len(values) else values == 0
    return ordered, np.cumsum(starts) - 1


def within_pairs(bands: Sequence[UInt32s], members: Indexes) -> Indexes:
    """Candidate pairs (earlier, later) among `members`: each later example of a bucket is
    paired with the bucket's earliest one, band by band; rows unique, sorted by later."""
    found = []
    for hashes in bands:
        ordered, bucket = _sorted_buckets(hashes, members)
        if not len(ordered):
            continue
        first = np.concatenate(([0], np.flatnonzero(np.diff(bucket)) + 1))
        earliest = ordered[first][bucket]
        later = ordered != earliest
        found.append(np.stack((earliest[later], ordered[later]), axis=1))
    return _unique_pairs(found)


def cross_pairs(bands: Sequence[UInt32s], left: Indexes, right: Indexes) -> Indexes:
    """Candidate pairs (left, right): each `right` example of a bucket is paired with the
    earliest `left` example of that bucket, band by band; rows unique, sorted by right."""
    found = []
    side = np.zeros(len(bands[0]) if bands else 0, dtype=np.int8)
    side[right] = 1
    members = np.sort(np.concatenate((left, right)))
    for hashes in bands:
        ordered, bucket = _sorted_buckets(hashes, members)
        if not len(ordered):
            continue
        is_left = side[ordered] == 0
        # The earliest left member of each bucket (buckets without one keep the sentinel).
        first_left = np.full(bucket[-1] + 1, _NO_PARTNER, dtype=np.int64)
        np.minimum.at(first_left, bucket[is_left], ordered[is_left])
        partner = first_left[bucket]
        keep = ~is_left & (partner != _NO_PARTNER)
        found.append(np.stack((partner[keep], ordered[keep]), axis=1))
    return _unique_pairs(found)


def _unique_pairs(found: list[Indexes]) -> Indexes:
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.unique(np.concatenate(found), axis=0)
    return pairs[np.lexsort((pairs[:, 0], pairs[:, 1]))]


def verify(
    pairs: Indexes, shingles_of: Callable[[int], UInt32s], threshold: float
) -> list[tuple[int, int, float]]:
    """For each later example of `pairs`, its first partner at least `threshold` similar.

    Returns `(partner, example, similarity)` triples in the order of the examples.
    """
    matches: list[tuple[int, int, float]] = []
    done = -1
    for partner, example in pairs.tolist():
        if example == done:
            continue
        similarity = jaccard(shingles_of(partner), shingles_of(example))
        if similarity >= threshold:
            matches.append((partner, example, similarity))
            done = example
    return matches
