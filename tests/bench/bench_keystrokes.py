"""Keystroke-to-screen latency in the Prompt pane while an answer streams at ~100 chunks/s.

Run: python tests/bench/bench_keystrokes.py [--quick] [--rounds N]. Not collected by pytest.

The real console (`TunedeckApp`, warm-up on) runs headless at 120x36 under Pilot against the fake
OpenAI server, whose reply is ~600 words streamed one word a chunk, 10 ms apart (~100 chunks/s).
The fake runs in a child process (this script with --serve, scripted over a pipe): in-process, its
thread would wait for the app's GIL between chunks and stream more slowly than a real server.
After ctrl+s sends the prompt and the first chunk has arrived, a "typist" thread types lowercase
letters into the focused `#compare-model` Input, one at a time, 20-60 ms apart (seeded), the way
the terminal driver's input thread does: `driver.send_message(Key)` from another thread, so time
the event loop is busy counts. A key's latency runs from that call to the end of the first frame
that writes the typed character on screen: `App._display` is wrapped to read, from the update the
compositor hands to the driver, the text the frame writes into the Input's row (it must hold the
last 8 characters typed), and to encode the frame to terminal bytes (`render_segments`, the work
a real terminal frame costs beyond headless). The next key is typed only after that frame.

Baseline, same run: the same number of keystrokes, same gaps, with nothing streaming. Rounds
alternate streaming then baseline. Each key's latency is also split at the moment the Input posts
`Input.Changed` (the event loop got to the key). A second view: event-loop lag, from a callback
rescheduled every 5 ms (`loop.call_at`) that records how late it runs, during each phase; and a
third: garbage-collector pauses (`gc.callbacks`) per phase.

The console starts as `tunedeck` starts it: the garbage collector paused until the warm-up is
done (`collector_paused`). The database exists before it starts, as a returning user's does.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import math
import os
import random
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import PIPE
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # for tests.*

from textual import events
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Input

from core.settings import load_settings
from tests.conftest import TEST_KEY, fake_profile_toml, write_config
from tests.support.fake_openai import FakeOpenAI, Reply
from tui.app import TunedeckApp
from tui.engine import Engine
from tui.widgets.prompt.answer import AnswerView
from tui.widgets.prompt.editor import PromptEditor

GOAL_P95_MS = 50.0
CHUNK_DELAY = 0.01  # seconds between streamed chunks (one word each): ~100 chunks/s
LAG_INTERVAL = 0.005  # the lag probe's period
KEY_TIMEOUT = 5.0  # seconds a keystroke may take to reach the screen before the run fails
WORDS = (
    "the model answers with tokens that stream to the console while you keep typing into",
    "another field and every keystroke should show at once because latency matters more than",
    "throughput for people a fine tuned checkpoint evaluation dataset prompt cache cost budget",
)

VOCABULARY = [word for line in WORDS for word in line.split()]


def answer_text(words: int, seed: int) -> str:
    """A long answer: `words` words in paragraphs of ~60, some with punctuation."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(words):
        word = rng.choice(VOCABULARY)
        if rng.random() < 0.08:
            word += rng.choice(",.;:")
        out.append(word + ("\n\n" if i % 60 == 59 else " "))
    return "".join(out).rstrip()


def pct(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


VISIBLE_TAIL = 8  # a key counts as shown when the frame writes the field's last 8 characters


def written_text(update: Any, region: Region) -> str | None:
    """The text a frame writes into `region`'s first row, or None if it leaves the row alone.

    Read from the update the compositor hands to the driver (the chops of a partial update,
    the lines of a full one): what the terminal receives, not what a widget rendered.
    """
    y, x1, x2 = region.y, region.x, region.right
    if isinstance(update, ChopsUpdate):
        spans = [(a, b) for row, a, b in update.spans if row == y and a < x2 and b > x1]
        if not spans:
            return None
        lo, hi = max(x1, min(a for a, _ in spans)), min(x2, max(b for _, b in spans))
        pieces = update.chops[y].items()
    elif isinstance(update, LayoutUpdate):
        if not update.region.y <= y < update.region.bottom:
            return None
        lo, hi, x = x1, x2, update.region.x
        pieces_list = []
        for strip in update.strips[y - update.region.y]:
            pieces_list.append((x, strip))
            x += strip.cell_length
        pieces = pieces_list
    else:
        return None
    text = []
    for x, strip in sorted((x, strip) for x, strip in pieces if strip is not None):
        end = x + strip.cell_length
        if end > lo and x < hi:
            text.append(strip.crop(max(lo - x, 0), min(hi, end) - x).text)
    return "".join(text)


@dataclass
class FrameProbe:
    """Sees every frame; signals the first one that writes the typed value into the Input."""

    app: TunedeckApp
    target: Input
    expected: str | None = None
    changed_at: float = 0.0  # when the Input posted Changed with the expected value
    frame_at: float = 0.0
    frames: int = 0
    encode_ms: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)

    def install(self) -> None:
        display = self.app._display
        post_message = self.target.post_message
        console = self.app.console

        def display_and_encode(screen: Any, update: Any) -> None:
            display(screen, update)
            if update is not None and hasattr(update, "render_segments"):
                start = time.perf_counter()
                update.render_segments(console)  # what a real terminal frame costs beyond this
                self.encode_ms += (time.perf_counter() - start) * 1000
            self.frames += 1
            if self.expected is None or self.done.is_set() or update is None:
                return
            written = written_text(update, self.target.region)
            if written is not None and self.expected[-VISIBLE_TAIL:] in written:
                self.frame_at = time.perf_counter()
                self.done.set()

        def post_and_note(message: Any) -> bool:
            if isinstance(message, Input.Changed) and message.value == self.expected:
                self.changed_at = self.changed_at or time.perf_counter()
            return post_message(message)

        self.app._display = display_and_encode  # type: ignore[method-assign]
        self.target.post_message = post_and_note  # type: ignore[method-assign]

    def arm(self, expected: str) -> None:
        self.done.clear()
        self.changed_at = 0.0
        self.expected = expected


def send_key(app: Any, key: str, char: str | None = None) -> None:
    """Post a key as the terminal driver's input thread does (thread-safe)."""
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


def type_keys(
    app: TunedeckApp,
    probe: FrameProbe,
    count: int,
    rng: random.Random,
    keep_going: Callable[[], bool],
) -> list[tuple[float, float]]:
    """Typist thread: up to `count` letters; ms from each key's send to its value, its frame."""
    latencies: list[tuple[float, float]] = []
    typed = probe.target.value
    for _ in range(count):
        if not keep_going():
            break
        char = rng.choice(string.ascii_lowercase)
        typed += char
        probe.arm(typed)
        start = time.perf_counter()
        send_key(app, char, char)
        if not probe.done.wait(KEY_TIMEOUT):
            raise RuntimeError(f"key {char!r} not on screen after {KEY_TIMEOUT} s")
        to_value = (probe.changed_at - start) * 1000 if probe.changed_at else float("nan")
        to_frame = (probe.frame_at - start) * 1000
        if keep_going():  # the frame came while the phase still held (streaming: still streaming)
            latencies.append((to_value, to_frame))
        time.sleep(rng.uniform(0.02, 0.06))
    return latencies


class LagProbe:
    """A callback every 5 ms on the event loop, recording how late it ran (ms)."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()

        def tick(due: float) -> None:
            now = loop.time()
            self.lags.append(max(0.0, now - due) * 1000)
            self._handle = loop.call_at(now + LAG_INTERVAL, tick, now + LAG_INTERVAL)

        due = loop.time() + LAG_INTERVAL
        self._handle = loop.call_at(due, tick, due)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()


@dataclass
class Phase:
    """The samples of one condition over all rounds."""

    keys: list[float] = field(default_factory=list)  # key sent -> frame showing it
    to_value: list[float] = field(default_factory=list)  # key sent -> Input value changed
    lags: list[float] = field(default_factory=list)
    gc_pauses: dict[int, list[float]] = field(default_factory=dict)  # generation -> ms
    frames: int = 0
    seconds: float = 0.0
    encode_ms: float = 0.0
    cpu_seconds: float = 0.0  # the event loop's (main thread's) CPU time


@dataclass
class StreamStats:
    chunks: int = 0
    seconds: float = 0.0
    words: int = 0
    stamps: list[float] = field(default_factory=list)  # gaps between chunks, seconds


class ServerProcess:
    """The fake OpenAI server in a child process; `enqueue` scripts its next reply."""

    def __init__(self) -> None:
        command = [sys.executable, __file__, "--serve"]
        self._proc = subprocess.Popen(command, stdin=PIPE, stdout=PIPE, text=True, bufsize=1)
        assert self._proc.stdout is not None
        self.base_url = self._proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError(f"the fake server did not start: {self.base_url!r}")

    def enqueue(self, words: int, seed: int, chunk_delay: float) -> None:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(f"{words} {seed} {chunk_delay}\n")
        self._proc.stdin.flush()
        if self._proc.stdout.readline().strip() != "queued":
            raise RuntimeError("the fake server did not queue the reply")

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def serve() -> None:
    """--serve: run the fake, print its URL, queue `WORDS SEED DELAY` replies read on stdin."""
    with FakeOpenAI() as fake:
        print(fake.base_url, flush=True)
        for line in sys.stdin:
            words, seed, delay = line.split()
            reply = Reply.text(answer_text(int(words), int(seed)), chunk_delay=float(delay))
            fake.enqueue(reply)
            print("queued", flush=True)


async def settle(pilot: Pilot[None]) -> None:
    """Let workers (estimate, status, history) finish and the screen catch up."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def run_phase(
    pilot: Pilot[None],
    probe: FrameProbe,
    phase: Phase,
    count: int,
    rng: random.Random,
    keep_going: Callable[[], bool],
) -> int:
    """Type `count` keys (while `keep_going`) with the lag probe on; the samples kept."""
    app = pilot.app
    assert isinstance(app, TunedeckApp)
    lag = LagProbe()
    frames, encode = probe.frames, probe.encode_ms
    gc_start = 0.0

    def gc_watch(stage: str, info: dict[str, int]) -> None:
        nonlocal gc_start
        if stage == "start":
            gc_start = time.perf_counter()
        else:
            pause = (time.perf_counter() - gc_start) * 1000
            phase.gc_pauses.setdefault(info["generation"], []).append(pause)

    start, cpu_start = time.perf_counter(), time.thread_time()
    lag.start()
    gc.callbacks.append(gc_watch)
    try:
        keys = await asyncio.to_thread(type_keys, app, probe, count, rng, keep_going)
    finally:
        gc.callbacks.remove(gc_watch)
        lag.stop()
    phase.seconds += time.perf_counter() - start
    phase.cpu_seconds += time.thread_time() - cpu_start
    phase.frames += probe.frames - frames
    phase.encode_ms += probe.encode_ms - encode
    phase.to_value += [value for value, _ in keys if not math.isnan(value)]
    phase.keys += [frame for _, frame in keys]
    phase.lags += lag.lags
    return len(keys)


async def one_round(
    pilot: Pilot[None],
    fake: ServerProcess,
    probe: FrameProbe,
    round_no: int,
    words: int,
    streaming: Phase,
    idle: Phase,
    stream: StreamStats,
) -> None:
    """Stream an answer while typing, then type as many keys with nothing streaming."""
    screen = pilot.app.screen
    view = screen.query_one("#answer-a", AnswerView)
    target = probe.target
    target.value = ""  # an empty second model: one answer, not a comparison
    editor = screen.query_one(PromptEditor)
    editor.load_text(f"Benchmark prompt {round_no}: write at length.")  # distinct: no cache hit
    target.focus()
    await settle(pilot)
    fake.enqueue(words, round_no, CHUNK_DELAY)

    stamps: list[float] = []
    append = view.append

    def counting_append(piece: str) -> None:
        stamps.append(time.perf_counter())
        append(piece)

    view.append = counting_append  # type: ignore[method-assign]
    send_key(pilot.app, "ctrl+s")  # not pilot.press: it waits for an idle CPU, up to 1 s
    deadline = time.perf_counter() + KEY_TIMEOUT
    while not stamps:
        if time.perf_counter() > deadline:
            raise RuntimeError("the answer did not start streaming")
        await asyncio.sleep(0.005)
    rng = random.Random(round_no)
    typed = await run_phase(pilot, probe, streaming, 10_000, rng, lambda: view.state == "streaming")
    while view.state == "streaming":
        await asyncio.sleep(0.01)
    view.append = append  # type: ignore[method-assign]
    await settle(pilot)
    if view.state != "done":
        raise RuntimeError(f"the answer ended as {view.state!r}")
    stream.chunks += len(stamps)
    stream.seconds += stamps[-1] - stamps[0]
    stream.words += words
    stream.stamps += [b - a for a, b in itertools.pairwise(stamps)]

    target.value = ""
    await settle(pilot)
    await run_phase(pilot, probe, idle, typed, random.Random(round_no), lambda: True)


def summary(label: str, samples: Sequence[float], baseline: Sequence[float]) -> str:
    p50, p95, p99, top = pct(samples, 50), pct(samples, 95), pct(samples, 99), max(samples)
    ratio = (
        f"x{p50 / pct(baseline, 50):.2f} / x{p95 / pct(baseline, 95):.2f}"
        f" / x{p99 / pct(baseline, 99):.2f}"
        if samples is not baseline
        else "baseline"
    )
    return f"{label:34} {len(samples):6} {p50:7.1f} {p95:7.1f} {p99:7.1f} {top:7.1f}   {ratio}"


def report(streaming: Phase, idle: Phase, stream: StreamStats) -> None:
    rate = stream.chunks / stream.seconds if stream.seconds else 0.0
    gaps = stream.stamps
    print(
        f"stream: {stream.words} words in {stream.chunks} chunks over {stream.seconds:.1f} s"
        f" = {rate:.0f} chunks/s received (gap p50 {pct(gaps, 50) * 1000:.1f} ms,"
        f" p99 {pct(gaps, 99) * 1000:.1f} ms, max {max(gaps) * 1000:.0f} ms)"
    )
    print("\na) keystroke to screen (ms): key sent by the input thread -> frame showing it")
    print(f"{'':34} {'keys':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}   ratio p50/p95/p99")
    print(summary("nothing streaming (baseline)", idle.keys, idle.keys))
    print(summary("answer streaming at ~100 chunks/s", streaming.keys, idle.keys))
    p95 = pct(streaming.keys, 95)
    verdict = "UNDER" if p95 < GOAL_P95_MS else "OVER"
    print(f"p95 while streaming {p95:.1f} ms: {verdict} the {GOAL_P95_MS:.0f} ms goal")
    print("of which, key sent -> Input value changed (waiting for the loop, dispatch):")
    print(summary("  nothing streaming (baseline)", idle.to_value, idle.to_value))
    print(summary("  answer streaming", streaming.to_value, idle.to_value))

    print(f"\nb) event-loop lag (ms late, a callback every {LAG_INTERVAL * 1000:.0f} ms)")
    print(f"{'':34} {'ticks':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
    for label, phase in (("nothing streaming (baseline)", idle), ("streaming", streaming)):
        lags = phase.lags
        print(
            f"{label:34} {len(lags):6} {pct(lags, 50):7.2f} {pct(lags, 95):7.2f}"
            f" {pct(lags, 99):7.2f} {max(lags):7.1f}"
        )
    print("\nc) frames, event-loop CPU (less sensitive to other load) and garbage-collector pauses")
    for label, phase in (("nothing streaming (baseline)", idle), ("streaming", streaming)):
        fps = phase.frames / phase.seconds
        encode = phase.encode_ms / max(phase.frames, 1)
        cpu = 100 * phase.cpu_seconds / phase.seconds
        per_key = phase.cpu_seconds * 1000 / max(len(phase.keys), 1)
        pauses = ", ".join(
            f"gen{gen} {len(ms)}x max {max(ms):.1f} ms"
            for gen, ms in sorted(phase.gc_pauses.items())
        )
        print(
            f"{label:34} {fps:5.1f} frames/s, {encode:.2f} ms/frame encoding, main thread"
            f" CPU {cpu:.0f}% ({per_key:.1f} ms a key); GC: {pauses}"
        )


async def bench(rounds: int, words: int) -> None:
    for name in [n for n in os.environ if n.startswith(("TUNEDECK_", "OPENAI_"))]:
        del os.environ[name]
    os.environ.pop("NO_COLOR", None)
    with tempfile.TemporaryDirectory(prefix="bench_keys_") as folder, ServerProcess() as fake:
        home = Path(folder) / "home"
        os.environ["TUNEDECK_HOME"] = str(home)
        os.environ["TIKTOKEN_CACHE_DIR"] = str(Path(folder) / "tiktoken")
        os.environ["FAKE_API_KEY"] = TEST_KEY
        write_config(home, fake_profile_toml(fake.base_url))
        engine = Engine(load_settings())
        # The database exists before the console starts, as a returning user's does.
        engine.store  # noqa: B018
        gc.disable()  # as `tunedeck` starts the console; the app resumes it after its warm-up
        app = TunedeckApp(engine, collector_paused=True)
        streaming, idle, stream = Phase(), Phase(), StreamStats()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)  # warm-up worker: SDK, tokenizer and prices imported
            screen = app.screen
            target = screen.query_one("#compare-model", Input)
            probe = FrameProbe(app, target)
            probe.install()
            # Untimed: the SDK client, its connection and the first stream's code paths.
            fake.enqueue(40, 99, 0.001)
            screen.query_one(PromptEditor).load_text("warm up")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            for round_no in range(rounds):
                await one_round(pilot, fake, probe, round_no, words, streaming, idle, stream)
        engine.close()
    print(f"{rounds} round(s), {len(idle.keys)} + {len(streaming.keys)} keystrokes")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}")
    report(streaming, idle, stream)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round of a 300-word answer")
    parser.add_argument("--rounds", type=int, help="streamed answers (3)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    rounds = args.rounds or (1 if args.quick else 3)
    words = 300 if args.quick else 600
    asyncio.run(bench(rounds, words))


if __name__ == "__main__":
    main()
