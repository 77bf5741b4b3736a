"""Keep secrets out of the database, the logs and error messages."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-*.]{3,}|Bearer\s+[A-Za-z0-9_\-.=*]{6,})")
REDACTED = "[redacted]"
_SECRET_NAME_WORDS = frozenset((
    "key", "apikey", "token", "accesstoken", "secret", "password", "passwd", "pwd", "sig",
    "signature", "auth", "authorization", "credential", "credentials",
))  # fmt: skip
"""Words of a query parameter's name (split at `-`, `_`, `.`) that make its value secret."""
_LISTED_AT_LEAST = 8
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
    """`url` as it may be stored, logged and shown: credentials in it masked (`user:***@`,
    or `***@` for a token given as the user name) and the values of query parameters named
    like secrets (`?api-key=`, `token`, `sig`...).

    An endpoint's URL is recorded with every call and run; some proxies take credentials in
    it, and those must not reach the database or the screen.
    """
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    netloc = f"{_masked_userinfo(userinfo)}@{host}" if at else parts.netloc
    fields = [field.partition("=") for field in parts.query.split("&")] if parts.query else []
    secret = [_is_secret(name, value) for name, _, value in fields]
    if not at and not any(secret):
        return url
    query = "&".join(
        f"{name}={_MASK}" if hidden else name + equals + value
        for (name, equals, value), hidden in zip(fields, secret, strict=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_secrets(url: str) -> list[str]:
    """The secret parts of `url` that `shown_url` masks (as written and decoded), for
    `redact` to mask wherever a message quotes them. A query value shorter than 8 characters
    is masked in the URL but not listed: masking every `true` or `json` in a log is worse."""
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    found = [password if colon else user] if at else []
    for field in parts.query.split("&") if parts.query else []:
        name, _, value = field.partition("=")
        if _is_secret(name, value) and len(value) >= _LISTED_AT_LEAST:
            found.append(value)
    return [part for secret in found for part in {secret, unquote(secret)} if part]


def _masked_userinfo(userinfo: str) -> str:
    user, colon, _ = userinfo.partition(":")
    return f"{user}:{_MASK}" if colon else _MASK


def _is_secret(name: str, value: str) -> bool:
    words = re.split(r"[-_.\s]+", unquote(name).lower())
    return bool(value) and not _SECRET_NAME_WORDS.isdisjoint(words)
