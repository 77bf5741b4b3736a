"""MinHash signatures (equal to datasketch's), LSH candidates and exact verification."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from core.data.neardup import MinHasher, cross_pairs, jaccard, shingles, verify, within_pairs


def random_words(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, 2**32, count, dtype=np.uint32)


def test_signatures_equal_datasketch_minhash_on_the_same_shingles() -> None:
    rng = np.random.default_rng(0)
    lists = [random_words(rng, n) for n in (0, 1, 2, 3, 10, 500, 0, 7, 9000, 4)]
    hasher = MinHasher(0.8)
    signatures = hasher.signatures(np.concatenate(lists), np.array([len(x) for x in lists]))
    for words, signature in zip(lists, signatures, strict=True):
        reference = MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=int)
        reference.update_batch(shingles(words).tolist())
        assert np.array_equal(reference.hashvalues, signature)


def test_bands_follow_datasketch_for_the_threshold() -> None:
    for threshold in (0.5, 0.8, 0.95):
        hasher = MinHasher(threshold)
        lsh = MinHashLSH(threshold=threshold, num_perm=128, weights=(0.1, 0.9))
        assert (hasher.bands, hasher.rows) == (lsh.b, lsh.r)
        assert hasher.bands * hasher.rows <= 128


def test_planted_near_duplicates_become_verified_pairs_and_others_do_not() -> None:
    rng = np.random.default_rng(1)
    lists = [random_words(rng, 200) for _ in range(300)]
    near = lists[10].copy()
    near[100] = 7  # one word changed: 3 of ~200 shingles differ
    lists.append(near)
    half = lists[20].copy()
    half[:100] = random_words(rng, 100)  # half rewritten: similarity ~0.33
    lists.append(half)
    hasher = MinHasher(0.8)
    words, counts = np.concatenate(lists), np.array([len(x) for x in lists])
    bands = hasher.band_hashes(hasher.signatures(words, counts))
    columns = [bands[:, band] for band in range(hasher.bands)]
    pairs = within_pairs(columns, np.arange(len(lists)))
    sets = [shingles(x) for x in lists]
    matches = verify(pairs, lambda i: sets[i], 0.8)
    assert [(a, b) for a, b, _ in matches] == [(10, 300)]
    assert matches[0][2] == pytest.approx(jaccard(sets[10], sets[300]))
    assert 0.95 < matches[0][2] < 1


def test_cross_pairs_only_pair_the_right_side_with_the_left() -> None:
    rng = np.random.default_rng(2)
    base = random_words(rng, 100)
    lists = [base, random_words(rng, 100), base.copy(), base.copy()]
    hasher = MinHasher(0.8)
    bands = hasher.band_hashes(
        hasher.signatures(np.concatenate(lists), np.array([len(x) for x in lists]))
    )
    columns = [bands[:, band] for band in range(hasher.bands)]
    pairs = cross_pairs(columns, left=np.array([1, 2]), right=np.array([0, 3]))
    assert pairs.tolist() == [[2, 0], [2, 3]]


def test_an_example_without_words_is_never_a_candidate() -> None:
    hasher = MinHasher(0.8)
    bands = hasher.band_hashes(hasher.signatures(np.empty(0, np.uint32), np.array([0, 0])))
    assert not bands.any()
    columns = [bands[:, band] for band in range(hasher.bands)]
    assert within_pairs(columns, np.arange(2)).shape == (0, 2)


def test_jaccard_is_exact() -> None:
    left = np.array([1, 2, 3, 4], dtype=np.uint32)
    right = np.array([3, 4, 5], dtype=np.uint32)
    assert jaccard(left, right) == 2 / 5
    assert jaccard(left[:0], right[:0]) == 1.0
