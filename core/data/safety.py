"""Safety scan: secrets, e-mail addresses, phone numbers and prompt-injection phrasing.

Each finding is a problem with the field it is in and the character span inside that text;
the data is never changed. Excerpts of secrets and personal data are masked (first characters
and the length), so a report or a log never repeats them.

A regular expression per text would cost more than tokenizing it, so a batch is first
searched for cheap hints in its case-folded bytes: numpy finds runs of 15 token characters
(every token-like secret has one) and windows dense in digits (phone numbers), and
`bytes.find` the literal hints of the others ("@", "private key", injection verbs). Only the
texts with a hint are searched with the detector's expression, in their original case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.data.fingerprint import Fingerprints, chunks
from core.data.formats import Example
from core.data.problems import Problem

_DIGITS = "0123456789"
_MIN_PHONE_DIGITS = 9
_PHONE_WINDOW = 20  # a phone number's digits and separators fit in 20 bytes
_MIN_TOKEN_RUN = 15  # the shortest token-like secret: xoxb- and 10 characters


@dataclass(frozen=True, slots=True)
class _Detector:
    kind: str
    label: str
    pattern: re.Pattern[str]
    hints: tuple[bytes, ...]
    """Case-folded substrings one of which any match contains."""
    masked: bool = True


def _secret(label: str, pattern: str, *hints: str) -> _Detector:
    """A token-like secret (no hints: found by `_token_runs`), or one with literal hints."""
    return _Detector(
        "secret", label, re.compile(pattern), tuple(h.casefold().encode() for h in hints)
    )


_SECRETS = (
    _secret("OpenAI-style API key", r"\bsk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_]{20,}"),
    _secret(
        "AWS access key id",
        r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # long-term and temporary access key ids
    ),
    _secret(
        "AWS secret access key",
        r"(?i)aws_?secret_?(?:access_?)?key\W{0,5}[A-Za-z0-9/+=]{40}",
    ),
    _secret(
        "GitHub token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
    ),
    _secret("Slack token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    _secret("Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
    _secret("Stripe key", r"\b[sr]k_live_[0-9A-Za-z]{16,}"),
    _secret("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}"),
    _secret("private key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----", "PRIVATE KEY"),
    _secret("JSON web token", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
)
_EMAIL = _Detector(
    "email",
    "e-mail address",
    re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
    (b"@",),
)
# International (+CC ...) or North American ((555) 123-4567, 555-123-4567) numbers, nine digits
# or more, not inside a longer run of digits or a word.
_PHONE = _Detector(
    "phone",
    "phone number",
    re.compile(
        r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4}"
        r"|(?:\(\d{3}\)[ .-]?|\d{3}[.-])\d{3}[ .-]\d{4})(?![\w])"
    ),
    (),
)
_INJECTION = _Detector(
    "prompt_injection",
    "prompt-injection phrasing",
    re.compile(
        r"(?i)\b(?:(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*"
        r"(?:previous|prior|above|earlier|preceding|system)\s+"
        r"(?:instructions|prompts?|rules|directions)"
        r"|(?:reveal|show|print|repeat|leak)\s+(?:me\s+)?(?:your|the)\s+"
        r"(?:system\s+prompt|hidden\s+instructions|initial\s+instructions)"
        r"|you\s+are\s+now\s+(?:DAN|in\s+developer\s+mode|jailbroken|unrestricted)"
        r"|do\s+anything\s+now|developer\s+mode\s+enabled)"
    ),
    # Every alternative above contains one of these words.
    tuple(
        word.encode()
        for word in (
            "ignore",
            "disregard",
            "forget",
            "override",
            "prompt",
            "instructions",
            "dan",
            "jailbroken",
            "unrestricted",
            "developer",
            "anything",
        )
    ),
    masked=False,
)


def scan(examples: Sequence[Example], prints: Fingerprints) -> list[Problem]:
    """Safety problems of a batch of examples, given its fingerprints (for the hints)."""
    texts = [(example, where, text) for example in examples for where, _, text in example.texts]
    problems: list[Problem] = []
    for detector, candidates in _candidates(prints):
        for index in candidates:
            example, where, text = texts[index]
            for match in detector.pattern.finditer(text):
                if detector is _PHONE and _digit_count(match.group(0)) < _MIN_PHONE_DIGITS:
                    continue
                problems.append(_problem(detector, match, where, example.line))
    return problems


def _candidates(prints: Fingerprints) -> list[tuple[_Detector, list[int]]]:
    """Each detector with the (sorted) indexes of the batch's texts that hold one of its hints.

    Token-like secrets all contain a run of `_MIN_TOKEN_RUN` token characters, which prose
    rarely has: one numpy pass finds the texts with such a run, for all of them at once.
    """
    found = []
    runs = _token_runs(prints.folded)
    if len(runs):
        texts = _texts_at(prints, runs)
        found += [(detector, texts) for detector in _SECRETS if not detector.hints]
    for detector in (*_SECRETS, _EMAIL, _INJECTION):
        positions = [p for hint in detector.hints for p in _find_all(prints.folded, hint)]
        if positions:
            found.append((detector, _texts_at(prints, np.array(positions, dtype=np.int64))))
    phones = _digit_windows(prints.folded)
    if len(phones):
        found.append((_PHONE, _texts_at(prints, phones)))
    return found


def _token_runs(data: bytes) -> npt.NDArray[np.int64]:
    """Starts of the windows of `_MIN_TOKEN_RUN` bytes that are all token characters."""
    found = [_piece_token_runs(piece) + begin for begin, piece in chunks(data)]
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def _piece_token_runs(data: memoryview) -> npt.NDArray[np.int64]:
    raw = np.frombuffer(data, dtype=np.uint8)
    if len(raw) < _MIN_TOKEN_RUN:
        return np.empty(0, dtype=np.int64)
    token = ((raw >= 97) & (raw <= 122)) | ((raw >= 45) & (raw <= 57))  # a-z, - . / 0-9
    token |= (raw == 95) | (raw == 43) | (raw == 61)  # _ + =
    breaks = np.cumsum(~token, dtype=np.int32)
    # A window [i, i + n) has no break when the count of breaks before it equals the count
    # through its end (breaks[i - 1] == breaks[i + n - 1], with breaks[-1] taken as 0).
    before = np.concatenate(([0], breaks[:-_MIN_TOKEN_RUN]))
    return np.flatnonzero(breaks[_MIN_TOKEN_RUN - 1 :] == before)


def _find_all(data: bytes, hint: bytes) -> list[int]:
    positions, at = [], data.find(hint)
    while at >= 0:
        positions.append(at)
        at = data.find(hint, at + 1)
    return positions


def _digit_windows(data: bytes) -> npt.NDArray[np.int64]:
    """Starts of the windows of `_PHONE_WINDOW` bytes holding enough digits for a phone."""
    found = []
    for begin, piece in chunks(data, overlap=_PHONE_WINDOW):
        raw = np.frombuffer(piece, dtype=np.uint8)
        if len(raw) < _MIN_PHONE_DIGITS:
            continue
        digits = np.cumsum((raw >= 48) & (raw <= 57), dtype=np.int32)
        window = min(_PHONE_WINDOW, len(raw))
        before = np.concatenate(([0], digits[:-window]))
        found.append(np.flatnonzero(digits[window - 1 :] - before >= _MIN_PHONE_DIGITS) + begin)
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def _texts_at(prints: Fingerprints, positions: npt.NDArray[np.int64]) -> list[int]:
    texts = np.searchsorted(prints.text_starts, positions, side="right") - 1
    return np.unique(texts).tolist()  # type: ignore[no-any-return]


def _digit_count(text: str) -> int:
    return sum(map(text.count, _DIGITS))


def _problem(detector: _Detector, match: re.Match[str], where: str, line: int) -> Problem:
    found = match.group(0)
    excerpt = mask(found) if detector.masked else " ".join(found.split())
    return Problem(
        line, detector.kind, f"possible {detector.label} in {where}", where, match.span(), excerpt
    )


def mask(text: str) -> str:
    """A view of sensitive `text` that does not give it away: its first 3 characters and size."""
    return f"{text[:3]}… ({len(text)} chars)"
