"""Cache and Usage panes on a large database: opening a pane, paging its table, the figures.

Run: python tests/bench/bench_panes.py [--quick] [--calls N] [--entries N] [--keep-db].
Not collected by pytest.

The issue's targets: with 1M logged calls and 100k cache entries, opening each pane and moving a
page in its table take under 100 ms; the Usage totals under 250 ms.

The large database (default 1,000,000 calls over the last 60 days, six models on three profiles,
~3% errors, ~0.5% cut streams, a quarter of the deterministic calls answered from the cache; and
100,000 cache entries over 35 days, some expired) is built in a temporary TUNEDECK_HOME: opened
with `Store.open` (migrations make the tables, indexes and triggers), then its triggers are
saved and dropped, the rows go in with executemany in one transaction, the FTS index is rebuilt
(`'rebuild'`) and `usage_rollup` is filled by `storage.migrations.rebuild_usage_rollup`, the
triggers are created again, then ANALYZE and a checkpoint. Each phase is timed.
With --keep-db the file stays in the system temporary folder, keyed by the sizes, for the
next run. The baseline database is built the same way with 3,000 calls and 3,000 entries: the
seed database of the tests (40 calls, 6 entries) has no second page to move to.

On each database, with the fixed clock of its load, local time UTC, the console headless at
120x36 under Pilot (`TunedeckApp(..., warm_up=False, cursor_blink=False)`, animations off):
a) Opening a pane: a fresh console starts on the Prompt pane and waits until its start-up
   workers are done and, by default, until the Cache and Usage panes are built ahead (in the
   background after the first frame, tui/screens/prebuild.py); then alt+2 (Cache) or alt+3
   (Usage) is posted. Timed from the key: the mode switched, the pane's first frame (built
   ahead: its rows and figures are in it), and, for a pane built on the key (the pre-build
   off: a user faster than it), its table's rows in the widget and on screen (the end of the
   first frame started after them), its figures (the Cache stats line; the Usage totals,
   breakdown and chart) and everything on screen. Five consoles per pane and way. Then, in one
   console, switching back to panes already built (alt+2, alt+3, alt+1 in turn, five rounds):
   to the pane's first frame, and the reads it made (none: the Usage pane re-reads only when
   the database changed); then five rounds with a call logged before each return to Usage:
   its log and figures read again and on screen. And, in fresh consoles, the longest stall of
   the event loop in the 2 s after the first frame, with and without building ahead (what a
   key typed meanwhile would wait for).
b) Moving a page: pagedown is posted to the focused table 60 times, waiting for the app in
   between. The table holds at most two pages and reads the page past each end ahead, in a
   worker; every key gives the time to the frame that shows it; a key after which the window
   slid (a page added, the farthest dropped, after that frame) also the time to the frame
   after the slide.
c) The reads behind the panes, alone, on the main thread: the Usage totals
   (`UsageQueries.daily(now, 30)` + `totals_of`), breakdowns, log pages, cache pages, the status
   line (`read_status`), `store.cache.stats(now)`: one first run, then median and max of 10. On
   the large database again without `sqlite_stat1` (the app never runs ANALYZE, so a user's
   database has no statistics), with the query plans that differ.

Where the time goes, from wrappers installed once (see `Probe`): the methods that fill the
widgets (`CacheTable._show_window`, `CallLogTable._show_window`, their `_apply_slide`,
`UsageScreen._show_figures`, `CacheScreen._show_stats`), frames (`Screen._compositor_refresh`:
render and hand over; each frame is also encoded to terminal bytes, the work headless skips),
layouts (`Screen._refresh_layout`), stylesheet reparses and updates, and each page's SQL in its
worker.

Keys are posted as the terminal driver posts them (`app.post_message(events.Key(...))`), not with
`pilot.press`, which returns only once the whole process, threads included, is idle. Conditions
are polled with `asyncio.sleep(0.001)`: `pilot.pause(0.001)` first sends a callback through the
message queue of every widget of the screen, ~10 ms a step on these panes, which blurs the
figures and loads the event loop being measured. Every figure of the large database is given
with its ratio to the baseline and its target: 100 ms for opening a pane and moving a page,
250 ms for the totals and the other figures a pane or the status line shows. Other processes
on the machine skew the figures: the load average is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import importlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # for tests.*

from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from core.clock import iso
from core.settings import DATABASE_FILE, load_settings
from storage.migrations import rebuild_usage_rollup
from storage.records import CallFilter, CallOutcome, CallStart, Usage
from storage.store import Store
from storage.usage import UsageQueries, totals_of
from tui.app import TunedeckApp
from tui.engine import Engine
from tui.screens.base import PaneScreen
from tui.screens.prebuild import is_built
from tui.widgets.status import read_status

SIZE = (120, 36)
PANE_MS = 100.0
FIGURES_MS = 250.0
DAYS = 60  # calls spread over the last DAYS days
CACHE_DAYS = 35  # cache entries created over the last CACHE_DAYS days (TTL 30 days)
BASELINE_ROWS = 3_000
PREBUILT = ("cache", "usage")
DEEP = 5_000  # rows from the top of a deep page in part c (half the rows on smaller tables)
FORMAT = 2  # bump when the generated data changes: kept databases are rebuilt

OPENAI = "https://api.openai.com/v1"
VLLM = "http://gpu-box:8000/v1"
OLLAMA = "http://127.0.0.1:11434/v1"


@dataclass(frozen=True)
class ModelSpec:
    """A model of the generated log: its profile, endpoint, price ($/MTok) and share of calls."""

    profile: str
    endpoint: str
    model: str
    price_in: float | None
    price_out: float | None
    weight: int


MODELS = (
    ModelSpec("openai", OPENAI, "gpt-4o-mini", 0.15, 0.60, 40),
    ModelSpec("openai", OPENAI, "gpt-4.1", 2.00, 8.00, 12),
    ModelSpec("openai", OPENAI, "gpt-4.1-mini", 0.40, 1.60, 15),
    ModelSpec("openai", OPENAI, "ft:gpt-4o-mini-2024-07-18:acme::b7x2k9", 0.30, 1.20, 10),
    ModelSpec("vllm", VLLM, "llama-3.1-8b-instruct", None, None, 15),
    ModelSpec("ollama", OLLAMA, "qwen2.5:7b", None, None, 8),
)
SYSTEMS = (
    "You are a concise assistant for a fine-tuning team. Answer in plain prose.",
    "You label customer support tickets with one of: billing, bug, feature, other.",
    "You extract the requested fields and answer with JSON only.",
    "You translate the user's text into French, keeping the tone.",
    "",
)
PARAMS = (  # params_json, temperature 0 (cache eligible)
    ('{"temperature": 0.0, "max_tokens": 512}', True),
    ('{"temperature": 0.7, "max_tokens": 1024}', False),
    ('{"temperature": 0.0, "seed": 7, "max_tokens": 256}', True),
    ('{"temperature": 1.0, "top_p": 0.9}', False),
)
PROMPT_LENGTHS = ((120, 25), (300, 30), (600, 25), (1200, 15), (2500, 5))  # chars, weight
ANSWER_LENGTHS = ((150, 20), (400, 30), (800, 30), (1500, 15), (3000, 5))
ERRORS = (
    ("RateLimitError", "HTTP 429 from https://api.openai.com/v1: Rate limit reached"),
    ("APITimeoutError", "Request timed out after 60.0 s"),
    ("InternalServerError", "HTTP 500 from the server: upstream connect error"),
    ("BadRequestError", "HTTP 400: context length exceeded"),
)
COMMON_WORDS = (
    "the", "model", "answer", "prompt", "data", "summary", "invoice", "ticket", "translate",
    "classify", "customer", "release", "notes", "error", "training", "loss", "token", "batch",
    "eval", "label", "sentiment", "refund", "bug", "feature", "schedule", "report", "json",
)  # fmt: skip
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "zen", "qua", "str", "ph", "ion", "er")
SEARCH_WORD = "invoice"

CALL_COLUMNS = (
    "started_at", "finished_at", "profile", "endpoint", "model", "response_model", "stream",
    "params_json", "messages_json", "prompt_text", "request_key", "cache_eligible", "cache_hit",
    "status", "response_text", "finish_reason", "tool_calls_json", "incomplete", "prompt_tokens",
    "completion_tokens", "cached_tokens", "reasoning_tokens", "usage_estimated", "cost_usd",
    "cost_saved_usd", "ttft_ms", "latency_ms", "retries", "error_type", "error_message",
)  # fmt: skip
ENTRY_COLUMNS = (
    "key", "endpoint", "model", "components_json", "prompt_excerpt", "response_json",
    "prompt_tokens", "completion_tokens", "cost_usd", "size_bytes", "created_at", "expires_at",
    "last_hit_at", "hits", "source_call_id",
)  # fmt: skip
# JSON as %-templates: the generated text is lowercase words and spaces, nothing to escape.
MESSAGES_SYSTEM = '[{"role": "system", "content": "%s"}, {"role": "user", "content": "%s"}]'
MESSAGES_USER = '[{"role": "user", "content": "%s"}]'
COMPONENTS = (
    '{"version": 1, "endpoint": "%s", "model": "%s", "messages": [{"role": "user", '
    '"content": "%s"}], "params": {"temperature": 0.0, "extra": {}}}'
)
RESPONSE = (
    '{"text": "%s", "finish_reason": "stop", "tool_calls": null, "model": "%s", "usage": '
    '{"prompt_tokens": %d, "completion_tokens": %d, "cached_tokens": 0, '
    '"reasoning_tokens": 0, "estimated": false}}'
)


# -- the data ---------------------------------------------------------------------------------


def corpus(seed: int = 5) -> str:
    """~4 MB of text: common words and 8,000 pseudo-words, Zipf-distributed (FTS-realistic)."""
    rng = random.Random(seed)
    made = {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(8_000)}
    vocabulary = [*COMMON_WORDS, *sorted(made - set(COMMON_WORDS))]
    rng.shuffle(vocabulary)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    return " ".join(rng.choices(vocabulary, weights, k=700_000))


def snippet(text: str, start: int, length: int) -> str:
    """About `length` characters of whole words of `text` from `start`."""
    begin = text.find(" ", start) + 1
    end = text.rfind(" ", begin, begin + length)
    return text[begin : end if end > begin else begin + length]


def utc_text(seconds: float) -> str:
    """`core.clock.iso` of a POSIX time, faster (the load formats millions of them)."""
    micros = int(seconds % 1 * 1e6)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


def cost(spec: ModelSpec, tokens_in: int, tokens_out: int) -> float | None:
    """The price of a call in dollars, None for a model without a price (local ones)."""
    if spec.price_in is None or spec.price_out is None:
        return None
    return (spec.price_in * tokens_in + spec.price_out * tokens_out) / 1e6


def call_rows(
    count: int, now: float, text: str, models: Sequence[int]
) -> Iterator[tuple[Any, ...]]:
    """`count` finished calls, oldest first, spread evenly (with jitter) over the last DAYS days."""
    rng = random.Random(11)
    step = DAYS * 86400 / count
    first = now - DAYS * 86400
    limit = len(text) - 4000
    prompt_lengths = [n for n, _ in PROMPT_LENGTHS]
    prompt_weights = [w for _, w in PROMPT_LENGTHS]
    answer_lengths = [n for n, _ in ANSWER_LENGTHS]
    answer_weights = [w for _, w in ANSWER_LENGTHS]
    for i in range(count):
        spec = MODELS[models[i]]
        started = first + (i + rng.random()) * step
        system = SYSTEMS[i % len(SYSTEMS)]
        user = snippet(text, rng.randrange(limit), rng.choices(prompt_lengths, prompt_weights)[0])
        answer = snippet(text, rng.randrange(limit), rng.choices(answer_lengths, answer_weights)[0])
        params, eligible = PARAMS[(i // 3) % len(PARAMS)]
        messages = MESSAGES_SYSTEM % (system, user) if system else MESSAGES_USER % user
        prompt_text = f"{system}\n{user}" if system else user
        tokens_in, tokens_out = len(prompt_text) // 4 + 8, len(answer) // 4 + 1
        roll = rng.random()
        hit = eligible and roll >= 0.035 and rng.random() < 0.25
        status = "error" if roll < 0.03 else "incomplete" if roll < 0.035 else "ok"
        price = cost(spec, tokens_in, tokens_out)
        latency = 2.0 + rng.random() * 3 if hit else 250 + tokens_out * rng.uniform(8, 25)
        error_type = error_message = finish = response_model = None
        cached = estimated = 0
        if status == "error":
            error_type, error_message = ERRORS[i % len(ERRORS)]
            answer, tokens_in, tokens_out, price = "", 0, 0, 0.0 if price is not None else None
            latency = rng.uniform(100, 60_000)
        elif status == "incomplete":
            answer, tokens_out, estimated = answer[: len(answer) // 2], tokens_out // 2, 1
            response_model = spec.model
        else:
            finish, response_model = "stop", spec.model
            cached = tokens_in // 2 if tokens_in > 1024 and not hit else 0
        yield (
            utc_text(started),
            utc_text(started + latency / 1000),
            spec.profile,
            spec.endpoint,
            spec.model,
            response_model,
            int(i % 10 < 7),
            params,
            messages,
            prompt_text,
            hashlib.sha256(b"call-%d" % i).hexdigest(),
            int(eligible),
            int(hit),
            status,
            answer,
            finish,
            None,
            int(status == "incomplete"),
            tokens_in,
            tokens_out,
            cached,
            0,
            estimated,
            0.0 if hit else price,
            price if hit else None,
            None if status == "error" else latency * rng.uniform(0.1, 0.4),
            latency,
            rng.choice((1, 2)) if status == "error" else 0,
            error_type,
            error_message,
        )


def entry_rows(
    count: int, calls: int, now: float, text: str, models: Sequence[int]
) -> Iterator[tuple[Any, ...]]:
    """`count` cache entries, newest first, over the last CACHE_DAYS days (some expired)."""
    rng = random.Random(13)
    step = CACHE_DAYS * 86400 / count
    first_call = now - DAYS * 86400
    limit = len(text) - 4000
    for j in range(count):
        created = now - (j + rng.random()) * step
        call_index = min(calls - 1, max(0, int((created - first_call) / (DAYS * 86400) * calls)))
        spec = MODELS[models[call_index]]
        prompt = snippet(text, rng.randrange(limit), rng.choice((150, 300, 600, 1200)))
        answer = snippet(text, rng.randrange(limit), rng.choice((150, 400, 800, 1500)))
        tokens_in, tokens_out = len(prompt) // 4 + 8, len(answer) // 4 + 1
        hits = 0 if rng.random() < 0.5 else int(rng.paretovariate(1.2))
        last_hit = utc_text(created + rng.random() * (now - created)) if hits else None
        yield (
            hashlib.sha256(b"entry-%d" % j).hexdigest(),
            spec.endpoint,
            spec.model,
            COMPONENTS % (spec.endpoint, spec.model, prompt),
            prompt[:160],
            RESPONSE % (answer, spec.model, tokens_in, tokens_out),
            tokens_in,
            tokens_out,
            cost(spec, tokens_in, tokens_out),
            len(answer),
            utc_text(created),
            None if j % 20 == 0 else utc_text(created + 30 * 86400),
            last_hit,
            hits,
            call_index + 1,
        )


# -- the load ---------------------------------------------------------------------------------


@dataclass
class Built:
    """A database ready for the panes: its data directory, the time of its load, its sizes."""

    home: Path
    now: datetime
    calls: int
    entries: int
    phases: dict[str, float] = field(default_factory=dict)
    reused: bool = False

    @property
    def path(self) -> Path:
        """The database file."""
        return self.home / DATABASE_FILE


def build(home: Path, calls: int, entries: int) -> Built:
    """Create and bulk-load the database in `home` (see the module's docstring)."""
    home.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    built = Built(home, now, calls, entries)
    phases = built.phases
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        phases[name] = time.perf_counter() - clock
        clock = time.perf_counter()

    text = corpus()
    rng = random.Random(7)
    models = rng.choices(range(len(MODELS)), [m.weight for m in MODELS], k=calls)
    lap("generate corpus")
    store = Store.open(built.path)
    conn = store.db.conn
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    conn.execute("PRAGMA journal_mode = DELETE")  # load only: no 3 GB WAL to checkpoint after
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1048576")
    lap("open, migrate")
    conn.execute("BEGIN")
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    call_sql = f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}) VALUES"
    call_sql += f" ({', '.join('?' * len(CALL_COLUMNS))})"
    conn.executemany(call_sql, call_rows(calls, now.timestamp(), text, models))
    lap(f"insert {calls:,} calls")
    entry_sql = f"INSERT INTO cache_entries ({', '.join(ENTRY_COLUMNS)}) VALUES"
    entry_sql += f" ({', '.join('?' * len(ENTRY_COLUMNS))})"
    conn.executemany(entry_sql, entry_rows(entries, calls, now.timestamp(), text, models))
    lap(f"insert {entries:,} cache entries")
    conn.execute("INSERT INTO calls_fts(calls_fts) VALUES('rebuild')")
    lap("rebuild calls_fts")
    rebuild_usage_rollup(store.db)
    lap("fill usage_rollup (rebuild_usage_rollup)")
    for _, sql in triggers:
        conn.execute(sql)
    conn.execute("COMMIT")
    lap(f"recreate {len(triggers)} triggers, commit")
    conn.execute("ANALYZE")
    lap("ANALYZE")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    lap("WAL, checkpoint, close")
    check = sqlite3.connect(built.path)
    rollup_calls = check.execute("SELECT sum(calls) FROM usage_rollup").fetchone()[0]
    trigger_count = check.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
    ).fetchone()[0]
    found = check.execute(
        "SELECT count(*) FROM calls_fts WHERE calls_fts MATCH ?", [SEARCH_WORD]
    ).fetchone()[0]
    check.close()
    assert found > 0, "calls_fts finds nothing: it was not rebuilt"
    assert rollup_calls == calls, f"usage_rollup counts {rollup_calls} calls, not {calls}"
    assert trigger_count == len(triggers), "the triggers were not all created again"
    return built


def prepared(folder: Path, calls: int, entries: int, keep: bool) -> Built:
    """The database of these sizes: built in `folder`, or kept from an earlier run (--keep-db)."""
    if not keep:
        return build(folder / f"home-{calls}-{entries}", calls, entries)
    home = Path(tempfile.gettempdir()) / "tunedeck-bench-panes" / f"v{FORMAT}-{calls}-{entries}"
    meta = home / "bench.json"
    if meta.exists():
        saved = json.loads(meta.read_text(encoding="utf-8"))
        return Built(home, datetime.fromisoformat(saved["now"]), calls, entries, reused=True)
    shutil.rmtree(home, ignore_errors=True)
    built = build(home, calls, entries)
    meta.write_text(json.dumps({"now": built.now.isoformat()}), encoding="utf-8")
    return built


def describe_load(built: Built) -> None:
    """Print the load's phases and the file's size."""
    size = sum(p.stat().st_size for p in built.home.glob(f"{DATABASE_FILE}*")) / 1e6
    name = f"{built.calls:,} calls, {built.entries:,} cache entries"
    if built.reused:
        print(f"\n{name}: kept database {built.path} ({size:,.0f} MB), clock {iso(built.now)}")
        return
    total = sum(built.phases.values())
    print(f"\n{name}: built in {total:.1f} s ({size:,.0f} MB), clock {iso(built.now)}")
    for phase, seconds in built.phases.items():
        print(f"  {phase:38} {seconds:7.1f} s")


# -- measuring helpers ------------------------------------------------------------------------


def pct(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def ms(seconds: float) -> float:
    """Seconds as milliseconds."""
    return seconds * 1000


@dataclass
class Figure:
    """One measured operation: its samples (ms) and the target it must meet (None: none)."""

    name: str
    samples: list[float]
    target: float | None = None
    note: str = ""

    @property
    def median(self) -> float:
        """The median sample."""
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def p95(self) -> float:
        """The 95th percentile sample (nearest rank)."""
        return pct(self.samples, 95) if self.samples else float("nan")


Results = dict[str, Figure]


def add(results: Results, name: str, samples: list[float], target: float | None = None) -> None:
    """Record samples (ms) under `name`."""
    results[name] = Figure(name, samples, target)


class Probe:
    """Exact times of what the panes show, of every frame and of every layout.

    Wrapped class-wide, once: the methods that put a pane's data into its widgets (to note when
    they return and how long they took); `Screen._compositor_refresh` (a frame: rendering the
    dirty regions and handing them to the driver); `Screen._refresh_layout` (a reflow, frame
    excluded). Per app, `App._display` also encodes each frame to terminal bytes, the work a
    real terminal's frame costs beyond headless.
    """

    MARKED = (
        ("tui.widgets.cache.table", "CacheTable", "_show_window", "cache rows"),
        ("tui.widgets.cache.table", "CacheTable", "_apply_slide", "cache slide"),
        ("tui.screens.cache", "CacheScreen", "_show_stats", "cache stats"),
        ("tui.widgets.usage.log", "CallLogTable", "_show_window", "log rows"),
        ("tui.widgets.usage.log", "CallLogTable", "_apply_slide", "log slide"),
        ("tui.screens.usage", "UsageScreen", "_show_figures", "usage figures"),
    )

    def __init__(self) -> None:
        self.marks: dict[str, list[float]] = {name: [] for *_, name in self.MARKED}
        self.spans: dict[str, list[float]] = {name: [] for *_, name in self.MARKED}
        """Milliseconds each call of the wrapped methods took."""
        self.frames: list[tuple[float, float, object]] = []  # start, end, screen
        self.layouts: list[tuple[float, float]] = []  # start, ms of reflow (its frame excluded)
        self.styling: list[tuple[float, float]] = []  # start, ms of a stylesheet reparse/update
        self.collections: list[tuple[int, float]] = []  # generation, ms of a GC pass
        self._collecting = 0.0

    def install(self) -> None:
        """Wrap the methods that show data, make frames and lay out (once per process)."""
        from textual.css.stylesheet import Stylesheet
        from textual.screen import Screen

        for module, cls_name, method, name in self.MARKED:
            owner = getattr(importlib.import_module(module), cls_name)
            wrapped = self._marking(getattr(owner, method), self.marks[name], self.spans[name])
            setattr(owner, method, wrapped)
        refresh, layout, frames, layouts = (
            Screen._compositor_refresh,
            Screen._refresh_layout,
            self.frames,
            self.layouts,
        )

        def compositor_refresh(screen: Screen[Any]) -> None:
            top = screen.is_current
            started = time.perf_counter()
            refresh(screen)
            if top:
                frames.append((started, time.perf_counter(), screen))

        def refresh_layout(screen: Screen[Any], *args: Any, **kwargs: Any) -> None:
            started, before = time.perf_counter(), len(frames)
            layout(screen, *args, **kwargs)
            nested = sum(end - start for start, end, _ in frames[before:])
            layouts.append((started, ms(time.perf_counter() - started - nested)))

        setattr(Screen, "_compositor_refresh", compositor_refresh)  # noqa: B010
        setattr(Screen, "_refresh_layout", refresh_layout)  # noqa: B010
        for method in ("reparse", "update"):
            setattr(Stylesheet, method, self._timing(getattr(Stylesheet, method), self.styling))
        gc.callbacks.append(self._collected)

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._collecting = time.perf_counter()
        else:
            self.collections.append(
                (info["generation"], ms(time.perf_counter() - self._collecting))
            )

    @staticmethod
    def _timing(
        original: Callable[..., Any], into: list[tuple[float, float]]
    ) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                into.append((started, ms(time.perf_counter() - started)))

        return wrapper

    @staticmethod
    def _marking(
        original: Callable[..., Any], marks: list[float], spans: list[float]
    ) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            result = original(*args, **kwargs)
            marks.append(time.perf_counter())
            spans.append(ms(marks[-1] - started))
            return result

        return wrapper

    def encode_frames(self, app: TunedeckApp) -> None:
        """Encode every frame of `app` to terminal bytes (instance attribute over `_display`)."""
        display = app._display
        console = app.console

        def display_and_encode(screen: Any, update: Any) -> None:
            display(screen, update)
            if update is not None and hasattr(update, "render_segments"):
                update.render_segments(console)

        setattr(app, "_display", display_and_encode)  # noqa: B010

    def reflow_ms(self, since: float, until: float) -> float:
        """Milliseconds of layout between two moments."""
        return sum(spent for start, spent in self.layouts if since <= start <= until)

    def styling_ms(self, since: float, until: float) -> float:
        """Milliseconds of stylesheet reparses and updates between two moments."""
        return sum(spent for start, spent in self.styling if since <= start <= until)

    def frames_ms(self, since: float, until: float) -> float:
        """Milliseconds of frames (render + display) between two moments."""
        return sum(ms(end - start) for start, end, _ in self.frames if since <= start <= until)

    def count(self, name: str) -> int:
        """How many times `name` was shown so far."""
        return len(self.marks[name])

    async def shown(self, name: str, seen: int, timeout: float = 60.0) -> float:
        """When `name` was shown for the (`seen` + 1)th time (waits for it)."""
        marks = self.marks[name]
        await poll(lambda: len(marks) > seen, timeout)
        return marks[seen]

    async def frame_after(self, moment: float, screen: object = None) -> float:
        """The end of the first frame started after `moment` (of `screen`, if given)."""
        return (await self.frame_span(moment, screen))[1]

    async def frame_span(self, moment: float, screen: object = None) -> tuple[float, float]:
        """Start and end of the first frame started after `moment` (of `screen`, if given)."""

        def found() -> tuple[float, float] | None:
            for start, end, shown in self.frames:
                if start >= moment and (screen is None or shown is screen):
                    return start, end
            return None

        await poll(lambda: found() is not None, 10.0)
        return found() or (0.0, 0.0)


async def poll(condition: Callable[[], bool], timeout: float = 60.0) -> float:
    """Check `condition` every ~1 ms; the perf_counter time at which it was first seen true.

    `asyncio.sleep`, not `pilot.pause(0.001)`: a pause first waits for every widget of the
    screen to run a callback through its message queue, ~10 ms a step on these panes, which
    both blurs the figure and loads the event loop being measured.
    """
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the condition never became true")
        await asyncio.sleep(0.001)
    return time.perf_counter()


async def settle(pilot: Pilot[None]) -> None:
    """Wait for every worker and for what their results start (a page may fetch the next)."""
    for _ in range(3):
        with contextlib.suppress(WorkerCancelled):  # an exclusive worker replaced by a newer
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def post_key(app: App[Any], key: str) -> float:
    """Post a key as the terminal driver does; the perf_counter time it was posted."""
    started = time.perf_counter()
    app.post_message(events.Key(key, None))
    return started


def counted(owner: object, name: str) -> Callable[[], int]:
    """Count the calls of `owner.name` (an instance attribute shadows the method)."""
    original = getattr(owner, name)
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)
    return lambda: calls[0]


def timed(owner: object, name: str, into: list[float]) -> None:
    """Append the milliseconds of each call of `owner.name` (from any thread) to `into`."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(ms(time.perf_counter() - started))

    setattr(owner, name, wrapper)


class Bench:
    """The console on one database, as the pane tests build it, watched by a `Probe`."""

    def __init__(self, built: Built, probe: Probe) -> None:
        self.built = built
        self.probe = probe

    def make_app(self, *, prebuild: bool = True) -> TunedeckApp:
        """A console on the database, its store opened first (as `build_app` in the tests);
        without `prebuild`, no pane is built ahead (a user faster than the pre-build)."""
        engine = Engine(load_settings(self.built.home))
        engine.store  # noqa: B018 - open it here: workers must not race to open it
        now = self.built.now
        gc.disable()  # as the launcher (tui/cli): the app freezes and enables it at start
        app = TunedeckApp(
            engine, clock=lambda: now, warm_up=False, cursor_blink=False, collector_paused=True
        )
        app.animation_level = "none"
        if not prebuild:
            app.PREBUILT_PANES = ()
        self.probe.frames.clear()
        self.probe.layouts.clear()
        self.probe.styling.clear()
        self.probe.encode_frames(app)
        return app


async def wait_started(pilot: Pilot[None], *, prebuilt: bool) -> None:
    """Wait for the console's start-up work (and its panes built ahead), then freeze the GC's
    start-up objects as the warm-up (off here: no SDK import) ends with."""
    app = pilot.app
    if prebuilt:
        await poll(lambda: all(is_built(app, mode) for mode in PREBUILT), 60.0)
        await settle(pilot)
        await poll(lambda: all(pane(app, mode).rendered_ahead for mode in PREBUILT), 60.0)
    await settle(pilot)
    gc.collect()
    gc.freeze()


def pane(app: App[Any], mode: str) -> PaneScreen:
    """The screen of a pane already built."""
    screen = app._screen_stacks[mode][0]
    assert isinstance(screen, PaneScreen)
    return screen


# -- a) opening panes -------------------------------------------------------------------------


MARKS = {"cache": ("cache rows", "cache stats"), "usage": ("log rows", "usage figures")}
"""Per pane: the marks of its table's rows and of its figures."""


async def open_once(bench: Bench, pane: str, prebuilt: bool) -> dict[str, float]:
    """One first opening of the Cache or Usage pane in a fresh console: ms to each stage.

    Built ahead, its rows and figures are in before the key: they are on screen with the
    pane's first frame (checked: and nothing is read again)."""
    probe = bench.probe
    app = bench.make_app(prebuild=prebuilt)
    rows_mark, figures_mark = MARKS[pane]
    async with app.run_test(size=SIZE) as pilot:
        await wait_started(pilot, prebuilt=prebuilt)
        first_screen = app.screen
        rows_seen, figures_seen = probe.count(rows_mark), probe.count(figures_mark)
        begun = post_key(app, "alt+2" if pane == "cache" else "alt+3")
        shown = await poll(lambda: app.screen is not first_screen)
        screen_frame = await probe.frame_after(begun, app.screen)
        if prebuilt:
            rows = figures = rows_frame = both_frame = screen_frame
        else:
            rows = await probe.shown(rows_mark, rows_seen)
            figures = await probe.shown(figures_mark, figures_seen)
            rows_frame = await probe.frame_after(rows)
            both_frame = await probe.frame_after(max(rows, figures))
        await settle(pilot)
        if prebuilt:
            assert probe.count(rows_mark) == rows_seen, "a pane built ahead read its rows again"
        busy = {
            "styling": probe.styling_ms(begun, both_frame),
            "layout": probe.reflow_ms(begun, both_frame),
            "frames": probe.frames_ms(begun, both_frame),
        }
    app.engine.close()
    stages = {
        "shown": shown,
        "first frame": screen_frame,
        "rows": rows,
        "rows frame": rows_frame,
        "figures": figures,
        "all frame": both_frame,
    }
    return {name: ms(moment - begun) for name, moment in stages.items()} | busy


async def open_fresh(
    bench: Bench, pane: str, results: Results, samples: int, *, prebuilt: bool
) -> None:
    """Open the Cache or Usage pane for the first time in a fresh console, `samples` times."""
    spans = bench.probe.spans
    before = {name: len(values) for name, values in spans.items()}
    times: dict[str, list[float]] = {}
    for _ in range(samples):
        for name, value in (await open_once(bench, pane, prebuilt)).items():
            times.setdefault(name, []).append(value)
    how = "built ahead" if prebuilt else "built on the key"
    title = f"a) open {'Cache' if pane == 'cache' else 'Usage'} ({how}):"
    table = "table" if pane == "cache" else "log"
    figures = "stats line" if pane == "cache" else "totals, breakdown, chart"
    add(results, f"{title} mode switched", times["shown"])
    add(results, f"{title} first frame of the pane", times["first frame"], PANE_MS)
    if not prebuilt:
        add(results, f"{title} {table} rows in the widget", times["rows"], PANE_MS)
    add(results, f"{title} {table} rows on screen (frame)", times["rows frame"], PANE_MS)
    target = FIGURES_MS if pane == "cache" else PANE_MS
    if not prebuilt:
        add(results, f"{title} {figures} in the widgets", times["figures"], target)
    add(results, f"{title} everything on screen (frame)", times["all frame"], target)
    if not prebuilt:
        methods = {
            "cache rows": "CacheTable._show_window",
            "cache stats": "CacheScreen._show_stats",
            "log rows": "CallLogTable._show_window",
            "usage figures": "UsageScreen._show_figures",
        }
        for name in MARKS[pane]:
            spent = spans[name][before[name] :]
            add(results, f"{title}   {methods[name]} (filling the widgets)", spent)
    add(results, f"{title}   CSS: stylesheet reparse + update", times["styling"])
    add(results, f"{title}   layout (reflows)", times["layout"])
    add(results, f"{title}   frames (render + display)", times["frames"])


async def stalls_at_start(bench: Bench, results: Results, samples: int) -> None:
    """The event loop's longest stall in the 2 s after the first frame, with and without the
    panes built ahead (what a key typed then would wait for, beyond its own handling): in wall
    time, and in the event loop thread's CPU time (its own work: on a loaded machine the wall
    time also counts waiting for a core)."""
    for prebuilt in (True, False):
        walls: list[float] = []
        cpus: list[float] = []
        for _ in range(samples):
            app = bench.make_app(prebuild=prebuilt)
            async with app.run_test(size=SIZE):
                wall = cpu = 0.0
                until = time.perf_counter() + 2.0
                while time.perf_counter() < until:
                    begun, used = time.perf_counter(), time.thread_time()
                    await asyncio.sleep(0.005)
                    wall = max(wall, time.perf_counter() - begun - 0.005)
                    cpu = max(cpu, time.thread_time() - used)
                walls.append(ms(wall))
                cpus.append(ms(cpu))
            app.engine.close()
        how = "with the panes built ahead" if prebuilt else "without building ahead"
        add(results, f"a) start: longest event-loop stall in 2 s, {how} (wall)", walls)
        add(results, f"a) start: ... its event-loop thread's CPU, {how}", cpus)


async def reopen(bench: Bench, pilot: Pilot[None], results: Results, rounds: int) -> None:
    """Switch back to panes already built (alt+2, alt+3, alt+1 in turn), `rounds` times with
    nothing changed, then `rounds` times with a call logged before each return to Usage."""
    from tui.screens.usage import UsageScreen

    probe = bench.probe
    app = pilot.app
    assert isinstance(app, TunedeckApp)
    screens = {}
    for key in ("alt+2", "alt+3", "alt+1"):
        post_key(app, key)
        await settle(pilot)
        screens[key] = app.screen
    usage = screens["alt+3"]
    assert isinstance(usage, UsageScreen)
    figures_sql: list[float] = []
    log_sql: list[float] = []
    for method in ("daily", "breakdown", "models"):
        timed(usage.queries, method, figures_sql)
    timed(usage.queries, "log_page", log_sql)
    times: dict[str, list[float]] = {}
    rereads = 0
    for changed in (False, True):
        for _ in range(rounds):
            for key, name in (("alt+2", "Cache"), ("alt+3", "Usage"), ("alt+1", "Prompt")):
                await settle(pilot)
                if changed and key == "alt+3":
                    log_call(app.engine.store, bench.built.now)
                screen = screens[key]
                rows_seen, figures_seen = probe.count("log rows"), probe.count("usage figures")
                figures_reads, log_reads = len(figures_sql), len(log_sql)
                begun = post_key(app, key)
                await poll(partial(lambda shown: app.screen is shown, screen))
                frame = await probe.frame_after(begun, screen)
                label = f"{name}{' (new call)' if changed and key == 'alt+3' else ''}"
                times.setdefault(f"{label} frame", []).append(ms(frame - begun))
                if key != "alt+3":
                    continue
                if not changed:
                    await settle(pilot)
                    rereads += len(figures_sql) - figures_reads + len(log_sql) - log_reads
                    continue
                rows = await probe.shown("log rows", rows_seen)
                figures = await probe.shown("usage figures", figures_seen)
                done = await probe.frame_after(max(rows, figures))
                times.setdefault("Usage data", []).append(ms(max(rows, figures) - begun))
                times.setdefault("Usage done", []).append(ms(done - begun))
                spent = {
                    "figures SQL": sum(figures_sql[figures_reads:]),
                    "log SQL": sum(log_sql[log_reads:]),
                    "frames": probe.frames_ms(begun, done),
                }
                for part, value in spent.items():
                    times.setdefault(part, []).append(value)
    for name in ("Prompt", "Cache", "Usage"):
        add(results, f"a) switch back to {name}: first frame", times[f"{name} frame"], PANE_MS)
    results["a) switch back to Usage, nothing changed: reads"] = Figure(
        "reads", [float(rereads)], note="SQL reads in all rounds (0: the version check skips)"
    )
    title = "a) switch back to Usage after a new call:"
    add(results, f"{title} first frame", times["Usage (new call) frame"], PANE_MS)
    add(results, f"{title} log + figures read again", times["Usage data"], PANE_MS)
    add(results, f"{title} ... on screen (frame)", times["Usage done"], PANE_MS)
    for method, name in (
        ("CallLogTable._show_window", "log rows"),
        ("UsageScreen._show_figures", "usage figures"),
    ):
        add(results, f"{title}   {method}", probe.spans[name][-rounds:])
    parts = (
        ("figures SQL", "the figures' 3 reads in their worker (wall)"),
        ("log SQL", "the log page's read in its worker (wall)"),
        ("frames", "frames (render + display)"),
    )
    for part, label in parts:
        add(results, f"{title}   {label}", times[part])


def log_call(store: Store, now: datetime) -> None:
    """Log one finished call at `now` (as the Prompt pane does)."""
    messages = [{"role": "user", "content": "one more invoice"}]
    start = CallStart(iso(now), "openai", OPENAI, "gpt-4o-mini", False, {}, messages, "k", True)
    outcome = CallOutcome(iso(now), "ok", "answer", usage=Usage(10, 5), cost_usd=0.0001)
    store.calls.finish(store.calls.start(start), outcome)


# -- b) moving a page -------------------------------------------------------------------------


async def paging(
    bench: Bench, pilot: Pilot[None], pane: str, results: Results, presses: int
) -> None:
    """Press pagedown in the pane's table `presses` times, waiting for the app in between.

    Every key gives the time to the frame that shows the cursor moved (the rows are in the
    table already, their cells rendered ahead while idle). A key that calls for a slide of the
    window (the page read ahead is added, the farthest dropped, in idle time after that frame)
    also gives the time to the frame after the slide, and the slide's own time: work done
    while idle, which a key pressed meanwhile would wait for. Pages are read in a worker ahead
    of need: a key that finds the cursor at the last row of the window while more rows exist
    met the edge (should be 0)."""
    from tui.screens.cache import CacheScreen
    from tui.screens.usage import UsageScreen
    from tui.widgets.cache.table import CacheTable
    from tui.widgets.usage.log import CallLogTable

    probe = bench.probe
    app = pilot.app
    assert isinstance(app, TunedeckApp)
    post_key(app, "alt+2" if pane == "cache" else "alt+3")
    await settle(pilot)
    screen = app.screen
    sql: list[float] = []
    table: CacheTable | CallLogTable
    if isinstance(screen, CacheScreen):
        table, mark = screen.query_one(CacheTable), "cache slide"
        timed(app.engine.store.cache, "browse", sql)
    else:
        assert isinstance(screen, UsageScreen)
        table, mark = screen.query_one(CallLogTable), "log slide"
        timed(screen.queries, "log_page", sql)
    await poll(lambda: app.focused is table)
    keys: list[float] = []
    slid: list[float] = []
    slide_frames: list[float] = []
    key_frames: list[float] = []
    edges = 0
    spans_before = len(probe.spans[mark])
    for _ in range(presses):
        await settle(pilot)
        seen, cursor = probe.count(mark), table.cursor_row
        begun = post_key(app, "pagedown")
        moved = await poll(partial(lambda row: table.cursor_row != row, cursor), 5.0)
        frame_start, frame_end = await probe.frame_span(moved)
        keys.append(ms(frame_end - begun))
        key_frames.append(ms(frame_end - frame_start))
        if table.cursor_row == table.row_count - 1 and table.window.more("after"):
            edges += 1
        await settle(pilot)
        if probe.count(mark) > seen:
            slide_start, slide_end = await probe.frame_span(probe.marks[mark][seen])
            slid.append(ms(slide_end - begun))
            slide_frames.append(ms(slide_end - slide_start))
    await settle(pilot)
    title = "b) Cache table" if pane == "cache" else "b) Usage log"
    add(results, f"{title}: pagedown, to the frame showing it (every key)", keys, PANE_MS)
    add(results, f"{title}:   that frame", key_frames)
    # The slide comes in idle time after the key's own frame (tui/widgets/paging.py): nobody
    # waits for it, but a key pressed during it would.
    add(results, f"{title}: slide after a pagedown (idle), key to the slide's frame", slid)
    method = "CacheTable" if pane == "cache" else "CallLogTable"
    spans = probe.spans[mark][spans_before:]
    add(results, f"{title}:   {method}._apply_slide (add a page, drop one)", spans)
    add(results, f"{title}:   the frame after a slide", slide_frames)
    add(results, f"{title}:   a page's SQL (read ahead, in its worker)", sql)
    results[f"{title}:   keys that met the end of the rows"] = Figure(
        "edges", [float(edges)], note=f"of {presses} keys (0: pages are always read ahead)"
    )


async def poll_step(pilot: Pilot[None], results: Results) -> None:
    """What one `pilot.pause(0.001)` costs on an idle pane (why it is not used to poll)."""
    samples = []
    for _ in range(30):
        begun = time.perf_counter()
        await pilot.pause(0.001)
        samples.append(ms(time.perf_counter() - begun))
    add(results, "b) (reference: one pilot.pause(0.001) on the Usage pane)", samples)


async def measure_app(bench: Bench, results: Results, opens: int, presses: int) -> None:
    """Parts a and b on one database."""
    await stalls_at_start(bench, results, opens)
    for prebuilt in (True, False):
        await open_fresh(bench, "cache", results, opens, prebuilt=prebuilt)
        await open_fresh(bench, "usage", results, opens, prebuilt=prebuilt)
    app = bench.make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_started(pilot, prebuilt=True)
        collections = len(bench.probe.collections)
        await reopen(bench, pilot, results, opens)
        await paging(bench, pilot, "cache", results, presses)
        await paging(bench, pilot, "usage", results, presses)
        await poll_step(pilot, results)
        passes = bench.probe.collections[collections:]
        slow = [spent for generation, spent in passes if generation == 2]
        add(results, "b) (reference: full GC passes while switching and paging)", slow)
    app.engine.close()


# -- c) the reads alone -----------------------------------------------------------------------


Read = tuple[str, Callable[[], object], float | None]


def reads(engine: Engine, now: datetime) -> list[Read]:
    """The reads behind the panes and the status line, with their targets."""
    store = engine.store
    queries = UsageQueries(store)
    name, profile = engine.settings.resolve_profile()
    midnight = iso(now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0))
    newest = queries.log_page(CallFilter(limit=1))[0].id
    deep_id = newest - min(DEEP, newest // 2)
    listed = store.cache.browse(min(DEEP, store.cache.stats(iso(now)).entries // 2))
    anchor = (listed[-1].created_at, listed[-1].key)
    model = MODELS[1].model

    def page(**chosen: Any) -> Callable[[], object]:
        return lambda: queries.log_page(CallFilter(limit=100, **chosen))

    def deep_cache() -> object:
        return store.cache.browse(100, after=anchor)

    def status() -> object:
        return read_status(engine, name, profile.default_model, now)

    return [
        ("Usage totals: daily(now, 30) + totals_of", lambda: totals_of(queries.daily(now, 30)),
         FIGURES_MS),
        ("Usage breakdown by model", lambda: queries.breakdown("model", now, 30), FIGURES_MS),
        ("Usage breakdown by profile", lambda: queries.breakdown("profile", now, 30), FIGURES_MS),
        ("Usage models (recent_models)", queries.models, FIGURES_MS),
        ("Usage log page: newest 100", page(), PANE_MS),
        ("Usage log page: deep (5,000 back or half way)", page(before_id=deep_id), PANE_MS),
        ("Usage log page: errors only", page(errors_only=True), None),
        (f"Usage log page: model {model}", page(model=model), None),
        (f"Usage log page: search '{SEARCH_WORD}'", page(search=SEARCH_WORD), None),
        ("Cache page: newest 100 (browse)", lambda: store.cache.browse(100), PANE_MS),
        ("Cache page: deep (after entry 5,000 or half way)", deep_cache, PANE_MS),
        ("status line: read_status", status, FIGURES_MS),
        ("  its calls.usage(None, since=midnight)",
         lambda: store.calls.usage(None, since=midnight), None),
        ("store.cache.stats(now) (Cache pane, CLI)",
         lambda: store.cache.stats(iso(now)), FIGURES_MS),
        ("CLI usage: summary(None), the whole log", lambda: queries.summary(None), FIGURES_MS),
        ("CLI usage --by day", lambda: queries.summary("day"), FIGURES_MS),
        ("CLI usage --by model --since 7d",
         lambda: queries.summary("model", iso(now - timedelta(days=7))), FIGURES_MS),
        (f"CLI log --search {SEARCH_WORD} (CallLog.find)",
         lambda: store.calls.find(CallFilter(search=SEARCH_WORD, limit=20)), None),
        ("Prompt history: recent_prompts(200)", lambda: store.calls.recent_prompts(200), None),
    ]  # fmt: skip


def time_reads(built: Built, results: Results, runs: int, prefix: str = "") -> dict[str, list[str]]:
    """Part c: one cold run of each read then `runs` timed; returns each read's SELECTs."""
    engine = Engine(load_settings(built.home))
    statements: list[str] = []
    sql_of: dict[str, list[str]] = {}
    with engine.store.read() as db:
        connection = db.conn
    for name, action, target in reads(engine, built.now):
        statements.clear()
        connection.set_trace_callback(statements.append)
        started = time.perf_counter()
        action()
        cold = ms(time.perf_counter() - started)  # after the setup reads of `reads`
        connection.set_trace_callback(None)
        sql_of[name] = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            action()
            samples.append(ms(time.perf_counter() - started))
        label = f"c) {prefix}{name}"
        results[label] = Figure(label, samples, target, f"first run {cold:.1f}")
    engine.close()
    return sql_of


def plans(path: Path, statements: Sequence[str]) -> dict[str, str]:
    """EXPLAIN QUERY PLAN of each statement, on a new connection."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    found = {}
    for sql in statements:
        rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        found[sql] = "; ".join(str(row[-1]) for row in rows)
    connection.close()
    return found


def without_stats(built: Built, results: Results, runs: int, sql_of: dict[str, list[str]]) -> None:
    """Part c again with the statistics of ANALYZE removed (restored after)."""
    statements = [sql for sqls in sql_of.values() for sql in sqls]
    with_stats = plans(built.path, statements)
    connection = sqlite3.connect(built.path, isolation_level=None)
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sqlite_stat%'"
        )
    ]
    saved = {table: connection.execute(f"SELECT * FROM {table}").fetchall() for table in tables}
    for table in tables:
        connection.execute(f"DELETE FROM {table}")
    try:
        time_reads(built, results, runs, prefix="no ANALYZE: ")
        bare = plans(built.path, statements)
    finally:
        for table, rows in saved.items():
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        connection.close()
    print("\nquery plans that differ without sqlite_stat1 (a user's database: no ANALYZE):")
    differ = False
    for name, sqls in sql_of.items():
        for sql in sqls:
            if with_stats[sql] != bare[sql]:
                differ = True
                print(f"  {name}\n    SQL      {' '.join(sql.split())[:150]}")
                print(f"    ANALYZE  {with_stats[sql]}\n    none     {bare[sql]}")
    if not differ:
        print("  none")


# -- report -----------------------------------------------------------------------------------


def verdict(figure: Figure) -> str:
    """Whether the figure meets its target (median, then p95)."""
    if figure.target is None or not figure.samples:
        return ""
    if figure.median >= figure.target:
        return f"MISS (<{figure.target:.0f})"
    if figure.p95 >= figure.target:
        return f"ok median, p95 over {figure.target:.0f}"
    return f"ok (<{figure.target:.0f})"


def report(title: str, base: Results, large: Results) -> None:
    """One table: each figure on the baseline and on the large database, ratio, verdict."""
    width = max(len(name) for name in large) + 1
    print(f"\n{title} (ms)")
    columns = f"{'base':>7} {'median':>8} {'p95':>8} {'max':>8} {'n':>3} {'ratio':>6}  target"
    print(f"{'':{width}} {columns}")
    section = ""
    for name, figure in large.items():
        if name[:2] != section:
            section = name[:2]
            print()
        if not figure.samples:
            print(f"{name:{width}} {'':>7} {'-':>8}   (no samples)")
            continue
        reference = base.get(name.replace("no ANALYZE: ", ""))
        ratio = ""
        if reference is not None and reference.samples and reference.median > 0:
            ratio = f"x{figure.median / reference.median:.1f}"
        shown_base = f"{reference.median:7.1f}" if reference and reference.samples else f"{'':7}"
        line = (
            f"{name:{width}} {shown_base} {figure.median:8.1f} {figure.p95:8.1f}"
            f" {max(figure.samples):8.1f} {len(figure.samples):3d} {ratio:>6}  {verdict(figure)}"
        )
        print(line + (f"  [{figure.note}]" if figure.note else ""))


def import_panes() -> float:
    """Import the Cache and Usage panes' modules (done once, on first open): milliseconds."""
    started = time.perf_counter()
    for module in ("tui.screens.cache", "tui.screens.usage"):
        importlib.import_module(module)
    return ms(time.perf_counter() - started)


def main() -> None:
    """Build both databases, then measure a, b and c on each and compare."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--calls", type=int, help="calls in the large log (1,000,000)")
    parser.add_argument("--entries", type=int, help="cache entries (100,000)")
    parser.add_argument("--keep-db", action="store_true", help="keep and reuse built databases")
    args = parser.parse_args()
    calls = args.calls or (20_000 if args.quick else 1_000_000)
    entries = args.entries or (10_000 if args.quick else 100_000)
    opens, presses, runs = (3, 15, 5) if args.quick else (5, 60, 10)
    os.environ["TZ"] = "UTC"
    time.tzset()
    for name in [n for n in os.environ if n.startswith(("TUNEDECK_", "OPENAI_"))]:
        del os.environ[name]
    with tempfile.TemporaryDirectory(prefix="bench_panes_") as folder:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path(folder) / "tiktoken"))
        base = prepared(Path(folder), BASELINE_ROWS, BASELINE_ROWS, args.keep_db)
        describe_load(base)
        large = prepared(Path(folder), calls, entries, args.keep_db)
        describe_load(large)
        imported = import_panes()
        probe = Probe()
        probe.install()
        print(f"\nimporting the Cache and Usage pane modules (first open only): {imported:.0f} ms")
        measured: dict[str, Results] = {}
        sql_of: dict[str, list[str]] = {}
        for label, built in (("base", base), ("large", large)):
            results: Results = {}
            started, load = time.perf_counter(), os.getloadavg()[0]
            sql_of = time_reads(built, results, runs)
            asyncio.run(measure_app(Bench(built, probe), results, opens, presses))
            if label == "large":
                without_stats(built, results, runs, sql_of)
            measured[label] = results
            seconds, cores = time.perf_counter() - started, os.cpu_count()
            print(f"measured the {label} database in {seconds:.0f} s", end="")
            print(f" (load average {load:.2f} -> {os.getloadavg()[0]:.2f}, {cores} cores)")
        sizes = f"{calls:,} calls and {entries:,} cache entries"
        base_sizes = f"base: {BASELINE_ROWS:,} calls and {BASELINE_ROWS:,} entries"
        report(f"On {sizes} ({base_sizes})", measured["base"], measured["large"])


if __name__ == "__main__":
    main()
