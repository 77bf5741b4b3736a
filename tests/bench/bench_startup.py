"""Cold start of the real `tunedeck` command to its first frame, against baselines in the same run.

Run: python tests/bench/bench_startup.py [--quick] [--runs N]. Not collected by pytest.

Every sample is a fresh process, timed from `subprocess.Popen` to the moment the child writes a
marker line from the app's first `textual.events.Ready` (Textual posts it right after the first
compositor refresh: the first frame). The child exits there (`os._exit`), so shutdown is not
timed. The marker comes from a `sitecustomize` probe put on PYTHONPATH: it hooks the import of
`textual.app` and gives `App` an `_on_ready` handler, so the command under test is the unmodified
`tunedeck` console script (`tui.cli.main`, `launch_console`, `TunedeckApp(...).run()`), run headless
through TEXTUAL_DRIVER=textual.drivers.headless_driver:HeadlessDriver. Headless skips only the
final ANSI encoding and terminal write of the frame; widgets are composed, laid out and rendered.

Variants, interleaved round-robin so drift hits all alike (one untimed warm run of each first):
  python -c (baseline a)  interpreter start: the child writes the marker at once.
  minimal Textual app (b) Header, Static, Footer.
  tunedeck                the real command, warm-up thread on (as users run it).
  tunedeck, no warm-up    diagnostic: the warm-up worker (openai, tiktoken, genai_prices imports
                          in a thread) disabled, to see what it costs the first frame via the GIL.
  tunedeck, workers deferred  diagnostic: no thread worker starts before the first frame (the
                          status, history, model list, estimate and warm-up workers would start
                          after it): what deferring them from on_mount to after the frame buys.
  tunedeck, as in this env  diagnostic: PYTHONDONTWRITEBYTECODE=1 as set on the dev machines, so
                          the editable first-party modules are compiled from source at every start.

Byte-code is otherwise cached (PYTHONPYCACHEPREFIX in the temporary directory, written by the
untimed runs), as an installed user's would be; nothing is written into the source tree.

TUNEDECK_HOME is a temporary directory whose config points at the fake OpenAI server (so the
background model listing finds a server), created once: every timed run opens an existing
database, as a returning user's does.

Then `python -X importtime` of the same command (thread workers deferred, so the start path's
imports are timed without another thread importing at the same time; the probe records which
thread imported each module) gives the top 10 first-party imports by cumulative time and the
costliest third-party packages on the main thread, and a traced run of the real command checks
that openai, genai_prices and tiktoken stay off the main thread before the first frame.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # for tests.support

from tests.support.fake_openai import FakeOpenAI

GOAL_MS = 1000.0
MARKER = "@@FIRST_FRAME@@"
HEAVY = ("openai", "genai_prices", "tiktoken")
FIRST_PARTY = ("core", "storage", "tui")
CHILD_TIMEOUT = 60.0
UNSET = "\0unset"  # an extra_env value that removes the variable
AS_IS = {"PYTHONPYCACHEPREFIX": UNSET}  # site-packages' own __pycache__, nothing for the tree

# The probe: imported by `site` at interpreter start in every child (inert without BENCH_PROBE).
PROBE = '''"""Benchmark probe: report the first frame of any Textual app, then exit."""
import os
import sys
import time

_T0 = time.perf_counter()

if os.environ.get("BENCH_PROBE") == "1":
    import _thread

    _HEAVY = ("openai", "genai_prices", "tiktoken")
    _TRACE = os.environ.get("BENCH_TRACE", "")
    _MAIN = _thread.get_ident()
    _imports = {"main": [], "other": []}
    _PathFinder = next(f for f in sys.meta_path if getattr(f, "__name__", "") == "PathFinder")

    def _on_ready(self, event):
        now = time.perf_counter()
        heavy = ",".join(name for name in _HEAVY if name in sys.modules) or "-"
        since_app = (now - self._start_time) * 1000
        cpu = time.thread_time() * 1000
        line = f"@@FIRST_FRAME@@ {(now - _T0) * 1000:.1f} {since_app:.1f} {cpu:.1f} {heavy}\\n"
        if _TRACE:
            with open(_TRACE, "w", encoding="utf-8") as out:
                out.write(repr(_imports))
        os.write(1, line.encode())
        os._exit(0)

    def _patch_app(module):
        app_class = module.App
        app_class._on_ready = _on_ready
        if os.environ.get("BENCH_NO_WARM_UP") == "1":
            original_run = app_class.run

            def run(self, *args, **kwargs):
                if hasattr(self, "_warm"):
                    self._warm = False
                return original_run(self, *args, **kwargs)

            app_class.run = run

    def _patch_worker(module):
        original_start = module.Worker._start

        def _start(self, app, done_callback=None):
            if not self._thread_worker:  # thread workers: held past the first frame
                original_start(self, app, done_callback)

        module.Worker._start = _start

    _HOOKS = {"textual.app": _patch_app}
    if os.environ.get("BENCH_DEFER_WORKERS") == "1":
        _HOOKS["textual.worker"] = _patch_worker

    class _Finder:
        @classmethod
        def find_spec(cls, name, path=None, target=None):
            if _TRACE:
                _imports["main" if _thread.get_ident() == _MAIN else "other"].append(name)
            hook = _HOOKS.get(name)
            if hook is None:
                return None
            spec = _PathFinder.find_spec(name, path)
            exec_module = spec.loader.exec_module

            def exec_and_patch(module):
                exec_module(module)
                hook(module)

            spec.loader.exec_module = exec_and_patch
            return spec

    sys.meta_path.insert(0, _Finder)
'''

INTERPRETER = (
    f"import os, time; os.write(1, f'{MARKER} 0 0 {{time.thread_time() * 1000:.1f}} -\\n'.encode())"
)

MINIMAL_APP = """
from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("hello")
        yield Footer()


Minimal().run()
"""

CONFIG = """
default_profile = "fake"

[profiles.fake]
base_url = "{base_url}"
api_key_env = "FAKE_API_KEY"
default_model = "gpt-4o-mini"
timeout = 5.0
max_retries = 0
"""


@dataclass(frozen=True)
class Sample:
    """One child: wall ms from Popen to the marker, and what the child reported."""

    wall_ms: float
    child_ms: float  # from the probe's import (interpreter up) to the first frame
    app_ms: float  # from App.__init__ to the first frame
    main_cpu_ms: float  # CPU time of the main thread at the first frame (load-independent-ish)
    cpu_ms: float  # CPU time (user + sys) of the whole process, all threads, until it exited
    heavy: str  # heavy modules in sys.modules at the first frame (any thread)


@dataclass
class Variant:
    """A command measured the same way as the others."""

    label: str
    command: list[str]
    extra_env: dict[str, str] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(s.wall_ms for s in self.samples)

    def minimum(self) -> float:
        return min(s.wall_ms for s in self.samples)


def child_env(home: Path, probe_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    """The parent's environment without tunedeck/OpenAI/Textual settings, plus the probe's."""
    prefixes = ("TUNEDECK_", "OPENAI_", "TEXTUAL_", "PYTHONPROFILEIMPORTTIME", "BENCH_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.pop("NO_COLOR", None)
    # Byte-code is cached as for an installed user, in the temporary directory (not the tree).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        PYTHONPYCACHEPREFIX=str(home.parent / "pycache"),
        TUNEDECK_HOME=str(home),
        TIKTOKEN_CACHE_DIR=str(home / "tiktoken"),
        FAKE_API_KEY="sk-bench-0123456789abcdef",
        TEXTUAL_DRIVER="textual.drivers.headless_driver:HeadlessDriver",
        PYTHONPATH=str(probe_dir),
        BENCH_PROBE="1",
        COLUMNS="120",
        LINES="36",
    )
    env.update(extra)
    return {k: v for k, v in env.items() if v != UNSET}


def run_child(command: Sequence[str], env: dict[str, str], stderr_path: Path) -> Sample:
    """Start `command`, wait for the marker line, return the timings (the child exits itself)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with stderr_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, env=env)
        killer = threading.Timer(CHILD_TIMEOUT, proc.kill)
        killer.start()
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                if raw.startswith(MARKER.encode()):
                    wall = (time.perf_counter() - start) * 1000
                    break
            else:
                proc.wait()
                tail = stderr_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"{command[0]}: no first frame (exit {proc.returncode}):\n{tail}"
                )
        finally:
            killer.cancel()
            if proc.poll() is None:
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    _, child_ms, app_ms, main_cpu, heavy = raw.decode().split()
    return Sample(wall, float(child_ms), float(app_ms), float(main_cpu), cpu, heavy)


# -- import profile ---------------------------------------------------------------------------

IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)\s*$")


def parse_importtime(text: str) -> dict[str, tuple[int, int]]:
    """`-X importtime` lines: module -> (self us, cumulative us)."""
    found: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            found.setdefault(match[3], (int(match[1]), int(match[2])))
    return found


def read_trace(path: Path) -> dict[str, list[str]]:
    """The probe's record of which modules each thread imported before the first frame."""
    trace: dict[str, list[str]] = ast.literal_eval(path.read_text(encoding="utf-8"))
    return trace


def is_first_party(name: str) -> bool:
    return name.split(".")[0] in FIRST_PARTY


def profile_imports(
    script: str, home: Path, probe_dir: Path, folder: Path
) -> tuple[dict[str, tuple[int, int]], dict[str, list[str]]]:
    """One `python -X importtime` run of the command, with the probe's thread trace."""
    trace_path = folder / "trace.txt"
    stderr_path = folder / "importtime.txt"
    env = child_env(home, probe_dir, {"BENCH_DEFER_WORKERS": "1", "BENCH_TRACE": str(trace_path)})
    run_child([sys.executable, "-X", "importtime", script], env, stderr_path)
    return parse_importtime(stderr_path.read_text(errors="replace")), read_trace(trace_path)


def report_imports(times: dict[str, tuple[int, int]], trace: dict[str, list[str]]) -> None:
    """Top 10 first-party imports, and third-party packages, by cumulative time (main thread)."""
    main = set(trace["main"])
    on_main = {name: t for name, t in times.items() if name in main}
    ours = sorted(((n, t) for n, t in on_main.items() if is_first_party(n)), key=lambda i: -i[1][1])
    print("\nc) imports on the start path (python -X importtime, main thread, workers deferred)")
    print(f"   {'first-party module':34} {'self ms':>8} {'cumul. ms':>10}")
    for name, (self_us, cumulative) in ours[:10]:
        print(f"   {name:34} {self_us / 1000:8.1f} {cumulative / 1000:10.1f}")
    by_package: dict[str, tuple[str, int]] = {}
    for name, (_, cumulative) in on_main.items():
        root = name.split(".")[0]
        if is_first_party(name) or root.startswith("_") or root in sys.stdlib_module_names:
            continue
        if cumulative > by_package.get(root, ("", -1))[1]:
            by_package[root] = (name, cumulative)
    top = sorted(by_package.items(), key=lambda i: -i[1][1])[:10]
    print(f"\n   {'third-party package (costliest module)':48} {'cumul. ms':>10}")
    for root, (name, cumulative) in top:
        print(f"   {f'{root} ({name})':48} {cumulative / 1000:10.1f}")
    total = sum(self_us for self_us, _ in on_main.values()) / 1000
    print(f"   all main-thread imports before the first frame (sum of self): {total:.0f} ms")


def report_leaks(trace: dict[str, list[str]], label: str) -> bool:
    """Whether a heavy package was imported by the main thread before the first frame."""
    main = {name.split(".")[0] for name in trace["main"]}
    other = {name.split(".")[0] for name in trace["other"]}
    leaked = [name for name in HEAVY if name in main]
    background = [name for name in HEAVY if name in other]
    print(
        f"   {label}: main thread imported {', '.join(leaked) or 'none of them'}; "
        f"background threads {', '.join(background) or 'none'} (before the first frame)"
    )
    return not leaked


def med(values: Iterable[float]) -> float:
    return statistics.median(values)


def report_startup(variants: Sequence[Variant], runs: int) -> None:
    """The table of part a/b, ratios to the minimal app, and the verdict on the goal."""
    minimal = variants[1]
    minimal_cpu = med(s.main_cpu_ms for s in minimal.samples)
    print(f"a/b) cold start to first frame, {runs} fresh processes each, headless 120x36 (ms)")
    print(
        f"{'':28} {'median':>7} {'min':>7} {'x min.':>7} {'in-proc':>8} {'app':>6}"
        f" {'main CPU':>9} {'x min.':>7} {'all CPU':>8}   heavy modules at first frame"
    )
    for variant in variants:
        main_cpu = med(s.main_cpu_ms for s in variant.samples)
        heavy = " | ".join(sorted({s.heavy for s in variant.samples}))
        print(
            f"{variant.label:28} {variant.median():7.0f} {variant.minimum():7.0f}"
            f" {variant.median() / minimal.median():7.2f}"
            f" {med(s.child_ms for s in variant.samples):8.0f}"
            f" {med(s.app_ms for s in variant.samples):6.0f}"
            f" {main_cpu:9.0f} {main_cpu / minimal_cpu:7.2f}"
            f" {med(s.cpu_ms for s in variant.samples):8.0f}   {heavy}"
        )
    print(
        "median/min: wall from Popen to the first frame; x min.: ratio to the minimal app;\n"
        "in-proc: wall from interpreter up (site imports the probe) to the first frame;\n"
        "app: from App.__init__ to it; main CPU: the main thread's CPU time at the first frame\n"
        "(what the start path costs, little affected by other load); all CPU: user+sys of the\n"
        "process, every thread."
    )
    real = variants[2]
    verdict = "UNDER" if real.median() < GOAL_MS else "OVER"
    print(
        f"tunedeck median {real.median():.0f} ms (min {real.minimum():.0f}): {verdict} the"
        f" {GOAL_MS:.0f} ms goal; x{real.median() / minimal.median():.2f} the minimal app"
    )


# -- main -------------------------------------------------------------------------------------


def tunedeck_script() -> str:
    """The `tunedeck` console script of this interpreter's environment."""
    beside = Path(sys.executable).parent / "tunedeck"
    found = str(beside) if beside.exists() else shutil.which("tunedeck")
    if not found:
        raise SystemExit("the `tunedeck` console script is not installed (pip install -e .)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs of each variant")
    parser.add_argument("--runs", type=int, help="timed runs of each variant (7)")
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 7)
    script = tunedeck_script()
    variants = [
        Variant("python -c (baseline a)", [sys.executable, "-c", INTERPRETER]),
        Variant("minimal Textual app (b)", [sys.executable, "-c", MINIMAL_APP]),
        Variant("tunedeck", [script]),
        Variant("tunedeck, no warm-up", [script], {"BENCH_NO_WARM_UP": "1"}),
        Variant("tunedeck, workers deferred", [script], {"BENCH_DEFER_WORKERS": "1"}),
        Variant("tunedeck, as in this env", [script], {"PYTHONDONTWRITEBYTECODE": "1", **AS_IS}),
    ]
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as name, FakeOpenAI() as fake:
        folder = Path(name)
        probe_dir, home = folder / "probe", folder / "home"
        probe_dir.mkdir()
        home.mkdir()
        (probe_dir / "sitecustomize.py").write_text(PROBE, encoding="utf-8")
        (home / "config.toml").write_text(CONFIG.format(base_url=fake.base_url), "utf-8")
        stderr_path = folder / "stderr.txt"
        for variant in variants:  # untimed: byte-code caches, database creation, page cache
            run_child(variant.command, child_env(home, probe_dir, variant.extra_env), stderr_path)
        for _ in range(runs):
            for variant in variants:
                env = child_env(home, probe_dir, variant.extra_env)
                variant.samples.append(run_child(variant.command, env, stderr_path))

        report_startup(variants, runs)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}")

        times, trace = profile_imports(script, home, probe_dir, folder)
        report_imports(times, trace)
        print("\nd) heavy imports before the first frame (probe's per-thread trace)")
        clean = report_leaks(trace, "workers deferred")
        env = child_env(home, probe_dir, {"BENCH_TRACE": str(folder / "trace-warm.txt")})
        run_child([script], env, stderr_path)
        clean = report_leaks(read_trace(folder / "trace-warm.txt"), "real command") and clean
        print(f"   lazy imports hold: {'yes' if clean else 'NO'}")


if __name__ == "__main__":
    main()
