"""MinHash signatures (equal to datasketch's), LSH candidates and exact verification."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from datasketch.lsh import _optimal_param
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data.neardup import (
    MinHasher,
    cross_pairs,
    jaccard,
    lsh_layout,
    permutations,
    shingles,
    verify,
    within_pairs,
)


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


def test_permutations_are_datasketchs_for_any_seed() -> None:
    for seed, num_perm in ((1, 128), (2, 64), (12345, 256)):
        a, b = permutations(num_perm, seed)
        expected = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        assert a.dtype == b.dtype == np.uint32
        assert np.array_equal(a, expected[0]) and np.array_equal(b, expected[1])


@pytest.mark.parametrize("weights", [(0.1, 0.9), (0.5, 0.5), (0.9, 0.1)])
def test_the_band_layout_is_datasketchs_across_thresholds(weights: tuple[float, float]) -> None:
    for threshold in [*np.round(np.arange(0.05, 1.0, 0.05), 2).tolist(), 0.97, 0.99, 1.0]:
        try:
            lsh = MinHashLSH(threshold=threshold, num_perm=128, weights=weights)
            expected = (lsh.b, lsh.r)
        except ValueError:  # MinHashLSH refuses a single band, which near 1 is the best
            expected = _optimal_param(threshold, 128, *weights)
            assert expected[0] == 1
        assert lsh_layout(threshold, 128, *weights) == expected, threshold


def test_a_check_loads_neither_datasketch_nor_scipy(tmp_path: Path) -> None:
    """datasketch's LSH module imports scipy: ~55 MB of memory and ~1 s for two parameters."""
    path = tmp_path / "f.jsonl"
    messages = [{"role": "user", "content": "a b c"}, {"role": "assistant", "content": "d"}]
    path.write_text(json.dumps({"messages": messages}) + "\n")
    code = (
        "import sys; from core.data import check_file; check_file(sys.argv[1]);"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'datasketch', 'scipy'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[3],
    )
    assert done.stdout.strip() == "[]"


def reference_within(bands: list[np.ndarray], members: np.ndarray) -> set[tuple[int, int]]:
    """Bucket by bucket with dicts: each later member paired with the earliest one."""
    pairs = set()
    for hashes in bands:
        earliest: dict[int, int] = {}
        for member in sorted(members.tolist()):
            value = int(hashes[member])
            if value == 0:
                continue
            if value in earliest:
                pairs.add((earliest[value], member))
            else:
                earliest[value] = member
    return pairs


def reference_cross(
    bands: list[np.ndarray], left: np.ndarray, right: np.ndarray
) -> set[tuple[int, int]]:
    pairs = set()
    for hashes in bands:
        earliest: dict[int, int] = {}
        for member in sorted(left.tolist(), reverse=True):
            if hashes[member]:
                earliest[int(hashes[member])] = member
        for member in right.tolist():
            partner = earliest.get(int(hashes[member]))
            if hashes[member] and partner is not None:
                pairs.add((partner, member))
    return pairs


def by_later(pairs: set[tuple[int, int]]) -> list[list[int]]:
    return [list(pair) for pair in sorted(pairs, key=lambda pair: (pair[1], pair[0]))]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.integers(1, 4), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_candidate_pairs_equal_a_bucket_by_bucket_reference(
    count: int, band_count: int, distinct: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    # Few distinct values (0 among them: no words), so that buckets hold several examples.
    bands = [rng.integers(0, distinct, count, dtype=np.uint32) for _ in range(band_count)]
    members = np.flatnonzero(rng.random(count) < 0.8)
    within = within_pairs(bands, members)
    assert within.dtype == np.int64
    assert within.tolist() == by_later(reference_within(bands, members))
    side = rng.random(count) < 0.5
    left, right = np.flatnonzero(side), np.flatnonzero(~side)
    cross = cross_pairs(bands, left, right)
    assert cross.tolist() == by_later(reference_cross(bands, left, right))
