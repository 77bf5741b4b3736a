"""Custom `javascript` scorers, run as promptfoo runs them, on an embedded QuickJS engine.

The value of a `javascript` assertion is one of:

| value                        | meaning                                                       |
|------------------------------|---------------------------------------------------------------|
| `file://path/to/x.js[:name]` | a CommonJS file (`module.exports = fn`, or `exports.name`); |
|                              | without `name`, the export itself, else its `default`         |
| one line                     | an expression returned (`output.length <= 280`); a line that  |
|                              | starts with `const`/`let`/`var` returns its last statement    |
| several lines                | the body of a function: it must `return` its verdict          |

The code is called as `function(output, context)`: `output` is the answer's text (after a
transform, what it returned: `core.evals.transforms`), `context` holds `vars`, `test`,
`config`, `prompt` (as sent), `latency_ms` and `cost_usd` (see `core.evals.scoring`). It
returns a boolean, a finite number (the score: it passes when at least `threshold`, else when
above 0) or an object `{pass, score, reason}` (promptfoo's GradingResult; `pass` decides). A
Promise is awaited. What it throws fails the assertion with the error's message as the reason,
`not-` or not; so does a run past `TIME_LIMIT_S` (an endless loop) or `MEMORY_LIMIT_BYTES`, and
a result that is none of these (a string, null, undefined: often a body that forgets `return`).

The engine runs in a child process (`core.evals.jsengine`), asked one call at a time from one
daemon thread: the event loop (and the console) never waits on a script, and Ctrl-C ends the
process at once. QuickJS does not check its time limit inside its regex engine, so a call that
has not answered by `DEADLINE_S` (a backtracking regex, `/^(a+)+$/`) fails with the time-limit
reason: its process is killed and the next call starts a fresh one, so the run goes on. Each
distinct code is compiled once in that process and kept (until it is killed). The engine is
ES2020 with most of ES2021 (no `Array.prototype.at`, `Object.hasOwn`, `findLast`: shimmed in
`core.evals.jsengine`), without `require`, `process` or `console`.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import queue
import re
import select
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from core.evals.scorers import Score
from core.evals.sources import SuiteProblem

TIME_LIMIT_S = 1.0
"""The longest one evaluation may run: a `while (true) {}` fails its assertion, not the run."""
MEMORY_LIMIT_BYTES = 64 * 1024 * 1024
"""The engine's memory; a script that runs out fails, and the engine starts afresh."""
DEADLINE_S = TIME_LIMIT_S + 1.0
"""The longest one call may take, whatever it does: past it the engine process is killed
(a backtracking regex, which QuickJS's own `TIME_LIMIT_S` does not stop)."""
START_TIMEOUT_S = 30.0
"""How long a new engine process may take to start (not counted in any call's deadline)."""

_FILE_REFERENCE = re.compile(r"(?P<path>.+?\.[cm]?js)(?::(?P<name>[A-Za-z_$][\w$]*))?")
_DECLARATION = re.compile(r"(const|let|var)\s")
_TRAILING_SEMICOLONS = re.compile(r";+\s*$")
_LOCATION = re.compile(r"<input>:(\d+)")
_TIME_LIMIT_REASON = f"stopped after the time limit ({TIME_LIMIT_S:g} s): an endless loop?"
_MODULES: dict[str, str] = {}
"""The source of each `file://` scorer, read as a suite naming it is loaded (`check`)."""
_MODULE_BYTES: dict[str, bytes] = {}
"""The bytes each of `_MODULES` was read from, as a suite's load read them."""
_PINNED: ContextVar[Mapping[str, str] | None] = ContextVar("pinned_scripts", default=None)
"""The sources of the `file://` scripts the run in this context started with (`pin`)."""


class ScriptError(Exception):
    """The script threw, or ran past a limit: its assertion fails, `not-` or not (as in
    promptfoo). The message is the reason, one line."""


def normalise_reference(value: str, resolve: Callable[[str], Path]) -> str:
    """The canonical form of a `javascript` value: a `file://` path made absolute
    (`file:///abs/x.js` or `file:///abs/x.js:name`), inline code as written.

    Raises:
        SuiteProblem: a `file://` value that names no `.js` file.
    """
    if not value.startswith("file://"):
        return value
    match = _FILE_REFERENCE.fullmatch(value.removeprefix("file://"))
    if not match:
        raise SuiteProblem(f"scorer {value!r}: expected file://path.js or file://path.js:function")
    path = resolve(match.group("path")).resolve()
    name = match.group("name")
    return f"file://{path}:{name}" if name else f"file://{path}"


def file_of(reference: str) -> Path | None:
    """The file a normalised `javascript` value names (None for inline code)."""
    return _split_file(reference)[0] if reference.startswith("file://") else None


def check(reference: str, content: bytes | None = None) -> None:
    """Compile a normalised `javascript` value (a file: load it, run its top-level code and find
    its function), so that bad code is refused when the suite loads. `content`: a file's bytes
    when the caller has read them (a suite's every case may name the same file: it is read
    again only when they changed).

    Raises:
        SuiteProblem: a syntax error (with its line), a missing file or function.
    """
    # A file is read anew each time a suite is loaded: scripts run in a long-lived process
    # (the console) use the code the user has just edited, the code the suite's version
    # was taken from.
    if content is None or _MODULE_BYTES.get(reference) != content:
        _MODULES.pop(reference, None)
    outside_a_run = _PINNED.set(None)  # the file as it is now, whatever a run holds
    try:
        source = function_source(reference)
    finally:
        _PINNED.reset(outside_a_run)
    if content is not None:
        _MODULE_BYTES[reference] = content
    try:
        _submit(lambda: _engine.ask({"op": "check", "source": source})).result()
    except _Thrown as error:
        raise SuiteProblem(_load_problem(reference, source, str(error))) from None
    except _Gone as gone:
        raise SuiteProblem(_load_problem(reference, source, str(gone))) from None


async def score(
    reference: str,
    output: str,
    context: dict[str, Any],
    threshold: float | None,
    *,
    output_is_json: bool = False,
) -> Score:
    """The verdict of the scorer `reference` (normalised) on the answer `output`.

    The script's verdict is read as promptfoo reads it (see the module). With
    `output_is_json`, `output` is the JSON text of a value a transform returned, and the
    script is given that value (`output.color`), as promptfoo gives it.

    Raises:
        ScriptError: the script threw, ran past the time or memory limit, or returned what
            is not a verdict (promptfoo fails it whatever the polarity).
    """
    verdict = await call(reference, "verdict", output, context, output_is_json=output_is_json)
    return _verdict(verdict, threshold)


async def call(
    reference: str,
    describe: Literal["verdict", "value"],
    output: str,
    context: dict[str, Any],
    *,
    output_is_json: bool = False,
) -> dict[str, Any]:
    """Call the function of `reference` (normalised) with `output` and `context`, on the
    engine thread, and describe what it returned: as a scorer's verdict (`verdict`: see
    `_PRELUDE`), or as a value (`value`: `{kind: text|json, text}`, or `{kind: none, value}`
    for null, undefined or a function, which have no JSON).

    Raises:
        ScriptError: the script threw, or ran past the time or memory limit.
    """
    request = {
        "op": "run",
        "source": function_source(reference),
        "describe": describe,
        "output": output,
        "is_json": output_is_json,
        "context": json.dumps(context, ensure_ascii=False, default=str),
    }
    try:
        answer = await asyncio.wrap_future(_submit(lambda: _engine.ask(request)))
    except _Thrown as error:
        raise ScriptError(_runtime_reason(str(error))) from None
    except _Gone as gone:
        raise ScriptError(str(gone)) from None
    return answer  # type: ignore[no-any-return]


def function_source(reference: str) -> str:
    """The JavaScript expression whose value is the scorer's function.

    Raises:
        SuiteProblem: a `file://` reference whose file cannot be read.
    """
    if reference.startswith("file://"):
        return _module_source(reference)
    code = reference.rstrip()
    body = code if "\n" in code else _one_line_body(code)
    # The body starts on the second line: an engine line N is the value's line N - 1.
    return f"(function (output, context) {{\n{body}\n}})"


def _one_line_body(code: str) -> str:
    """promptfoo's rule for one line: an expression returned; after declarations, the last
    statement returned; a line that already returns is taken as it is."""
    trimmed = _TRAILING_SEMICOLONS.sub("", code.strip())
    if trimmed.startswith("return ") or trimmed == "return":
        return trimmed
    if _DECLARATION.match(trimmed):
        last = _last_statement_end(trimmed)
        if last != -1 and trimmed[last + 1 :].strip():
            return f"{trimmed[: last + 1]} return {trimmed[last + 1 :].strip()}"
        return trimmed
    return f"return {trimmed}"


def _last_statement_end(code: str) -> int:
    """The index of the last `;` outside strings, comments and brackets, else -1."""
    last, depth, index, quote = -1, 0, 0, ""
    while index < len(code):
        char = code[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif code.startswith("//", index):
            break
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ";" and depth == 0:
            last = index
        index += 1
    return last


def _split_file(reference: str) -> tuple[Path, str]:
    """The path and function name (empty for the export itself) of a normalised reference."""
    location = reference.removeprefix("file://")
    path_text, _, name = location.rpartition(":")
    if not path_text.endswith("js"):
        return Path(location), ""
    return Path(path_text), name


def pin(references: Iterable[str]) -> None:
    """Hold, for the rest of the current context (a run's task and the tasks it starts), the
    sources of the `file://` scripts among `references` as they are read now: a suite loaded
    meanwhile does not change what scores the run. One that cannot be read is left out."""
    _PINNED.set(None)  # not what an earlier run in this context held
    pinned: dict[str, str] = {}
    for reference in references:
        if reference.startswith("file://"):
            try:
                pinned[reference] = _module_source(reference)
            except SuiteProblem:
                continue
    _PINNED.set(pinned)


def _module_source(reference: str) -> str:
    pinned = _PINNED.get()
    if pinned is not None and reference in pinned:
        return pinned[reference]
    source = _MODULES.get(reference)
    if source is None:
        source = _MODULES[reference] = _read_module(reference)
    return source


def _read_module(reference: str) -> str:
    path, name = _split_file(reference)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SuiteProblem(f"scorer {path.name}: cannot read {path} ({error})") from None
    wanted = json.dumps(name or None)
    label = json.dumps(f"{path.name}:{name}" if name else path.name)
    # The file starts on the second line, as an inline body does.
    return (
        "(function () { const module = {exports: {}}; let exports = module.exports;\n"
        f"{text}\n"
        f";const e = module.exports, name = {wanted};\n"
        "const f = name ? (e == null ? undefined : e[name]) : typeof e === 'function' ? e"
        " : e == null ? undefined : e.default;\n"
        f"if (typeof f !== 'function') throw new TypeError({label} + ': ' + "
        "(name ? name + ' is not a function the file exports' : 'the file exports no function'"
        " + ' (module.exports = function, or name one: file://x.js:name)'));\n"
        "return f; })()"
    )


def _load_problem(reference: str, source: str, error: str) -> str:
    message = _first_line(error)
    where = _LOCATION.search(error)
    line = int(where.group(1)) - 1 if where else None
    if reference.startswith("file://"):
        name = _split_file(reference)[0].name
        if message.startswith("SyntaxError") and re.search(r"^\s*export\s", source, re.M):
            message += " (ES module syntax: write module.exports = function ... instead)"
        # The file's lines are the source's but the first and the last four (`_read_module`).
        in_file = line is not None and 1 <= line <= source.count("\n") - 4
        return f"{name}: {message} (line {line})" if in_file else f"{name}: {message}"
    lines = reference.count("\n") + 1  # an error past the code (a missing `}`) is at its end
    return f"{message} (line {min(max(line or lines, 1), lines)} of the code)"


def _runtime_reason(error: str) -> str:
    message = _first_line(error)
    if message == "InternalError: interrupted":
        return _TIME_LIMIT_REASON
    if message in ("InternalError: out of memory", "null"):
        return f"ran out of memory (limit {MEMORY_LIMIT_BYTES // 2**20} MB)"
    return f"threw {message}"


def _first_line(error: str) -> str:
    text = error.strip()
    return text.splitlines()[0] if text else "Error"


def _verdict(verdict: dict[str, Any], threshold: float | None) -> Score:
    kind = verdict["kind"]
    if kind == "grading":
        passed, points = verdict["pass"], verdict["score"]
        points = float(points) if points is not None else 1.0 if passed else 0.0
        reason = verdict["reason"] or f"javascript returned pass={str(passed).lower()}"
        return Score(passed, points, reason)
    value = verdict["value"]
    if kind == "boolean":
        return Score(value, 1.0 if value else 0.0, f"javascript returned {str(value).lower()}")
    if kind == "number":
        passed = value >= threshold if threshold is not None else value > 0
        return Score(passed, float(value), f"javascript returned {value:g}")
    raise ScriptError(
        f"javascript returned {value}, not a boolean, a finite number or {{pass, score, reason}}"
    )


class _Thrown(Exception):
    """The engine's error message for a script (a throw, a limit, a syntax error)."""


class _Gone(Exception):
    """The engine process did not answer: past the deadline, or it died."""


class _EngineProcess:
    """The engine's child process (`core.evals.jsengine`), asked one request at a time on the
    engine thread. A call that passes `DEADLINE_S` kills it; the next call starts another."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def ask(self, request: dict[str, Any]) -> Any:
        """The engine's answer to `request`.

        Raises:
            _Thrown: the script threw or ran past a limit the engine checks.
            _Gone: no answer by the deadline (the process is killed), or the process died.
        """
        process = self.process or self._start()
        assert process.stdin is not None and process.stdout is not None
        ready: list[Any] = []
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], DEADLINE_S)
            line = process.stdout.readline() if ready else b""
        except OSError:
            line = b""
        if not line:
            self.stop()
            raise _Gone(_TIME_LIMIT_REASON if not ready else "the JavaScript engine stopped")
        answer = json.loads(line)
        if "error" in answer:
            raise _Thrown(answer["error"])
        return answer["value"]

    def stop(self) -> None:
        """Kill the process (if any) and reap it."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()

    def _start(self) -> subprocess.Popen[bytes]:
        # -P: the script's folder is not put on sys.path (its modules would shadow others).
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-P",
                str(_ENGINE_SCRIPT),
                str(TIME_LIMIT_S),
                str(MEMORY_LIMIT_BYTES),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        # Starting is not the script's time: a loaded machine may take seconds to start Python.
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT_S)
        if not ready or not self.process.stdout.readline():
            self.stop()
            raise _Gone("the JavaScript engine did not start")
        return self.process


_ENGINE_SCRIPT = Path(__file__).with_name("jsengine.py")
_engine = _EngineProcess()
_jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
_thread_lock = threading.Lock()
_threads: list[threading.Thread] = []
atexit.register(_engine.stop)


def _serve() -> None:
    """The engine thread: run each job in turn."""
    while True:
        work, future = _jobs.get()
        if not future.set_running_or_notify_cancel():
            continue
        try:
            future.set_result(work())
        except BaseException as error:  # handed to the caller
            future.set_exception(error)


def _submit(work: Callable[[], Any]) -> Future[Any]:
    """Run `work` on the engine thread, a daemon: Ctrl-C ends the process without waiting."""
    with _thread_lock:
        if not _threads:
            thread = threading.Thread(target=_serve, name="tunedeck-js", daemon=True)
            thread.start()
            _threads.append(thread)
    future: Future[Any] = Future()
    _jobs.put((work, future))
    return future
