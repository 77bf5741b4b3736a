"""The garbage collector's settings for a headless command's long work (an evaluation run).

When `tunedeck` runs a headless command, the objects its imports made (openai's and
pydantic's models above all, ~100k of them) live until the process ends, yet every full
collection walks them all again: ~100-130 ms a time on this project's 2-core machine. An
evaluation run of 2,000 cases made 2-3 such collections, and a fully cached re-run one in two,
its longest step (garbage collection took 0.26-0.52 s of a first run and 0.17-0.32 s of a
~0.5 s re-run; with `settle_for_long_work`, 0.02-0.13 s and ~0.03 s:
tests/bench/bench_eval_runner.py).

Only the process the `tunedeck` command started changes its collector (`own_process`): a
test calling the command line in its own process keeps its collector as it was.
"""

from __future__ import annotations

import gc

YOUNG_COLLECTION_EVERY = 10_000
"""Allocations between two collections of the youngest generation (Python's default is
700): a run's thousands of short-lived records are collected ~15x less often."""

_owned = False


def own_process() -> None:
    """Say that this process is the `tunedeck` command's own (its entry point calls this)."""
    global _owned
    _owned = True


def settle_for_long_work() -> None:
    """Before long work, in the command's own process only: keep the collector off every
    object made so far (`gc.freeze`: the imports, the engine, the loaded suite) and collect
    young objects less often. The process ends with the command, so nothing frozen is lost."""
    if not _owned:
        return
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, oldest)
