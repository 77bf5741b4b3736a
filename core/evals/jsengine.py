"""The JavaScript engine's own process: one QuickJS context that runs the scripts
`core.evals.javascript` sends it, one request at a time.

Run as a script (`python -P jsengine.py TIME_LIMIT_S MEMORY_LIMIT_BYTES`), not imported by
the app: it needs only the standard library and `quickjs`, so it starts in a few tens of
milliseconds. Each request is one line of
JSON on stdin, each answer one line on stdout: `{"value": ...}` or `{"error": "<the engine's
message>"}`. The parent kills this process when a call passes its deadline (QuickJS does not
check its time limit inside its regex engine, so a backtracking regex never returns).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import quickjs  # type: ignore[import-untyped]

_MAX_COMPILED = 4096
_PROMISE_JOBS = 100_000
_OUT_OF_MEMORY = ("InternalError: out of memory", "null")

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


class Engine:
    """One QuickJS context with the scripts compiled in it, each distinct source once."""

    def __init__(self, time_limit_s: float, memory_limit_bytes: int) -> None:
        self.context = quickjs.Context()
        self.context.set_time_limit(time_limit_s)
        self.context.set_memory_limit(memory_limit_bytes)
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

    def run(self, source: str, describe: str, output: str, is_json: bool, context_json: str) -> Any:
        """What `source`'s function returned on `output`, described (see `_PRELUDE`)."""
        try:
            function = self.function(source)
            text = self.runner(function, self.describers[describe], output, is_json, context_json)
            if text is None:
                text = self._settle()
        finally:
            self.context.gc()
        return json.loads(text)

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


def _answer(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    if request["op"] == "check":
        engine.function(request["source"])
        return {"value": None}
    value = engine.run(
        request["source"],
        request["describe"],
        request["output"],
        request["is_json"],
        request["context"],
    )
    return {"value": value}


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (even by SIGKILL): a script
    spinning in a regex would otherwise outlive it."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's exit closes stdin instead
        pass


def main() -> None:
    """Answer requests until stdin closes."""
    _die_with_parent()
    limits = float(sys.argv[1]), int(sys.argv[2])
    engine = Engine(*limits)
    sys.stdout.buffer.write(b'{"ready": true}\n')  # started: the parent's deadlines count now
    sys.stdout.buffer.flush()
    for line in sys.stdin.buffer:
        try:
            answer = _answer(engine, json.loads(line))
        except quickjs.JSException as error:
            text = str(error).strip() or type(error).__name__
            if text.splitlines()[0] in _OUT_OF_MEMORY:
                engine = Engine(*limits)  # an engine out of memory is left unusable
            answer = {"error": text}
        except Exception as error:  # the engine refused a value: the script's call fails
            answer = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.buffer.write(json.dumps(answer).encode() + b"\n")
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
