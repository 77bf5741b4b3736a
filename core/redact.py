"""Keep secrets out of the database, the logs and error messages."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-*.]{3,}|Bearer\s+[A-Za-z0-9_\-.=*]{6,})")
REDACTED = "[redacted]"
_SECRET_QUERY_NAME = re.compile(
    r"(?:^|[-_.])(?:api)?key(?:$|[-_.])|(?:^|[-_.])sig(?:nature)?(?:$|[-_.])"
    r"|token|secret|passw|pwd|auth|credential",
    re.I,
)
_MASK = "***"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every given secret, and anything shaped like an API key, masked.

    Servers echo part of a rejected key ("Incorrect API key provided: sk-abc***xyz"), so
    key-shaped words are masked even when they are not the key itself.
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return _KEY_LIKE.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in every record it passes."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        return True


def shown_url(url: str) -> str:
    """`url` as it may be stored, logged and shown: a password in it (`user:pass@`) and the
    values of query parameters named like secrets (`?api-key=`, `token`, `sig`...) masked.

    An endpoint's URL is recorded with every call and run; some proxies take credentials in
    it, and those must not reach the database or the screen.
    """
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    netloc = f"{userinfo.partition(':')[0]}:{_MASK}@{host}" if at and ":" in userinfo else None
    fields = [field.partition("=") for field in parts.query.split("&")] if parts.query else []
    secret = [_is_secret(name, value) for name, _, value in fields]
    if netloc is None and not any(secret):
        return url
    query = "&".join(
        f"{name}={_MASK}" if hidden else name + equals + value
        for (name, equals, value), hidden in zip(fields, secret, strict=True)
    )
    return urlunsplit((parts.scheme, netloc or parts.netloc, parts.path, query, parts.fragment))


def url_secrets(url: str) -> list[str]:
    """The secret parts of `url` that `shown_url` masks (its password, secret-named query
    values; as written and decoded), for `redact` to mask wherever a message quotes them."""
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    found = [userinfo.partition(":")[2]] if at and ":" in userinfo else []
    for field in parts.query.split("&") if parts.query else []:
        name, _, value = field.partition("=")
        if _is_secret(name, value):
            found.append(value)
    return [part for secret in found for part in {secret, unquote(secret)} if part]


def _is_secret(name: str, value: str) -> bool:
    return bool(value) and _SECRET_QUERY_NAME.search(unquote(name)) is not None
