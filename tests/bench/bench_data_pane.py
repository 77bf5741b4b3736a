"""Keystroke latency in the Data pane while it checks a ~50 MB training file.

Run: python tests/bench/bench_data_pane.py [--quick] [--rounds N]. Not collected by pytest.

The console runs headless at 120x36 on the Data pane. A file of chat examples (~50 MB, or
~5 MB with --quick) is generated once. Each round: the check starts from the path field (enter),
then a "typist" thread types letters into the focused path field, 20-60 ms apart (seeded), the
way the terminal driver's input thread does (`driver.send_message(Key)` from another thread).
A key's latency runs from that call to the `Input.Changed` the field posts for it (the event
loop got to the key and handled it). Keys are typed until the check ends. Baseline, same run:
the same typing with no check going. A second view: event-loop lag, from a callback
rescheduled every 5 ms that records how late it runs, in each phase, and the moments it was
more than 150 ms late (garbage-collector passes over the check's objects, mostly).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # for tests.*

from textual import events
from textual.widgets import Input

from core.settings import load_settings
from tui.app import TunedeckApp
from tui.engine import Engine
from tui.screens.data import DataScreen

LAG_INTERVAL = 0.005
WORDS = ["the", "model", "answers", "with", "tokens", "while", "you", "keep", "typing", "fine"]


def pct(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else 0.0


def make_file(path: Path, megabytes: int) -> None:
    """Chat examples of ~500 bytes each, until the file holds `megabytes`."""
    rng = random.Random(5)
    target, size = megabytes * 1024 * 1024, 0
    with path.open("w", encoding="utf-8") as out:
        while size < target:
            user = " ".join(rng.choice(WORDS) + str(rng.randint(0, 99999)) for _ in range(30))
            answer = " ".join(rng.choice(WORDS) + str(rng.randint(0, 99999)) for _ in range(40))
            messages = [
                {"role": "user", "content": user},
                {"role": "assistant", "content": answer},
            ]
            line = json.dumps({"messages": messages})
            out.write(line + "\n")
            size += len(line) + 1


class Typist:
    """Types into `field` from another thread and times each key to its `Input.Changed`."""

    def __init__(self, app: TunedeckApp, field: Input, seed: int) -> None:
        self.app, self.field = app, field
        self.rng = random.Random(seed)
        self.latencies: list[float] = []
        self._changed = threading.Event()
        self._sent_at = 0.0
        post = field.post_message

        def post_message(message: object) -> bool:
            if isinstance(message, Input.Changed):
                self.latencies.append(time.perf_counter() - self._sent_at)
                self._changed.set()
            return post(message)  # type: ignore[arg-type]

        field.post_message = post_message  # type: ignore[method-assign]

    def type_until(self, stop: threading.Event, keys: int | None = None) -> None:
        """Type letters until `stop` is set (or `keys` were typed)."""
        driver = self.app._driver
        assert driver is not None
        typed = 0
        while not stop.is_set() and (keys is None or typed < keys):
            time.sleep(self.rng.uniform(0.02, 0.06))
            letter = self.rng.choice("uwxyz")  # no binding: a key typed after the check is inert
            self._changed.clear()
            self._sent_at = time.perf_counter()
            driver.send_message(events.Key(letter, letter))
            while not self._changed.wait(0.05):
                if stop.is_set():  # the check ended: focus moved to its problems
                    return
                if time.perf_counter() - self._sent_at > 10:
                    raise RuntimeError("a key was not handled within 10 s")
            typed += 1


class LagProbe:
    """How late a callback rescheduled every 5 ms runs."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.late: list[tuple[float, float]] = []
        """When (perf_counter) and by how much the loop was more than 150 ms late."""
        self._running = False

    def start(self) -> None:
        self.lags, self.late, self._running = [], [], True
        loop = asyncio.get_running_loop()
        expected = loop.time() + LAG_INTERVAL

        def tick() -> None:
            nonlocal expected
            now = loop.time()
            self.lags.append(max(0.0, now - expected))
            if now - expected > 0.15:
                self.late.append((time.perf_counter(), now - expected))
            expected = now + LAG_INTERVAL
            if self._running:
                loop.call_at(expected, tick)

        loop.call_at(expected, tick)

    def stop(self) -> list[float]:
        self._running = False
        return self.lags


async def one_round(file: Path, seed: int) -> dict[str, object]:
    # As `tunedeck` starts: the warm-up (SDK, tokenizer) runs, then start-up objects are frozen.
    app = TunedeckApp(Engine(load_settings()), warm_up=True, cursor_blink=False, pane="data")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DataScreen)
        field = screen.query_one("#data-path", Input)
        field.focus()
        typist, probe = Typist(app, field, seed), LagProbe()
        # Baseline: the same typing, no check going.
        probe.start()
        await asyncio.to_thread(typist.type_until, threading.Event(), 40)
        idle = (list(typist.latencies), probe.stop())
        typist.latencies.clear()
        field.value = str(file)
        await pilot.press("enter")
        started = time.perf_counter()
        assert screen.running == "checking"
        stop = threading.Event()
        probe.start()
        typing = asyncio.create_task(asyncio.to_thread(typist.type_until, stop))
        while screen.running:
            await asyncio.sleep(0.05)
        check_seconds = time.perf_counter() - started
        stop.set()
        await typing
        await pilot.pause(0.2)  # the last key, if it was sent as the check ended
        busy = (list(typist.latencies), probe.stop())
        late = [f"{at - started:.1f}s:{lag * 1000:.0f}ms" for at, lag in probe.late]
        print("   loop more than 150 ms late during the check at:", ", ".join(late) or "never")
        assert screen.checked is not None, "the check did not finish"
        examples = screen.checked.report.summary.examples
    return {"idle": idle, "busy": busy, "check_s": check_seconds, "examples": examples}


def report(name: str, keys: list[float], lags: list[float]) -> str:
    ms = [k * 1000 for k in keys]
    lag_ms = [lag * 1000 for lag in lags]
    return (
        f"{name:>9}: {len(ms):4d} keys  key->handled p50 {pct(ms, 50):6.1f} ms  "
        f"p95 {pct(ms, 95):6.1f}  max {max(ms, default=0):6.1f}  |  "
        f"loop lag p95 {pct(lag_ms, 95):6.1f} ms  max {max(lag_ms, default=0):6.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a ~5 MB file, one round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    with tempfile.TemporaryDirectory() as folder:
        os.environ["TUNEDECK_HOME"] = str(Path(folder) / "home")
        file = Path(folder) / "big.jsonl"
        make_file(file, 5 if args.quick else 50)
        print(f"file: {file.stat().st_size / 1e6:.1f} MB")
        for number in range(rounds):
            result = asyncio.run(one_round(file, seed=number))
            idle_keys, idle_lags = result["idle"]  # type: ignore[misc]
            busy_keys, busy_lags = result["busy"]  # type: ignore[misc]
            print(f"round {number + 1}: check {result['check_s']:.1f} s, "
                  f"{result['examples']:,} examples")  # fmt: skip
            print(report("no check", idle_keys, idle_lags))
            print(report("checking", busy_keys, busy_lags))
            ratio = pct(busy_keys, 95) / max(pct(idle_keys, 95), 1e-9)
            print(f"   p95 ratio checking/no check: {ratio:.2f}x; "
                  f"median {statistics.median(busy_keys) * 1000:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
