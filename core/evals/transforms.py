"""promptfoo's output transforms: JavaScript run on a model's answer before it is scored.

A promptfoo test's `options.transform` (or `options.postprocess`, its deprecated alias, when
there is no `transform`; `defaultTest.options` too) is applied to the answer before every
assertion of the test; an assertion's own `transform:` is applied after it, for that assertion
only. A transform is written as a `javascript` value is (`core.evals.javascript`): one line is
an expression (`JSON.parse(output)`), several lines a function body that returns,
`file://x.js[:function]` a CommonJS file. It is called with `output` and `context` (`vars`,
`prompt`). A Python file, `file://x.py[:function]` (`get_transform` by default, as in
promptfoo's `src/util/transform.ts`), is loaded as `python` scorers are (`core.evals.custom`:
when the suite loads, and again when its file changed) and its function called the same way,
in a worker thread unless it is async; inline transforms are JavaScript, as in promptfoo.

What it returns replaces the output the assertion sees: a string as it is, any other value as
its JSON text (promptfoo's `JSON.stringify`), which is what text scorers (`contains`, `is-json`,
`equals`, ...) read, while `javascript` and `python` assertions get the value itself. The
answer stored stays the model's own. A transform that throws, runs past the engine's limits or
returns null or undefined makes the assertions that would see its result errors (with the
reason: the case is `error`, not a failure of the model, as promptfoo makes it an error), and
the run goes on. Each transform runs once per answer, however many assertions share it.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.evals import custom, javascript
from core.evals.sources import Sources, SuiteProblem
from core.evals.user_threads import run_in_daemon_thread

TEST_TRANSFORM = "options.transform"
"""How a test's transform is named in reasons and problems."""
OWN_TRANSFORM = "transform"
"""How an assertion's own transform is named in reasons and problems."""
PYTHON = "python:"
"""What a normalised Python transform starts with: `python:file:///abs/x.py:function`."""
PYTHON_DEFAULT_FUNCTION = "get_transform"
"""The function of a Python transform file named without one, as promptfoo calls it."""


@dataclass(frozen=True, slots=True)
class View:
    """The output as an assertion sees it.

    Attributes:
        text: what text scorers read: the answer, or what a transform returned (a
            string as it is, another value as its JSON).
        structured: `text` is the JSON of a value that is not a string (an object, an array,
            a number...): `javascript` and `python` scorers are given the value.
    """

    text: str
    structured: bool = False

    def value(self) -> Any:
        """What a script scorer is given: the value itself, or the text."""
        return json.loads(self.text) if self.structured else self.text


class TransformFailed(Exception):
    """A transform threw, ran past a limit or returned nothing: the message is the reason
    (one line) of the error every assertion that would see its result gets."""


def written_test_transform(options: Mapping[str, Any]) -> Any:
    """The transform a test's (merged) `options` name, as written: `transform`, else the
    deprecated `postprocess` (promptfoo takes the first one set); None when neither is."""
    return options.get("transform") or options.get("postprocess") or None


def normalise(value: Any, sources: Sources, where: str) -> str:
    """A transform as written, checked and normalised (a `file://` path made absolute), its
    code compiled now so that a bad one is refused when the suite loads. `where` names it
    in problems (`options.transform`, `transform`).

    Raises:
        SuiteProblem: not code nor a `.js` file, a Python file, a syntax error (with its
            line), a file that cannot be read or exports no function.
    """
    if not isinstance(value, str) or not value.strip():
        raise SuiteProblem(
            f"{where}: must be JavaScript code, file://x.js[:function] or file://x.py[:function]"
        )
    text = value.strip()
    python = _python_file(text)
    if python is not None:
        return _normalised_python(python, sources, where)
    try:
        reference = javascript.normalise_reference(text, sources.resolve)
    except SuiteProblem:
        raise SuiteProblem(
            f"{where}: {text!r} is not JavaScript code nor file://x.js[:function]"
        ) from None
    try:
        script_file = javascript.file_of(reference)
        content = None
        if script_file is not None:  # its code is part of the suite's version
            content = sources.read_bytes(script_file)
        javascript.check(reference, content)
    except SuiteProblem as problem:  # told at the transform, naming the file it reads
        reason = f"{problem.file}: {problem.reason}" if problem.file else problem.reason
        raise SuiteProblem(f"{where}: {reason}") from None
    return reference


class OutputViews:
    """What each assertion of one answer sees, each transform run once (a transform that
    fails is not run again for the next assertion)."""

    def __init__(
        self, text: str, variables: Mapping[str, Any] | None, prompt: str | None = None
    ) -> None:
        self._raw = View(text)
        self._context = {"vars": dict(variables or {}), "prompt": prompt}
        self._seen: dict[tuple[str | None, str | None], View | TransformFailed] = {}

    async def view(self, test_transform: str | None, own_transform: str | None) -> View:
        """The output after the test's transform, then the assertion's own.

        Raises:
            TransformFailed: either transform failed.
        """
        view = self._raw
        if test_transform is not None:
            view = await self._after(view, (test_transform, None), TEST_TRANSFORM)
        if own_transform is not None:
            view = await self._after(view, (test_transform, own_transform), OWN_TRANSFORM)
        return view

    async def _after(self, view: View, key: tuple[str | None, str | None], name: str) -> View:
        seen = self._seen.get(key)
        if seen is None:
            try:
                seen = await self._run(view, key[1] or key[0] or "", name)
            except TransformFailed as failure:
                seen = failure
            self._seen[key] = seen
        if isinstance(seen, TransformFailed):
            raise seen
        return seen

    async def _run(self, view: View, reference: str, name: str) -> View:
        if reference.startswith(PYTHON):
            return await _run_python(reference.removeprefix(PYTHON), view, self._context, name)
        try:
            shaped = await javascript.call(
                reference, "value", view.text, self._context, output_is_json=view.structured
            )
        except javascript.ScriptError as error:
            raise TransformFailed(f"{name} {error}") from None
        if shaped["kind"] == "none":
            raise TransformFailed(f"{name} returned {shaped['value']}, not a value")
        return View(str(shaped["text"]), structured=shaped["kind"] == "json")


def _python_file(text: str) -> tuple[str, str] | None:
    """The path and function of `file://x.py[:function]` (None for anything else)."""
    if not text.startswith("file://"):
        return None
    path, _, function = text.removeprefix("file://").rpartition(":")
    if path.endswith(".py") and function.isidentifier():
        return path, function
    whole = text.removeprefix("file://")
    return (whole, PYTHON_DEFAULT_FUNCTION) if whole.endswith(".py") else None


def _normalised_python(python: tuple[str, str], sources: Sources, where: str) -> str:
    """`python:file:///abs/x.py:function`, its file read (for the suite's version) and its
    function loaded now, so that a missing file or function is refused when the suite loads."""
    path = sources.resolve(python[0])
    reference = f"file://{path}:{python[1]}"
    try:
        content = sources.read_bytes(path)
        custom.load_scorer(reference, reload_changed=True, content=content)
    except SuiteProblem as problem:  # told at the transform, naming the file it reads
        reason = problem.reason.removeprefix("scorer ")
        reason = f"{problem.file}: {reason}" if problem.file else reason
        raise SuiteProblem(f"{where}: {reason}") from None
    return PYTHON + reference


async def _run_python(reference: str, view: View, context: Mapping[str, Any], name: str) -> View:
    """A Python transform's result on `view`, as promptfoo takes it: a string as it is, a
    value as its JSON; None is no value."""
    function = custom.load_scorer(reference)
    try:
        if inspect.iscoroutinefunction(function):
            result = await function(view.value(), dict(context))
        else:  # it may block: not on the event loop
            result = await run_in_daemon_thread(function, view.value(), dict(context))
    except Exception as error:
        raise TransformFailed(f"{name} raised {type(error).__name__}: {error}") from None
    if result is None:
        raise TransformFailed(f"{name} returned None, not a value")
    if isinstance(result, str):
        return View(result)
    try:
        return View(json.dumps(result, ensure_ascii=False), structured=True)
    except (TypeError, ValueError) as error:
        raise TransformFailed(f"{name} returned a value that is not JSON: {error}") from None
