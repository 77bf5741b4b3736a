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
transform, what it returned: `core.evals.transforms`), `context`
holds `vars`, `test`, `config`, `latency_ms` and `cost_usd` (see `core.evals.scoring`). It
returns a boolean, a finite number (the score: it passes when at least `threshold`, else when
above 0) or an object `{pass, score, reason}` (promptfoo's GradingResult; `pass` decides). A
Promise is awaited. What it throws fails the assertion with the error's message as the reason;
so does a run past `TIME_LIMIT_S` (an endless loop) or `MEMORY_LIMIT_BYTES`.

QuickJS runtimes crash when more than one thread touches them, so every evaluation runs on one
dedicated thread, which owns the engine: the event loop (and the console) never waits on a
script, and a runaway loop holds back only the other scripts. Each distinct code is compiled
once and kept. The engine is ES2020 with most of ES2021 (no `Array.prototype.at`,
`Object.hasOwn`, `findLast`: shimmed below), without `require`, `process` or `console`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import quickjs  # type: ignore[import-untyped]

from core.evals.scorers import Score
from core.evals.sources import SuiteProblem

TIME_LIMIT_S = 1.0
"""The longest one evaluation may run: a `while (true) {}` fails its assertion, not the run."""
MEMORY_LIMIT_BYTES = 64 * 1024 * 1024
"""The engine's memory; a script that runs out fails, and the engine starts afresh."""

_FILE_REFERENCE = re.compile(r"(?P<path>.+?\.[cm]?js)(?::(?P<name>[A-Za-z_$][\w$]*))?")
_DECLARATION = re.compile(r"(const|let|var)\s")
_TRAILING_SEMICOLONS = re.compile(r";+\s*$")
_LOCATION = re.compile(r"<input>:(\d+)")
_MAX_COMPILED = 4096
_PROMISE_JOBS = 100_000
_MODULES: dict[str, str] = {}
"""The source of each `file://` scorer, read once per process (as Python scorers load)."""

# Shims of ES2022 methods the engine lacks, then the driver that calls a scorer (or a
# transform) and describes its verdict (or the value it returned: `__tunedeck_shape`, the text
# promptfoo's assertions see) as JSON; a Promise is settled by `_settle`.
_PRELUDE = r"""
for (const C of [Array, String]) {
  if (!C.prototype.at) Object.defineProperty(C.prototype, 'at', {configurable: true,
    writable: true, value(i) {
      i = Math.trunc(i) || 0; return this[i < 0 ? this.length + i : i]; }});
}
if (!Array.prototype.findLast) Object.defineProperty(Array.prototype, 'findLast', {
  configurable: true, writable: true, value(f, t) {
    for (let i = this.length - 1; i >= 0; i--) if (f.call(t, this[i], i, this)) return this[i]; }});
if (!Object.hasOwn) Object.hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
globalThis.__tunedeck_describe = function (r) {
  if (typeof r === 'boolean') return JSON.stringify({kind: 'boolean', value: r});
  if (typeof r === 'number' && Number.isFinite(r)) {
    return JSON.stringify({kind: 'number', value: r});
  }
  if (r !== null && typeof r === 'object' && typeof r.pass === 'boolean') {
    const score = typeof r.score === 'number' && Number.isFinite(r.score) ? r.score : null;
    const reason = r.reason === undefined || r.reason === null ? null : String(r.reason);
    return JSON.stringify({kind: 'grading', pass: r.pass, score, reason});
  }
  const shown = r === null ? 'null' : typeof r === 'number' ? String(r) : typeof r;
  return JSON.stringify({kind: 'other', value: shown});
};
globalThis.__tunedeck_shape = function (v) {
  if (v === null || v === undefined) return JSON.stringify({kind: 'none', value: String(v)});
  if (typeof v === 'string') return JSON.stringify({kind: 'text', text: v});
  const text = JSON.stringify(v);
  if (text === undefined) return JSON.stringify({kind: 'none', value: typeof v});
  return JSON.stringify({kind: 'json', text});
};
globalThis.__tunedeck_run = function (fn, describe, output, isJson, contextJson) {
  const r = fn(isJson ? JSON.parse(output) : output, JSON.parse(contextJson));
  if (r === null || typeof r !== 'object' || typeof r.then !== 'function') return describe(r);
  const box = globalThis.__tunedeck_box = {done: false};
  r.then((v) => { box.done = true; box.text = describe(v); },
         (e) => {
           box.done = true;
           box.error = e instanceof Error ? e.name + ': ' + e.message : String(e); });
  return null;
};
"""


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


def check(reference: str) -> None:
    """Compile a normalised `javascript` value (a file: load it, run its top-level code and find
    its function), so that bad code is refused when the suite loads.

    Raises:
        SuiteProblem: a syntax error (with its line), a missing file or function.
    """
    source = function_source(reference)
    try:
        _on_engine_thread(lambda: _engine().function(source))
    except quickjs.JSException as error:
        raise SuiteProblem(_load_problem(reference, source, error)) from None


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
        ScriptError: the script threw, or ran past the time or memory limit.
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
    source = function_source(reference)
    context_json = json.dumps(context, ensure_ascii=False, default=str)
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(
            _executor(),
            lambda: _engine().run(source, describe, output, output_is_json, context_json),
        )
    except quickjs.JSException as error:
        raise ScriptError(_runtime_reason(error)) from None


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


def _module_source(reference: str) -> str:
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


def _load_problem(reference: str, source: str, error: quickjs.JSException) -> str:
    message = _first_line(error)
    where = _LOCATION.search(str(error))
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


def _runtime_reason(error: quickjs.JSException) -> str:
    message = _first_line(error)
    if message == "InternalError: interrupted":
        return f"stopped after the time limit ({TIME_LIMIT_S:g} s): an endless loop?"
    if message in ("InternalError: out of memory", "null"):
        return f"ran out of memory (limit {MEMORY_LIMIT_BYTES // 2**20} MB)"
    return f"threw {message}"


def _first_line(error: quickjs.JSException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


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
    return Score(
        False,
        0.0,
        f"javascript returned {value}, not a boolean, a finite number or {{pass, score, reason}}",
    )


class _Engine:
    """One QuickJS context with the scorers compiled in it. Used on the engine thread only."""

    def __init__(self) -> None:
        self.context = quickjs.Context()
        self.context.set_time_limit(TIME_LIMIT_S)
        self.context.set_memory_limit(MEMORY_LIMIT_BYTES)
        self.context.eval(_PRELUDE)
        self.runner = self.context.get("__tunedeck_run")
        self.describers = {
            "verdict": self.context.get("__tunedeck_describe"),
            "value": self.context.get("__tunedeck_shape"),
        }
        self.compiled: dict[str, Any] = {}

    def function(self, source: str) -> Any:
        """The function `source` evaluates to, compiled once."""
        function = self.compiled.get(source)
        if function is None:
            function = self.context.eval(source)
            if len(self.compiled) >= _MAX_COMPILED:
                del self.compiled[next(iter(self.compiled))]
            self.compiled[source] = function
        return function

    def run(
        self, source: str, describe: str, output: str, is_json: bool, context_json: str
    ) -> dict[str, Any]:
        """What `source`'s function returned on `output`, described (see `_PRELUDE`)."""
        try:
            function = self.function(source)
            text = self.runner(function, self.describers[describe], output, is_json, context_json)
            if text is None:
                text = self._settle()
        except quickjs.JSException as error:
            if _first_line(error) in ("InternalError: out of memory", "null"):
                _reset()  # an engine out of memory is left unusable
            raise
        finally:
            self.context.gc()
        return json.loads(text)  # type: ignore[no-any-return]

    def _settle(self) -> str:
        """Run the engine's pending jobs until the Promise a scorer returned settles."""
        for _ in range(_PROMISE_JOBS):
            if not self.context.execute_pending_job():
                break
        box = self.context.get("__tunedeck_box").json()
        self.context.eval("globalThis.__tunedeck_box = undefined")
        settled = json.loads(box)
        if not settled.get("done"):
            raise quickjs.JSException("Error: the Promise the script returned never settled")
        if "error" in settled:
            raise quickjs.JSException(settled["error"])
        return str(settled["text"])


_state: dict[str, Any] = {}
"""The engine thread's executor and, touched on that thread only, its engine."""


def _executor() -> ThreadPoolExecutor:
    executor = _state.get("executor")
    if executor is None:
        executor = _state.setdefault(
            "executor", ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunedeck-js")
        )
    return executor  # type: ignore[no-any-return]


def _engine() -> _Engine:
    engine = _state.get("engine")
    if engine is None:
        engine = _state["engine"] = _Engine()
    return engine


def _reset() -> None:
    _state.pop("engine", None)


def _on_engine_thread(work: Callable[[], Any]) -> Any:
    return _executor().submit(work).result()
