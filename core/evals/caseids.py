"""Case ids that follow a case's content, not its position in the file.

Runs are compared case by case through their ids, so an id must name the same case in every
version of a suite: a case inserted, removed or moved must leave every other case's id as it
was. When a suite gives no id, one is derived from the case's content (`content_id`): a prefix
and the first 8 hex digits of the sha256 of its canonical JSON, like `c-1a2b3c4d`. Cases with
the same content get `-2`, `-3`, ... in file order (`assign_ids`), with a warning naming them.
Ids written in the suite are never changed.

Changing how ids are derived would stop new runs from pairing with stored ones: the scheme is
pinned by tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

HASH_DIGITS = 8
"""Hex digits of a derived id: short enough to read, and two different inputs of a suite of
10,000 cases share them with a probability of about 1% (then the later one gets 16 digits)."""


def content_digest(content: Any) -> str:
    """sha256 hex of `content` as canonical JSON (sorted keys; non-JSON values as text)."""
    text = json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_id(prefix: str, content: Any) -> str:
    """The id derived from `content`: `prefix` and 8 hex digits of its digest (`c-1a2b3c4d`)."""
    return f"{prefix}{content_digest(content)[:HASH_DIGITS]}"


@dataclass(frozen=True)
class IdRequest:
    """What one case asks for: its id as written, or a base derived from its content.

    Attributes:
        explicit: the id written in the suite (kept as it is), or None.
        prefix: what a derived id starts with (`c-`, `t-`, `Capital of France.`).
        digest: `content_digest` of what the id is derived from.
        where: where the case is written (`line 3`, `tests.yaml:3`), for warnings.
        named: a derived id that is `prefix` alone (a promptfoo description), with no digest.
    """

    explicit: str | None
    prefix: str = ""
    digest: str = ""
    where: str | None = None
    named: bool = False


def assign_ids(
    requests: Sequence[IdRequest], warn: Callable[[str], None], what: str = "cases"
) -> list[str]:
    """The id of each request, in order: explicit ids as written, derived ids made unique.

    A derived id already taken (by an explicit id or an earlier case) gets `-2`, `-3`, ...;
    cases whose derived ids collide are named in one warning each group.

    Args:
        what: how the warning names them (`cases with the same input`).
    """
    used = {request.explicit for request in requests if request.explicit is not None}
    owners: dict[str, str] = {}  # short derived id -> the digest that has it
    groups: dict[str, list[tuple[str, str | None]]] = {}
    ids: list[str] = []
    for request in requests:
        if request.explicit is not None:
            ids.append(request.explicit)
            continue
        base = _base(request, owners)
        identifier, number = base, 1
        while identifier in used:
            number += 1
            identifier = f"{base}-{number}"
        used.add(identifier)
        ids.append(identifier)
        groups.setdefault(base, []).append((identifier, request.where))
    for members in groups.values():
        if len(members) > 1:
            warn(_duplicates_warning(members, what))
    return ids


def _base(request: IdRequest, owners: dict[str, str]) -> str:
    if request.named:
        return request.prefix
    short = request.prefix + request.digest[:HASH_DIGITS]
    owner = owners.setdefault(short, request.digest)
    if owner == request.digest:
        return short
    return request.prefix + request.digest[: HASH_DIGITS * 2]  # a different input, same digits


def _duplicates_warning(members: list[tuple[str, str | None]], what: str) -> str:
    names = ", ".join(
        f"{identifier} ({where})" if where else identifier for identifier, where in members
    )
    return f"{what}: {names}; their ids follow their order in the file (give them ids)"
