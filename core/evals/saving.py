"""Add one case to a suite file ("save as eval case" in the Prompt pane).

`save_case(path, case)` appends the case to a native suite, or creates the suite:

- `.jsonl`: one more line, `{"id", "messages", "expected", "assert", "tags"?, "critical"?}`
  (the shape the data split writes for held-out examples). A new file starts with a
  `{"suite": {"name", "params"?}}` header holding the parameters that were set.
- `.yaml` / `.yml`: the case is appended as text to the top-level `cases:` block list, which
  must be the file's last top-level key: the user's comments and layout stay as they were. A
  new file gets `name:`, `params:` (when set) and `cases:`.

The result is written to a temporary file beside the suite and checked with `load_suite`
before it replaces the suite (`os.replace`): a reader never sees half a file, and a suite is
never left broken. The check also makes sure the cases already there read back unchanged and
that the new case reads back as written.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.data.formats import CHAT
from core.data.suite import SIMILAR_THRESHOLD, suite_case
from core.errors import BadInput
from core.evals import suitetext
from core.evals.loader import load_suite
from core.evals.suite import Case, Suite
from core.params import Message, RequestParams

Check = Literal["similar", "equals", "icontains"]
CHECKS: tuple[Check, ...] = ("similar", "equals", "icontains")
"""The assertions a saved case can have: similar to the expected answer (above a threshold),
equal to it, or containing it (ignoring case)."""
SUFFIXES = (".jsonl", ".yaml", ".yml")
MAX_SLUG = 40


@dataclass(frozen=True)
class NewCase:
    """A case to add to a suite.

    Attributes:
        messages: what was sent: the system prompt (if any), then the prompt.
        expected: the answer the model should give (the current answer, edited).
        case_id: the case's id; None for a slug of the prompt, made unique in the suite.
        check: how answers are checked against `expected` (one of `CHECKS`).
        threshold: the pass mark of `similar` (above 0, at most 1).
        critical: a failing critical case is a regression whatever the others do.
        tags: labels to filter and group cases by.
        params: the model parameters; a new suite file keeps the ones that were set.
    """

    messages: Sequence[Message]
    expected: str
    case_id: str | None = None
    check: Check = "similar"
    threshold: float = SIMILAR_THRESHOLD
    critical: bool = False
    tags: Sequence[str] = ()
    params: RequestParams = field(default_factory=RequestParams)

    @property
    def prompt(self) -> str:
        """The text of the last message (the prompt): what an automatic id is made from."""
        content = self.messages[-1].content if self.messages else None
        return content if isinstance(content, str) else ""


@dataclass(frozen=True)
class SavedCase:
    """Where a case was saved: the suite file, the case's id, the suite's size now."""

    path: Path
    case_id: str
    cases: int
    created: bool


def suggest_case_id(prompt: str, taken: Collection[str] = ()) -> str:
    """A short id from the words of `prompt` (`what-is-the-capital-of-france`), made unique
    against `taken` with a number (`...-2`); `case` when the prompt has no usable word."""
    plain = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", plain.lower())
    slug = words[0][:MAX_SLUG] if words else "case"
    for word in words[1:]:
        if len(slug) + 1 + len(word) > MAX_SLUG:
            break
        slug = f"{slug}-{word}"
    unique, number = slug, 2
    while unique in taken:
        unique, number = f"{slug}-{number}", number + 1
    return unique


def save_case(path: str | Path, case: NewCase) -> SavedCase:
    """Append `case` to the suite in `path`, or create that suite.

    Returns:
        The suite file (resolved), the case's id and the number of cases now in the suite.

    Raises:
        BadInput: one line naming the file: not a .jsonl/.yaml/.yml file, unreadable, not a
            valid tunedeck suite (a promptfoo config, for instance), a YAML file whose `cases:`
            is not its last top-level block list, a case id already used, an empty expected
            answer, or a file that cannot be written. The file is then left as it was.
    """
    target = _target(Path(path))
    with _folder_locked(target.parent):
        return _append(target, case)


def _append(target: Path, case: NewCase) -> SavedCase:
    original, existing = _existing(target)
    taken = {c.id for c in existing.cases} if existing else set()
    identifier = _case_id(case, taken, target)
    entry = case_entry(case, identifier, target)
    if existing is None:
        data = _new_file(target, entry, case.params)
    elif target.suffix.lower() == ".jsonl":
        data = _joined(original, jsonl_line(entry))
    else:
        text = original.decode("utf-8-sig")
        indent = suitetext.cases_indent(text, str(target))
        data = _joined(original, suitetext.yaml_item(entry, indent))
    suite = _replace_checked(target, data, original, existing, entry)
    return SavedCase(target, identifier, len(suite.cases), created=existing is None)


def case_entry(case: NewCase, identifier: str, where: Path) -> dict[str, Any]:
    """The case as a suite file holds it, its assertion checked.

    Raises:
        BadInput: the expected answer is empty, or the check or threshold is not valid.
    """
    if not case.expected.strip():
        raise BadInput(f"{where}: case {identifier}: the expected answer is empty")
    if case.check not in CHECKS:
        raise BadInput(f"{where}: check must be one of {', '.join(CHECKS)}, not {case.check!r}")
    messages = [message.as_api() for message in case.messages]
    example = {"messages": [*messages, {"role": "assistant", "content": case.expected}]}
    entry = suite_case(example, CHAT, identifier)
    if entry is None:
        raise BadInput(f"{where}: case {identifier}: needs a prompt (system and user messages)")
    entry["assert"] = [_assertion(case, where)]
    tags = list(dict.fromkeys(tag.strip() for tag in case.tags if tag.strip()))
    if tags:
        entry["tags"] = tags
    if case.critical:
        entry["critical"] = True
    return entry


def jsonl_line(value: dict[str, Any]) -> str:
    """`value` as one JSONL line. Line separators other than `\\n` (U+2028, U+2029, NEL) are
    escaped: tunedeck's loader splits at `\\n` only, but other readers of the file (an
    editor, `str.splitlines`) break lines at them."""
    text = json.dumps(value, ensure_ascii=False)
    for char in ("\x85", "\u2028", "\u2029"):
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text + "\n"


def _assertion(case: NewCase, where: Path) -> dict[str, Any]:
    if case.check == "equals":
        return {"type": "equals", "value": case.expected}
    if case.check == "icontains":
        return {"type": "icontains", "value": case.expected.strip()}
    if not 0 < case.threshold <= 1:
        raise BadInput(f"{where}: threshold must be above 0 and at most 1, not {case.threshold}")
    return {"type": "similar", "value": case.expected, "threshold": case.threshold}


def _target(path: Path) -> Path:
    target = path.expanduser().resolve()  # a link is followed: its target gets the case
    if target.suffix.lower() not in SUFFIXES:
        kind = target.suffix or "a file without an extension"
        raise BadInput(f"{path}: cases are saved to a .jsonl, .yaml or .yml suite, not {kind}")
    if target.is_dir():
        raise BadInput(f"{path}: is a folder, not a suite file")
    return target


def _existing(target: Path) -> tuple[bytes, Suite | None]:
    """The file's bytes and its suite; no suite for a missing or blank file."""
    try:
        original = target.read_bytes()
    except FileNotFoundError:
        return b"", None
    except OSError as error:
        raise BadInput(f"{target}: cannot be read ({error.strerror or error})") from None
    if not original.strip():
        return original, None
    suite = load_suite(target)
    if suite.format != "native":
        raise BadInput(
            f"{target}: is a promptfoo config; cases are saved to tunedeck's own suites only "
            "(.jsonl, or .yaml with cases:)"
        )
    return original, suite


def _case_id(case: NewCase, taken: set[str], target: Path) -> str:
    if case.case_id is None or not case.case_id.strip():
        return suggest_case_id(case.prompt, taken)
    identifier = case.case_id.strip()
    if identifier in taken:
        raise BadInput(f"{target}: case id {identifier!r} is already used; choose another id")
    return identifier


def _new_file(target: Path, entry: dict[str, Any], params: RequestParams) -> bytes:
    header: dict[str, Any] = {"name": target.stem}
    if params.as_logged():
        header["params"] = params.as_logged()
    if target.suffix.lower() == ".jsonl":
        return (jsonl_line({"suite": header}) + jsonl_line(entry)).encode("utf-8")
    return suitetext.new_yaml(header, entry).encode("utf-8")


def _joined(original: bytes, addition: str) -> bytes:
    separator = b"\n" if original and not original.endswith(b"\n") else b""
    return original + separator + addition.encode("utf-8")


def _replace_checked(
    target: Path, data: bytes, original: bytes, existing: Suite | None, entry: dict[str, Any]
) -> Suite:
    """Write `data` beside `target`, check it, then rename it onto `target`."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix
        )
    except OSError as error:
        raise BadInput(f"{target}: cannot be written ({error.strerror or error})") from None
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _mode_of(target))
        suite = _checked(temporary, target, existing, entry)
        _unchanged_since_read(target, original)
        os.replace(temporary, target)
    except OSError as error:
        raise BadInput(f"{target}: cannot be written ({error.strerror or error})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    _sync_folder(target.parent)
    return suite


def _checked(temporary: Path, target: Path, existing: Suite | None, entry: dict[str, Any]) -> Suite:
    try:
        suite = load_suite(temporary)
    except BadInput as error:
        reason = str(error).replace(str(temporary), str(target))
        raise BadInput(f"not saved, the suite would not load: {reason}") from None
    before = [_comparable(c) for c in existing.cases] if existing else []
    if [_comparable(c) for c in suite.cases[:-1]] != before:
        raise BadInput(f"{target}: not saved: the cases already there would read back changed")
    if not _is_entry(suite.cases[-1], entry):  # a loaded suite has at least one case
        raise BadInput(f"{target}: not saved: the new case would not read back as written")
    return suite


def _comparable(case: Case) -> dict[str, Any]:
    return dict(case.model_dump(exclude={"line"}))


def _is_entry(case: Case, entry: dict[str, Any]) -> bool:
    messages = [message.as_api() for message in case.messages or []]
    written = (entry["id"], entry["messages"], entry["expected"])
    return (case.id, messages, case.expected) == written


@contextlib.contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on the suite's folder (POSIX `flock`), so two tunedeck
    processes saving to suites there take turns: the second reads the first's case, instead
    of replacing the file without it. A lock file would be left beside the user's suite (in
    their repository); a folder can be locked through a descriptor of its own. Editors do not
    take it: `_unchanged_since_read` still refuses a file changed meanwhile."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; the changed-meanwhile check remains
        yield
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # no such folder yet (or not one): saving says what is wrong with it
        yield
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _unchanged_since_read(target: Path, original: bytes) -> None:
    try:
        now = target.read_bytes()
    except FileNotFoundError:
        now = b""
    if now != original:
        raise BadInput(f"{target}: changed while the case was being saved; nothing written")


def _mode_of(target: Path) -> int:
    """The suite's permissions, kept; a new suite is readable by all, as editors make files."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o644


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a power cut right after keeps the new file)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
