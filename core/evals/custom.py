"""Custom `python` scorers: a function named by import path, by file, or inline code.

The value of a `python` assertion is one of:

| value                         | meaning                                                     |
|-------------------------------|-------------------------------------------------------------|
| `package.module:function`     | imported from the suite's folder, else the current folder,  |
|                               | else the installed packages (see below)                     |
| `file://path/to/x.py[:name]`  | the file is loaded as a module; `name` defaults to          |
|                               | `get_assert`, as in promptfoo                               |
| anything else                 | inline code, as promptfoo runs it: one line is an expression |
|                               | returned (or a `return` statement); several lines are the   |
|                               | body of a function                                          |

A bare dotted name (`package.scorer`, `scorer.py`) is refused: as inline code it could only
return an attribute, never a verdict, so it is an import path or a file missing its form.

The function is called as `function(output, context)`, where `output` is the answer's text and
`context` a dict with `vars`, `test` (id, description, tags, metadata, expected), `config` (the
assertion's `config` option), `prompt` (as sent: one message's text, else the messages as
JSON), `latency_ms` and `cost_usd`. It returns a bool, a number (the
score; it passes when above 0, or at least `threshold` when set), a `Score`, or a dict with
`pass`, `score` and `reason` (promptfoo's GradingResult). It may be async. A module's or a
file's function that is not async runs in a worker thread, so a slow one holds back neither
the other cases nor the console; inline code runs on the event loop.

Loading a suite loads its scorers (running the module's top-level code, as importing it does):
a missing module, file or function is refused before anything is sent. A scorer is loaded once
per process, and loaded again when a suite is loaded after its file changed (a `file://` one, or
a module imported from the suite's folder; only the module's own file: a helper it imports is
not imported again): the console, a long-lived process, scores a re-run with the code the user
has just edited. A run holds the scorers it started with (`pin`): a suite loaded while it runs
does not change the code that scores it.

`module:function` is found as promptfoo finds files, relative to the suite: when the suite's
folder holds `module.py` (or `module/__init__.py`; `a/b.py` for `a.b`), it is imported from
there, else from the current folder, else from the installed packages. The `tunedeck` console
script does not put the current folder on `sys.path`, so without this a `scorers.py` next to
the suite would need `PYTHONPATH`. The folder is put first on `sys.path` only while the module
is imported, and it is recorded in the normalised value (`module:function@/abs/folder`): a run
resumed from its stored suite, from any folder, imports the same module. A module of the same
name already imported from elsewhere (another suite's `scorers.py`) keeps its place in
`sys.modules`; this one is imported beside it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import sys
import textwrap
import threading
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from core.evals.sources import SuiteProblem

CustomScorer = Callable[[str, dict[str, Any]], Any]

_IMPORT_PATH = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*:[A-Za-z_]\w*")
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_FILE_FUNCTION = re.compile(r"(?P<path>.+?\.py)(?::(?P<name>[A-Za-z_]\w*))?")
_IMPORT_FROM = re.compile(rf"(?P<reference>{_IMPORT_PATH.pattern})@(?P<folder>/.*)", re.DOTALL)


@dataclass(frozen=True)
class _Loaded:
    """A loaded scorer, and the file it came from as it was then (None: inline code or an
    installed package, never loaded again)."""

    scorer: CustomScorer
    path: Path | None = None
    stamp: bytes | None = None

    def changed(self, content: bytes | None = None) -> bool:
        """Whether its file changed: `content`, its bytes already read, else read now."""
        if self.path is None:
            return False
        now = _stamp(self.path) if content is None else hashlib.sha256(content).digest()
        return now != self.stamp


_LOADED: dict[str, _Loaded] = {}
_LOCK = threading.Lock()
_PINNED: ContextVar[Mapping[str, CustomScorer] | None] = ContextVar("pinned_scorers", default=None)
"""The scorers the run in this context started with (`pin`)."""
_FOLDERS: set[Path] = set()
"""The suite folders `module:function` scorers were imported from (see `_import_from`)."""


def normalise_reference(value: str, resolve: Callable[[str], Path]) -> str:
    """The canonical form of a `python` value: file paths made absolute (`file:///...:name`).

    Raises:
        SuiteProblem: a malformed `file://` value, or a bare dotted name (see the module).
    """
    if _DOTTED_NAME.fullmatch(value):
        raise SuiteProblem(_dotted_name_fix(value))
    if _IMPORT_PATH.fullmatch(value):
        return _located_import(value, resolve(".").resolve())
    if not value.startswith("file://"):
        return value
    match = _FILE_FUNCTION.fullmatch(value.removeprefix("file://"))
    if not match:
        raise SuiteProblem(f"scorer {value!r}: expected file://path.py or path.py:function")
    path = resolve(match.group("path")).resolve()
    return f"file://{path}:{match.group('name') or 'get_assert'}"


def _located_import(reference: str, suite_folder: Path) -> str:
    """`module:function@folder` for a module in the suite's (or the current) folder, else the
    reference as written when the module is installed."""
    module = reference.partition(":")[0]
    folders = list(dict.fromkeys([suite_folder, Path.cwd().resolve()]))
    for folder in folders:
        if _holds(folder, module):
            return f"{reference}@{folder}"
    top = module.partition(".")[0]
    if top not in sys.modules and importlib.util.find_spec(top) is None:
        tried = ", ".join(str(folder) for folder in folders)
        file = f"file://{module.replace('.', '/')}.py:{reference.partition(':')[2]}"
        raise SuiteProblem(
            f"scorer {reference}: no module {module} in {tried} or the installed packages "
            f"(or name its file: {file})"
        )
    return reference


def _holds(folder: Path, module: str) -> bool:
    *packages, name = module.split(".")
    parent = folder.joinpath(*packages)
    return (parent / f"{name}.py").is_file() or (parent / name / "__init__.py").is_file()


def _dotted_name_fix(value: str) -> str:
    if value.endswith(".py"):
        return (
            f"{value!r} is not a file reference: write file://{value} (or file://{value}:function)"
        )
    module, _, name = value.rpartition(".")
    return (
        f"{value!r} reads as inline code, not an import path: write module:function "
        f"(e.g. {module}:{name})"
    )


def is_inline(reference: str) -> bool:
    """Whether a normalised `python` value is inline code (else a module's or a file's
    function, which may take its time: a file read, a model of its own)."""
    return not (
        reference.startswith("file://")
        or _IMPORT_FROM.fullmatch(reference)
        or _IMPORT_PATH.fullmatch(reference)
    )


def load_scorer(
    reference: str, *, reload_changed: bool = False, content: bytes | None = None
) -> CustomScorer:
    """The function a normalised `python` value names, loaded once per process; with
    `reload_changed` (a suite being loaded), loaded again if its file changed since (see the
    module). `content`: the file's bytes when the caller has read them (a suite's every case
    may name the same file: it is not read again for each).

    Raises:
        SuiteProblem: the module, file or function cannot be loaded, or the code is invalid.
    """
    pinned = None if reload_changed else _PINNED.get()
    if pinned is not None and reference in pinned:
        return pinned[reference]
    with _LOCK:
        loaded = _LOADED.get(reference)
        if loaded is None or (reload_changed and loaded.changed(content)):
            loaded = _load(reference, again=loaded is not None)
            _LOADED[reference] = loaded
        return loaded.scorer


def pin(references: Iterable[str]) -> None:
    """Hold, for the rest of the current context (a run's task and the tasks it starts), the
    scorers `references` name as they are loaded now: `load_scorer` returns these whatever is
    loaded again meanwhile. One that cannot be loaded is left out (scoring says why)."""
    _PINNED.set(None)  # not what an earlier run in this context held
    pinned: dict[str, CustomScorer] = {}
    for reference in references:
        try:
            pinned[reference] = load_scorer(reference)
        except SuiteProblem:
            continue
    _PINNED.set(pinned)


def _load(reference: str, again: bool) -> _Loaded:
    if reference.startswith("file://"):
        path, _, name = reference.removeprefix("file://").rpartition(":")
        stamp = _stamp(Path(path))  # before reading it: an edit meanwhile is seen next time
        return _Loaded(_from_file(Path(path), name), Path(path), stamp)
    located = _IMPORT_FROM.fullmatch(reference)
    if located:
        module_name, _, name = located.group("reference").partition(":")
        return _from_module(module_name, name, Path(located.group("folder")), again)
    if _IMPORT_PATH.fullmatch(reference):
        module_name, _, name = reference.partition(":")
        return _from_module(module_name, name, None, again)
    return _Loaded(_inline(reference))


def _stamp(path: Path) -> bytes | None:
    """The digest of a file's bytes (None: it cannot be read now). Not its modification
    time: two saves within the clock's tick (a few ms) would keep it."""
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return None


def _from_module(module_name: str, name: str, folder: Path | None, again: bool) -> _Loaded:
    where = f" from {folder}" if folder else ""
    try:
        if folder is None:
            module = importlib.import_module(module_name)
        else:
            if again:  # its file changed: import it anew, not from `sys.modules`
                _forget(module_name, folder)
            module = _import_from(folder, module_name)
    except Exception as error:
        raise SuiteProblem(
            f"scorer {module_name}:{name}: cannot import {module_name}{where} "
            f"({type(error).__name__}: {error})"
        ) from None
    scorer = _function(module, name, f"{module_name}:{name}")
    origin = getattr(module, "__file__", None)
    if folder is None or origin is None:
        return _Loaded(scorer)
    return _Loaded(scorer, Path(origin), _stamp(Path(origin)))


def _forget(module_name: str, folder: Path) -> None:
    """Take the suite folder's `module_name` out of `sys.modules`."""
    module = sys.modules.get(module_name)
    if module is not None and _inside(module, folder):
        del sys.modules[module_name]


def _import_from(folder: Path, module_name: str) -> ModuleType:
    """Import `module_name` with `folder` first on `sys.path`. Set aside meanwhile: what was
    imported from another suite's folder (its scorer module, and the helpers that module
    imported: `from helpers import tag` must find this folder's `helpers`), and a module of
    the scorer's name from elsewhere. They are put back after, in place of this folder's
    modules of the same names; this folder's modules keep what they imported, bound in them
    (a scorer that imports a sibling only when it is called gets whichever is in
    `sys.modules` then: import siblings at the top of the module)."""
    top = module_name.partition(".")[0]
    others = tuple(f"{other}{os.sep}" for other in _FOLDERS if other != folder)
    aside = {
        name: module
        for name, module in list(sys.modules.items())
        if ((name == top or name.startswith(f"{top}.")) and not _inside(module, folder))
        or (others and str(getattr(module, "__file__", None) or "").startswith(others))
    }
    for name in aside:
        del sys.modules[name]
    _FOLDERS.add(folder)
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()  # the folder's files may be newer than the finders' caches
    try:
        return importlib.import_module(module_name)
    finally:
        sys.path.remove(str(folder))
        sys.modules.update(aside)


def _inside(module: ModuleType, folder: Path) -> bool:
    origin = getattr(module, "__file__", None)
    return origin is not None and Path(origin).resolve().is_relative_to(folder)


def _from_file(path: Path, name: str) -> CustomScorer:
    label = f"{path.name}:{name}"
    if not path.is_file():
        raise SuiteProblem(f"scorer {label}: no such file {path}")
    unique = "tunedeck_scorer_" + hashlib.sha256(str(path).encode()).hexdigest()[:16]
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise SuiteProblem(f"scorer {label}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(unique, None)
        raise SuiteProblem(
            f"scorer {label}: loading it failed ({type(error).__name__}: {error})"
        ) from None
    return _function(module, name, label)


def _function(module: Any, name: str, label: str) -> CustomScorer:
    function = getattr(module, name, None)
    if not callable(function):
        raise SuiteProblem(f"scorer {label}: {name} is not a function of the module")
    return function  # type: ignore[no-any-return]


def _inline(code: str) -> CustomScorer:
    lines = textwrap.dedent(code).strip("\n").splitlines() or [""]
    if len(lines) == 1 and not lines[0].lstrip().startswith("return "):
        body = f"    return {lines[0].strip()}\n"
    else:
        body = "".join(f"    {line}\n" for line in lines)
    source = f"def main(output, context):\n{body}"
    try:
        compiled = compile(source, "<python assertion>", "exec")
    except SyntaxError as error:
        line = max((error.lineno or 1) - 1, 1)  # the `def` line we added is not the user's
        raise SuiteProblem(f"inline code: {error.msg} (line {line})") from None
    namespace: dict[str, Any] = {"__builtins__": __builtins__, "json": __import__("json")}
    exec(compiled, namespace)  # defines main() only: the body runs when an answer is scored
    return namespace["main"]  # type: ignore[no-any-return]
