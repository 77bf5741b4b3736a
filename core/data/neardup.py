"""Near-duplicates: MinHash signatures of word 3-gram shingles, LSH banding, exact verification.

The permutations, the hashing scheme ("affine32") and the LSH band layout (`b` bands of `r`
rows, chosen for the similarity threshold) are datasketch's (2.x `MinHash` and `MinHashLSH`),
computed here the same way so that a check does not import datasketch, whose LSH module loads
scipy (~55 MB of memory and ~1 s): unit tests check that the permutations, the band layout
over a grid of thresholds and the signatures equal datasketch's. Signatures are computed for a
batch of examples at once with numpy, about 3x faster than one `MinHash` per example, and the
buckets are kept as compact arrays of band hashes (4 bytes a band an example) instead of a
`MinHashLSH` index, which was measured at ~3.6 KB an example: 3.6 GB for a million examples.

Candidates sharing a band are verified with the exact Jaccard similarity of their shingle sets,
so the threshold means what it says and the result does not depend on hashing luck beyond
recall.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt

NUM_PERM = 128
SEED = 1
_CHUNK_SHINGLES = 8192  # keeps the (permutations x shingles) matrix in cache: ~4 MB
_EMPTY_BAND = 0
_PAD = np.zeros(2, dtype=np.uint32)
_U32 = np.uint32
_MIX64 = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_HIGH32 = ~_LOW32
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


def permutations(num_perm: int, seed: int) -> tuple[UInt32s, UInt32s]:
    """The affine permutations `a * h + b` (mod 2^32, `a` odd) of datasketch's
    `MinHash(num_perm, seed, scheme="affine32")`, drawn from the same random stream."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * _U32(2) + _U32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def lsh_layout(
    threshold: float, num_perm: int, false_positive_weight: float, false_negative_weight: float
) -> tuple[int, int]:
    """Bands and rows minimising the weighted probabilities of false positives and negatives
    at `threshold`, as datasketch's `MinHashLSH` chooses them.

    The probabilities are integrals of polynomials of degree `b * r <= num_perm`, which
    Gauss-Legendre quadrature with `num_perm // 2 + 1` nodes computes exactly (datasketch
    uses scipy's adaptive `quad`); ties go to the first layout in datasketch's order.
    """
    layouts = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    bands = np.array([b for b, _ in layouts], dtype=np.float64)[:, None]
    rows = np.array([r for _, r in layouts], dtype=np.float64)[:, None]
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)

    def missed(low: float, high: float) -> npt.NDArray[np.float64]:
        """The integral over [low, high] of P(a pair of similarity s shares no band)."""
        similarity = (high - low) / 2 * nodes + (high + low) / 2
        never = (1 - similarity[None, :] ** rows) ** bands
        return never @ weights * ((high - low) / 2)

    false_positives = threshold - missed(0.0, threshold)
    false_negatives = missed(threshold, 1.0)
    error = false_positives * false_positive_weight + false_negatives * false_negative_weight
    return layouts[int(np.argmin(error))]


class MinHasher:
    """Band hashes of examples, for a Jaccard `threshold`, with datasketch's parameters."""

    def __init__(self, threshold: float, num_perm: int = NUM_PERM, seed: int = SEED) -> None:
        # Missing a near-duplicate costs more than a false candidate, which the exact check
        # rejects: weigh false negatives 9 to 1 (at 0.8, 14 bands of 9 rows instead of 9 of 13:
        # a pair at the threshold is found 87% of the time instead of 40%, one at 0.9 99.9%).
        self.threshold = threshold
        self.bands, self.rows = lsh_layout(threshold, num_perm, *_WEIGHTS)
        a, b = permutations(num_perm, seed)
        self._a, self._b = a[:, None], b[:, None]
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


def _band_keys(hashes: UInt32s, members: Indexes) -> npt.NDArray[np.uint64]:
    """`hash << 32 | example` of each of `members` with words, sorted: by bucket, then by
    example (8 bytes a member, where an argsort and its gathers would take 20 or more)."""
    values = hashes[members]
    kept = values != _EMPTY_BAND
    keys: npt.NDArray[np.uint64] = values[kept].astype(np.uint64)
    del values
    keys <<= _SHIFT
    keys |= members[kept].astype(np.uint64)
    keys.sort()
    return keys


def _examples_of(keys: npt.NDArray[np.uint64]) -> Indexes:
    return (keys & _LOW32).astype(np.int64)


def within_pairs(bands: Iterable[UInt32s], members: Indexes) -> Indexes:
    """Candidate pairs (earliest, later) among `members`: each later example of a bucket is
    paired with the bucket's earliest one, band by band; rows unique, sorted by later."""
    found = []
    for hashes in bands:
        keys = _band_keys(hashes, members)
        buckets = keys >> _SHIFT
        later = np.flatnonzero(buckets[1:] == buckets[:-1]) + 1
        del buckets
        if len(later):
            earliest = np.searchsorted(keys, keys[later] & _HIGH32)  # first key of the bucket
            found.append(np.stack((_examples_of(keys[earliest]), _examples_of(keys[later])), 1))
    return _unique_pairs(found)


def cross_pairs(bands: Iterable[UInt32s], left: Indexes, right: Indexes) -> Indexes:
    """Candidate pairs (left, right): each `right` example of a bucket is paired with the
    earliest `left` example of that bucket, band by band; rows unique, sorted by right."""
    found = []
    for hashes in bands:
        keys = _band_keys(hashes, left)
        if not len(keys):
            continue
        values = hashes[right]
        kept = values != _EMPTY_BAND
        probes, examples = values[kept].astype(np.uint64) << _SHIFT, right[kept]
        at = np.minimum(np.searchsorted(keys, probes), len(keys) - 1)
        partner = keys[at]
        shared = (partner & _HIGH32) == probes
        found.append(np.stack((_examples_of(partner[shared]), examples[shared]), 1))
    return _unique_pairs(found)


def _unique_pairs(found: list[Indexes]) -> Indexes:
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.unique(np.concatenate(found).astype(np.int64, copy=False), axis=0)
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
