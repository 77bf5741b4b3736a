"""`data check` on generated training files: throughput against raw tiktoken, peak memory,
and near-duplicate detection time.

Run: python tests/bench/bench_data.py [--examples N] [--runs R] [--big-gb G] [--quick].
Not collected by pytest. Files are generated in /tmp and deleted afterwards.

- Throughput: `check_file` (parse, validate, safety scan, token counts with chat framing,
  fingerprints, MinHash/LSH, duplicates, statistics) against `encode_ordinary_batch(...,
  num_threads=2)` over the same strings, measured in the same run in interleaved rounds, best
  of each. Two baselines: one text per string counted (as tests/bench/bench_tokens.py), and
  one text per example (fewer, longer texts: tiktoken's batch pays a task per text, so this is
  the faster, stricter floor). A ratio is baseline time / check time: above 1, faster.
- Memory: peak RSS of a fresh subprocess that checks the file, on the ~100 MB file and on a
  ~1 GB one: its ru_maxrss, and VmHWM from /proc. Linux carries ru_maxrss over fork and exec,
  so a child forked from a big parent reports the parent's peak: the memory children run
  first, while this script is still small, and VmHWM (reset at exec) is shown beside it.
- Near-duplicates: 1% of the examples are planted near-copies (one word changed); the report
  gives how many were found, and the time of the signatures (worker time, during the read) and
  of the LSH buckets plus exact verification (after the read). Phase times of the workers are
  summed over both workers, so they can exceed the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODEL = "gpt-4o-mini"
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "zen", "qua", "str", "ph", "ion", "er"]
PUNCTUATION = ["", "", "", "", "", ",", ".", "?", ":"]


def make_words(rng: random.Random, count: int) -> list[str]:
    """Pseudo-words, some with punctuation, some capitalised, and some numbers."""
    words = ["".join(rng.choices(SYLLABLES, k=rng.randint(1, 3))) for _ in range(count)]
    words += [str(rng.randint(0, 99999)) for _ in range(count // 20)]
    words = [w.capitalize() if rng.random() < 0.1 else w for w in words]
    return [w + rng.choice(PUNCTUATION) for w in words]


def generate(path: Path, examples: int, seed: int = 20240718) -> tuple[int, int]:
    """Write `examples` chat examples (~1 KB each, 1% planted near-duplicates); return
    (planted near-duplicates, bytes)."""
    rng = random.Random(seed)
    words = make_words(rng, 20_000)
    planted = 0
    recent: list[dict[str, Any]] = []
    with path.open("w", encoding="utf-8") as file:
        for number in range(examples):
            if recent and number % 100 == 99:
                example = json.loads(json.dumps(rng.choice(recent)))
                answer = example["messages"][-1]["content"].split(" ")
                answer[len(answer) // 2] = "planted"
                example["messages"][-1]["content"] = " ".join(answer)
                planted += 1
            else:
                example = _example(rng, words)
                recent = [*recent[-50:], example]
            file.write(json.dumps(example) + "\n")
    return planted, path.stat().st_size


def _example(rng: random.Random, words: list[str]) -> dict[str, Any]:
    messages = []
    if rng.random() < 0.7:
        messages.append(
            {"role": "system", "content": " ".join(rng.choices(words, k=rng.randint(5, 30)))}
        )
    for _ in range(rng.randint(1, 3)):
        user = " ".join(rng.choices(words, k=int(rng.expovariate(1 / 25)) + 1))
        messages.append({"role": "user", "content": user})
        answer = " ".join(rng.choices(words, k=rng.randint(20, 90)))
        messages.append({"role": "assistant", "content": answer})
    return {"messages": messages}


def texts_of(path: Path) -> tuple[list[str], list[str]]:
    """The strings the token counter reads (roles, contents), and one text per example."""
    strings, joined = [], []
    with path.open("rb") as file:
        for line in file:
            values = [v for m in json.loads(line)["messages"] for v in m.values() if type(v) is str]
            strings += values
            joined.append("\n".join(values))
    return strings, joined


def child_check(path: str) -> None:
    """In a fresh process: warm up, check `path`, print timings and peak RSS as JSON."""
    from core.data import CheckOptions, check_file

    warm = Path(path).with_suffix(".warm.jsonl")
    warm.write_text(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"},
                ]
            }
        )
        + "\n"
    )
    check_file(warm)
    warm.unlink()
    started = time.perf_counter()
    report = check_file(path, CheckOptions(model=MODEL))
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "timings": report.timings,
                "examples": report.summary.examples,
                "tokens": report.summary.tokens.total if report.summary.tokens else 0,
                "near_duplicates": report.problems.counts().get("near_duplicate", 0),
                "problems": len(report.problems),
                "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "hwm_mb": _vm_hwm_mb(),
            }
        )
    )


def _vm_hwm_mb() -> float:
    """Peak RSS of this process image (VmHWM), which, unlike ru_maxrss, starts afresh at exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_child(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def best_of(runs: int, work: dict[str, Any]) -> dict[str, Any]:
    """Best result of each candidate over `runs` interleaved rounds (by 'seconds')."""
    best: dict[str, Any] = {}
    for _ in range(runs):
        for label, fn in work.items():
            result = fn()
            if label not in best or result["seconds"] < best[label]["seconds"]:
                best[label] = result
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-gb", type=float, default=1.0, help="0 skips the big file")
    parser.add_argument("--quick", action="store_true", help="10,000 examples, no big file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_check(args.child)
        return
    if args.quick:
        args.examples, args.runs, args.big_gb = 10_000, 2, 0
    sys.path.insert(0, str(Path(__file__).parents[2]))
    from core.tokens import encoding_for_model

    with tempfile.TemporaryDirectory(dir="/tmp", prefix="bench_data_") as folder:
        path = Path(folder) / "data.jsonl"
        planted, size = generate(path, args.examples)
        big_result: dict[str, Any] | None = None
        if args.big_gb:  # the big file first too, while this process is small
            big = Path(folder) / "big.jsonl"
            count = int(args.examples * args.big_gb * 1e9 / size)
            _, big_size = generate(big, count, seed=7)
            big_result = run_child(big)
            big.unlink()
        memory = run_child(path)  # first, while this process is small (see the docstring)
        strings, joined = texts_of(path)
        encoding, _ = encoding_for_model(MODEL)
        tokens = sum(map(len, encoding.encode_ordinary_batch(joined, num_threads=2)))
        print(
            f"{args.examples:,} examples, {size / 1e6:.1f} MB, {tokens / 1e6:.1f} M text tokens, "
            f"{len(strings):,} strings; {os.cpu_count()} cores"
        )

        def timed(texts: list[str]) -> Any:
            def run() -> dict[str, float]:
                started = time.perf_counter()
                encoding.encode_ordinary_batch(texts, num_threads=2)
                return {"seconds": time.perf_counter() - started}

            return run

        best = best_of(
            args.runs,
            {
                "per string": timed(strings),
                "per example": timed(joined),
                "check": lambda: run_child(path),
            },
        )
        del strings, joined
        check = best["check"]
        for label in ("per string", "per example"):
            seconds = best[label]["seconds"]
            print(
                f"baseline encode_ordinary_batch, one text {label:12} {seconds:7.2f} s "
                f"{tokens / seconds / 1e6:5.2f} M tokens/s"
            )
        ratios = [
            best[label]["seconds"] / check["seconds"] for label in ("per string", "per example")
        ]
        print(
            f"data check {check['seconds']:7.2f} s "
            f"{tokens / check['seconds'] / 1e6:5.2f} M tokens/s; ratio to the baseline "
            f"x{ratios[0]:.2f} (per string), x{ratios[1]:.2f} (per example)"
        )
        phases = ", ".join(f"{k} {v:.2f} s" for k, v in check["timings"].items())
        print(f"  phases: {phases}")
        timings = check["timings"]
        print(
            f"near-duplicates: {planted:,} planted, {check['near_duplicates']:,} found; "
            f"signatures {timings.get('minhash', 0):.2f} s (worker time, during the read), "
            f"LSH buckets + exact verification {timings.get('near_duplicates', 0):.2f} s"
        )
        print(
            f"peak memory, {size / 1e6:.0f} MB file: ru_maxrss {memory['maxrss_mb']:.0f} MB, "
            f"VmHWM {memory['hwm_mb']:.0f} MB"
        )
        path.unlink()
        if big_result is not None:
            print(
                f"peak memory, {big_size / 1e9:.2f} GB file ({count:,} examples): ru_maxrss "
                f"{big_result['maxrss_mb']:.0f} MB, VmHWM {big_result['hwm_mb']:.0f} MB; checked "
                f"in {big_result['seconds']:.1f} s, {big_result['near_duplicates']:,} "
                "near-duplicates found"
            )


if __name__ == "__main__":
    main()
