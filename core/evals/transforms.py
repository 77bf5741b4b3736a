"""promptfoo's output transforms: JavaScript run on a model's answer before it is scored.

A promptfoo test's `options.transform` (or `options.postprocess`, its deprecated alias, when
there is no `transform`; `defaultTest.options` too) is applied to the answer before every
assertion of the test; an assertion's own `transform:` is applied after it, for that assertion
only. A transform is written as a `javascript` value is (`core.evals.javascript`): one line is
an expression (`JSON.parse(output)`), several lines a function body that returns,
`file://x.js[:function]` a CommonJS file. It is called with `output` and `context` (`vars`,
`prompt`). Python transforms (`file://x.py`) are refused.

What it returns replaces the output the assertion sees: a string as it is, any other value as
its JSON text (promptfoo's `JSON.stringify`), which is what text scorers (`contains`, `is-json`,
`equals`, ...) read, while `javascript` and `python` assertions get the value itself. The
answer stored stays the model's own. A transform that throws, runs past the engine's limits or
returns null or undefined makes the assertions that would see its result errors (with the
reason: the case is `error`, not a failure of the model, as promptfoo makes it an error), and
the run goes on. Each transform runs once per answer, however many assertions share it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.evals import javascript
from core.evals.sources import Sources, SuiteProblem

TEST_TRANSFORM = "options.transform"
"""How a test's transform is named in reasons and problems."""
OWN_TRANSFORM = "transform"
"""How an assertion's own transform is named in reasons and problems."""


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
        raise SuiteProblem(f"{where}: must be JavaScript code or file://x.js[:function]")
    text = value.strip()
    location = text.removeprefix("file://").rpartition(":")[0] or text.removeprefix("file://")
    if text.startswith("file://") and location.endswith(".py"):
        raise SuiteProblem(
            f"{where}: Python transforms ({text}) are not supported: tunedeck runs JavaScript"
            " transforms (an expression, a function body or file://x.js)"
        )
    try:
        reference = javascript.normalise_reference(text, sources.resolve)
    except SuiteProblem:
        raise SuiteProblem(
            f"{where}: {text!r} is not JavaScript code nor file://x.js[:function]"
        ) from None
    try:
        script_file = javascript.file_of(reference)
        if script_file is not None:  # its code is part of the suite's version
            sources.read_bytes(script_file)
        javascript.check(reference)
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
        try:
            shaped = await javascript.call(
                reference, "value", view.text, self._context, output_is_json=view.structured
            )
        except javascript.ScriptError as error:
            raise TransformFailed(f"{name} {error}") from None
        if shaped["kind"] == "none":
            raise TransformFailed(f"{name} returned {shaped['value']}, not a value")
        return View(str(shaped["text"]), structured=shaped["kind"] == "json")
