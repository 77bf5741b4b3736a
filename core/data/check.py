"""`check_file`: read a training file once, as a stream, and report every problem by line.

Lines are parsed and validated on the calling thread; each batch of examples then becomes
three tasks for two worker threads (the token counts of each half, and the fingerprints,
safety scan and MinHash of the whole), while the next batches are parsed (tiktoken and numpy
release the GIL, so both cores work). Two batches are in flight, so that a worker that ends
its part of one batch starts on the next instead of waiting for the other. Duplicates,
near-duplicates, repeated answers and outliers are found at the end from compact per-example
arrays. Memory stays flat but for those arrays (38 bytes an example, and the band hashes in a
temporary file).

Usable from a Textual thread worker: `progress` is called every 1,024 lines and per phase,
and setting `cancel` stops the check with `CheckCancelled` at the next such point.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from core.data.across import (
    boilerplate_answers,
    exact_duplicates,
    length_outliers,
    near_duplicates,
)
from core.data.contexts import training_context
from core.data.counting import BatchTokens, TokenCounter
from core.data.examples import ExampleReader, parse_object, to_example
from core.data.fingerprint import fingerprints
from core.data.formats import FORMATS, Example, detect
from core.data.formats import key_value as _key_value
from core.data.index import ExampleIndex
from core.data.neardup import MinHasher, UInt32s
from core.data.problems import Problem, ProblemList
from core.data.quality import refusal
from core.data.reader import DEFAULT_MAX_LINE_BYTES, LineReader, RawLine
from core.data.report import CheckReport, summarize
from core.data.safety import scan
from core.data.stats import MAX_EPOCHS
from core.errors import BadInput

DEFAULT_MODEL = "gpt-4o-mini"
_TICK_LINES = 1024
_BATCH_BYTES = 4 * 1024 * 1024  # of lines per batch: three batches are held at once
_IN_FLIGHT = 2  # batches analysed at once (see the module docstring)


class CheckCancelled(Exception):
    """The check was cancelled: its `cancel` event was set."""


@dataclass(frozen=True)
class CheckOptions:
    """How to check a file.

    Attributes:
        model: model whose tokenizer, chat framing and training context apply.
        max_tokens: training context to check against, instead of the model's.
        format: force `chat`, `preference` or `completion` instead of detecting it.
        near_duplicates: look for near-duplicates (MinHash/LSH).
        near_threshold: Jaccard similarity of word 3-grams from which two examples are
            near-duplicates.
        max_line_bytes: longer lines are reported as too long, never read whole.
        max_problems: problems detailed (all are counted).
        stratify_by: dotted key whose value is recorded per example, for a stratified split.
        epochs: epochs of the cost estimate, instead of the heuristic.
        batch_size: examples tokenized together.
    """

    model: str = DEFAULT_MODEL
    max_tokens: int | None = None
    format: str | None = None
    near_duplicates: bool = True
    near_threshold: float = 0.8
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_problems: int = 100_000
    stratify_by: str | None = None
    epochs: int | None = None
    batch_size: int = 1024

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in FORMATS:
            raise BadInput(f"format {self.format!r}: expected one of {', '.join(FORMATS)}")
        if not 0 < self.near_threshold <= 1:
            raise BadInput(f"threshold {self.near_threshold}: must be above 0 and at most 1")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise BadInput(f"max tokens {self.max_tokens}: must be at least 1")
        if self.epochs is not None and not 1 <= self.epochs <= MAX_EPOCHS:
            raise BadInput(f"epochs {self.epochs}: must be between 1 and {MAX_EPOCHS}")
        if self.max_line_bytes < 1 or self.batch_size < 1 or self.max_problems < 0:
            raise BadInput("max line bytes, batch size and max problems must be positive")


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a check is: `phase` is `reading`, `duplicates` or `done`."""

    phase: str
    bytes_read: int
    total_bytes: int
    lines: int
    examples: int


ProgressCallback = Callable[[Progress], None]


def check_file(
    path: Path | str,
    options: CheckOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> CheckReport:
    """Check a JSONL training file and return its report.

    Raises:
        BadInput: the file cannot be opened or read (missing, a directory, no permission).
        CheckCancelled: `cancel` was set.
    """
    return _Checker(Path(path), options or CheckOptions(), progress, cancel).run()


@contextmanager
def open_input(path: Path) -> Iterator[BinaryIO]:
    """Open `path` for reading in binary; an OS error becomes one `BadInput` line."""
    try:
        file = path.open("rb")
    except OSError as error:
        raise BadInput(f"{path}: cannot be read: {error.strerror or error}") from None
    try:
        yield file
    except OSError as error:
        raise BadInput(f"{path}: read failed: {error.strerror or error}") from None
    finally:
        file.close()


@dataclass(frozen=True)
class _Analysis:
    """What the text worker found in a batch."""

    exact: npt.NDArray[np.uint64]
    answers: npt.NDArray[np.uint64]
    bands: UInt32s | None
    problems: list[Problem]


@dataclass(frozen=True)
class _Pending:
    """A batch being analysed on the workers: the token counts of its halves, and the rest."""

    batch: list[Example]
    tokens: tuple[Future[BatchTokens], Future[BatchTokens]]
    analysis: Future[_Analysis]

    def cancel(self) -> None:
        """Drop the tasks that have not started."""
        for future in (*self.tokens, self.analysis):
            future.cancel()


def _refusals(batch: list[Example]) -> list[Problem]:
    found = []
    for example in batch:
        match = refusal(example.answer)
        if match is not None:
            message = f"refusal in the answer: {' '.join(match.group(0).split())!r}"
            found.append(
                Problem(example.line, "refusal", message, example.answer_where, match.span())
            )
    return found


class _Checker:
    def __init__(
        self,
        path: Path,
        options: CheckOptions,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> None:
        self.path, self.options = path, options
        self._progress, self._cancel = progress, cancel
        self.counter = TokenCounter(options.model)
        self.hasher = MinHasher(options.near_threshold) if options.near_duplicates else None
        self.index = ExampleIndex(self.hasher.bands if self.hasher else 0)
        self.problems = ProblemList(options.max_problems)
        self.format = options.format
        self.context = options.max_tokens or training_context(options.model)
        self.tokens_exact = True
        self.timings: dict[str, float] = defaultdict(float)
        self._timings_lock = threading.Lock()  # workers add their times concurrently
        self._size = 0
        self._lines = 0

    def run(self) -> CheckReport:
        started = time.perf_counter()
        if self.path.is_dir():
            raise BadInput(f"{self.path}: is a directory, not a file")
        with open_input(self.path) as file, ThreadPoolExecutor(2, "tunedeck-check") as pool:
            self._size = os.fstat(file.fileno()).st_size
            reader = LineReader(file, self.options.max_line_bytes)
            self._read(reader, pool)
        lines = self._lines
        if lines == 0:
            self.problems.add(Problem(1, "empty_file", "the file is empty: no examples"))
        self._tick("duplicates", reader, lines)
        self._find_across()
        self.timings["total"] = time.perf_counter() - started
        self._tick("done", reader, lines)
        return self._report(reader, lines)

    def _read(self, reader: LineReader, pool: ThreadPoolExecutor) -> None:
        started = time.perf_counter()
        batch: list[Example] = []
        size = 0
        pending: deque[_Pending] = deque()
        try:
            for raw in reader:
                self._lines = raw.number
                example = self._example(raw)
                if example is not None:
                    batch.append(example)
                    size += raw.size
                if len(batch) >= self.options.batch_size or size >= _BATCH_BYTES:
                    self._submit(pool, pending, batch)
                    batch, size = [], 0
                if raw.number % _TICK_LINES == 0:
                    self._tick("reading", reader, raw.number)
            self._submit(pool, pending, batch)
            while pending:
                self._merge(pending.popleft())
        finally:
            for left in pending:  # cancelled or failed: do not wait for the rest
                left.cancel()
        self.timings["read"] = time.perf_counter() - started

    def _example(self, raw: RawLine) -> Example | None:
        if raw.too_long:
            cap = self.options.max_line_bytes
            message = f"line too long: {raw.length:,} bytes, over the {cap:,}-byte limit"
            self.problems.add(Problem(raw.number, "line_too_long", message))
            return None
        obj, problem = parse_object(raw.data, raw.number)
        if obj is None:
            assert problem is not None
            self.problems.add(problem)
            return None
        if self.format is None:
            self.format = detect(obj)
        example, problems = to_example(obj, self.format, raw.number, raw.offset)
        if example is None:
            self.problems.extend(problems)
            return None
        if self.options.stratify_by:
            example.key = _key_value(obj, self.options.stratify_by)
        return example

    def _submit(
        self, pool: ThreadPoolExecutor, pending: deque[_Pending], batch: list[Example]
    ) -> None:
        """Start analysing `batch`, after merging the oldest batches in flight: at most
        `_IN_FLIGHT` at once, merged in file order, so memory stays bounded."""
        while len(pending) >= _IN_FLIGHT:
            self._merge(pending.popleft())
        if not batch:
            return
        middle = (len(batch) + 1) // 2
        first = pool.submit(self._count, batch[:middle])
        analysis = pool.submit(self._analyze, batch)
        second = pool.submit(self._count, batch[middle:])
        pending.append(_Pending(batch, (first, second), analysis))

    def _count(self, batch: list[Example]) -> BatchTokens:
        started = time.perf_counter()
        counted = self.counter.count(batch, parallel=False)  # the workers are the threads
        self._add_time("tokens", started)
        return counted

    def _add_time(self, phase: str, started: float) -> None:
        """Add the time since `started` to `phase` (worker time, summed over the workers)."""
        elapsed = time.perf_counter() - started
        with self._timings_lock:
            self.timings[phase] += elapsed

    def _analyze(self, batch: list[Example]) -> _Analysis:
        """Fingerprints, safety and band hashes of a batch (on a worker thread)."""
        started = time.perf_counter()
        prints = fingerprints(batch)
        problems = scan(batch, prints) + _refusals(batch)
        self._add_time("fingerprints_and_safety", started)
        bands = None
        if self.hasher is not None:
            started = time.perf_counter()
            signatures = self.hasher.signatures(prints.words, prints.word_counts)
            bands = self.hasher.band_hashes(signatures)
            self._add_time("minhash", started)
        return _Analysis(prints.exact, prints.answers, bands, problems)

    def _merge(self, pending: _Pending) -> None:
        halves, done = [future.result() for future in pending.tokens], pending.analysis.result()
        counted = BatchTokens(
            [tokens for half in halves for tokens in half.tokens],
            [trained for half in halves for trained in half.trained],
            all(half.exact for half in halves),
        )
        index = self.index
        for example, exact, answer in zip(
            pending.batch, done.exact.tolist(), done.answers.tolist(), strict=True
        ):
            index.add(example.line, example.offset, example.messages, exact, answer)
            if self.options.stratify_by:
                index.add_key(example.key)
        index.tokens.extend(counted.tokens)
        index.trained.extend(counted.trained)
        if done.bands is not None:
            index.add_bands(done.bands)
        self.problems.extend(done.problems)
        self.tokens_exact = self.tokens_exact and counted.exact
        if self.context is None:
            return
        for example, tokens in zip(pending.batch, counted.tokens, strict=True):
            if tokens > self.context:
                message = f"{tokens:,} tokens, over the {self.context:,}-token training context"
                self.problems.add(Problem(example.line, "too_many_tokens", message))

    def _find_across(self) -> None:
        """Problems between examples: duplicates, near-duplicates, boilerplate, outliers."""
        started = time.perf_counter()
        members = exact_duplicates(self.index, self.problems)
        self.timings["exact_duplicates"] = time.perf_counter() - started
        if self.hasher is not None:
            started = time.perf_counter()
            with ExampleReader(self.path, self.format, self.options.max_line_bytes) as examples:
                near_duplicates(
                    self.index, members, examples, self.options.near_threshold, self.problems
                )
            self.timings["near_duplicates"] = time.perf_counter() - started
        boilerplate_answers(self.index, members, self.problems)
        length_outliers(self.index, self.problems)

    def _tick(self, phase: str, reader: LineReader, lines: int) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise CheckCancelled(f"{self.path}: check cancelled")
        if self._progress is not None:
            self._progress(Progress(phase, reader.bytes_read, self._size, lines, len(self.index)))

    def _report(self, reader: LineReader, lines: int) -> CheckReport:
        summary = summarize(
            self.index,
            None,
            model=self.options.model,
            context=self.context,
            tokens_exact=self.tokens_exact,
            epochs=self.options.epochs,
        )
        return CheckReport(
            path=str(self.path),
            sha256=reader.sha256.hexdigest(),
            size_bytes=reader.bytes_read,
            format=self.format,
            model=self.options.model,
            lines=lines,
            bom=reader.bom,
            crlf_lines=reader.crlf_lines,
            summary=summary,
            problems=self.problems,
            index=self.index,
            timings=dict(self.timings),
        )
