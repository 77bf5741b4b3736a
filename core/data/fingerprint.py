"""Fingerprints of a batch of examples, computed with numpy over all their text at once.

For each example: a 64-bit hash for exact duplicates (its roles and words, so case and
spacing do not matter), a hash of its final answer for repeated boilerplate (0 when shorter
than 5 words), and the hashes of its words, from which near-duplicate shingles are made.

Words are runs of bytes above 0x20 (so ASCII whitespace and control bytes separate them) in
the case-folded UTF-8 text; a word's hash
sums a random 64-bit value per (position in word, byte) and is then mixed (tabulation
hashing), so hashing a batch takes a few passes of numpy over its bytes instead of a Python
call per word. Hashes depend on the text only: equal across runs and machines.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.data.formats import Example

MIN_ANSWER_WORDS = 5  # shorter answers ("Yes.", a label) repeat legitimately
_SEPARATOR = b"\n"
_WORD_POSITIONS = 32
_TABLE = np.random.default_rng(20240718).integers(
    0, 2**64 - 1, size=_WORD_POSITIONS * 256, dtype=np.uint64, endpoint=True
)  # one random value per (position in word % 32, byte)
_CHUNK_BYTES = 256 * 1024
_WHITESPACE = re.compile(rb"[\x00- ]")

UInt32s = npt.NDArray[np.uint32]
UInt64s = npt.NDArray[np.uint64]
Int64s = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Fingerprints:
    """Fingerprints of a batch, aligned with it.

    Attributes:
        exact: per example, the hash of its roles and words (and tool definitions).
        answers: per example, the hash of its final answer's words, or 0.
        words: 32-bit hashes of every word of the batch, example after example.
        word_counts: words of each example.
        folded: the batch's case-folded text, texts separated by newlines (for scanning).
        text_starts: byte offset in `folded` of each text.
        text_examples: the example each text belongs to.
    """

    exact: UInt64s
    answers: UInt64s
    words: UInt32s
    word_counts: Int64s
    folded: bytes
    text_starts: Int64s
    text_examples: Int64s

    def example_words(self, position: int) -> UInt32s:
        """The word hashes of the `position`-th example of the batch."""
        start = int(self.word_counts[:position].sum())
        return self.words[start : start + int(self.word_counts[position])]


def fingerprints(examples: Sequence[Example]) -> Fingerprints:
    """The fingerprints of `examples` (their `texts`, answer and tools)."""
    pieces: list[bytes] = []
    owners: list[int] = []
    for position, example in enumerate(examples):
        for _, _, text in example.texts:
            pieces.append(text.casefold().encode("utf-8", "surrogatepass"))
            owners.append(position)
    folded = _SEPARATOR.join(pieces)
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    text_starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1])).astype(np.int64)
    hashes, word_starts = _word_hashes(folded)
    text_of_word = np.searchsorted(text_starts, word_starts, side="right") - 1
    words_per_text = np.bincount(text_of_word, minlength=len(pieces))
    text_examples = np.array(owners, dtype=np.int64)
    word_counts = np.bincount(text_examples, weights=words_per_text, minlength=len(examples))
    word_counts = word_counts.astype(np.int64)
    exact, answers = _example_hashes(examples, hashes, words_per_text)
    words32 = (hashes ^ (hashes >> np.uint64(32))).astype(np.uint32)
    return Fingerprints(exact, answers, words32, word_counts, folded, text_starts, text_examples)


def chunks(data: bytes, overlap: int = 0) -> Iterator[tuple[int, memoryview]]:
    """`data` in pieces of about 256 KB cut at whitespace, each with its offset.

    Numpy's temporaries over a piece (tens of bytes per byte of text) stay small and in cache.
    With `overlap`, each piece also shows that many bytes of the next one.
    """
    view, begin = memoryview(data), 0
    while begin < len(data):
        end = len(data)
        if begin + _CHUNK_BYTES < end:
            found = _WHITESPACE.search(data, begin + _CHUNK_BYTES)
            end = found.start() if found else end
        yield begin, view[begin : min(end + overlap, len(data))]
        begin = end


def _word_hashes(data: bytes) -> tuple[UInt64s, Int64s]:
    """The hash and starting byte of every word of `data`."""
    hashes, starts = [], []
    for begin, piece in chunks(data):
        piece_hashes, piece_starts = _chunk_word_hashes(piece)
        hashes.append(piece_hashes)
        starts.append(piece_starts + begin)
    if not hashes:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    return np.concatenate(hashes), np.concatenate(starts)


def _chunk_word_hashes(data: memoryview) -> tuple[UInt64s, Int64s]:
    raw = np.frombuffer(data, dtype=np.uint8)
    inside = raw > 32  # ASCII whitespace and control bytes separate words
    starts = inside.copy()
    starts[1:] &= ~inside[:-1]
    word_starts = np.flatnonzero(starts)
    if not len(word_starts):
        return np.empty(0, dtype=np.uint64), word_starts
    letters = np.flatnonzero(inside).astype(np.int32)
    word_of_letter = np.cumsum(starts[letters], dtype=np.int32) - 1
    position = letters - word_starts.astype(np.int32)[word_of_letter]
    position &= _WORD_POSITIONS - 1
    position <<= 8
    position |= raw[letters]
    values = _TABLE.take(position)
    firsts = np.flatnonzero(starts[letters])
    return _mix64(np.add.reduceat(values, firsts)), word_starts


def _mix64(values: UInt64s) -> UInt64s:
    """MurmurHash3's 64-bit finalizer: every input bit affects every output bit."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


def _example_hashes(
    examples: Sequence[Example], hashes: UInt64s, words_per_text: Int64s
) -> tuple[UInt64s, UInt64s]:
    exact = np.zeros(len(examples), dtype=np.uint64)
    answers = np.zeros(len(examples), dtype=np.uint64)
    word_ends = np.cumsum(words_per_text)
    text = word = 0
    for position, example in enumerate(examples):
        count = len(example.texts)
        end = int(word_ends[text + count - 1]) if count else word
        header = [role for _, role, _ in example.texts]
        header.append(",".join(map(str, words_per_text[text : text + count].tolist())))
        if example.tools:
            header.append(json.dumps(example.tools, sort_keys=True, ensure_ascii=False))
        exact[position] = _hash64(
            "\x1f".join(header).encode("utf-8", "surrogatepass"), hashes[word:end]
        )
        if example.answer_text is not None:
            answer = text + example.answer_text
            answer_end = int(word_ends[answer])
            answer_words = int(words_per_text[answer])
            if answer_words >= MIN_ANSWER_WORDS:
                chunk = hashes[answer_end - answer_words : answer_end]
                answers[position] = _hash64(b"", chunk) or 1  # 0 means "no answer"
        text, word = text + count, end
    return exact, answers


def _hash64(header: bytes, words: UInt64s) -> int:
    digest = hashlib.blake2b(header, digest_size=8)
    digest.update(words.tobytes())
    return int.from_bytes(digest.digest(), "little")
