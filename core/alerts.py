"""Alert webhooks: a JSON POST per alert, with a timeout, retries and a record of each try.

A webhook URL often carries a secret (Slack and Discord put the token in the path), so
tunedeck never stores it: a budget or monitor keeps the NAME of the environment variable
that holds the URL (`--webhook-env ALERT_WEBHOOK_URL`), and the URL is read at delivery.
Wherever a webhook is shown (`budget ls`, delivery errors, the log) only its scheme and host
appear: `https://hooks.slack.com/…`. Requests go straight to an httpx2 transport, so the
HTTP client's own request log line (which holds the whole URL) is never written either.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.clock import Clock, iso, utc_now
from core.redact import redact
from storage.alerts import AlertBook, AlertRow, DeliveryAttempt
from storage.store import Store

if TYPE_CHECKING:
    import httpx2

log = logging.getLogger("tunedeck.alerts")

ATTEMPTS = 3
"""Tries per delivery run: the first and two retries."""
MAX_ATTEMPTS = 9
"""Tries in all before `deliver_pending` gives up on an alert."""
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_MASK = "…"


def mask_url(url: str) -> str:
    """Only the scheme and host of a URL (`https://hooks.slack.com/…`): the rest may be secret."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return _MASK
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/{_MASK}"


def webhook_label(env_name: str | None, environ: Mapping[str, str] | None = None) -> str:
    """How to show a rule's webhook: `$NAME (https://host/…)`, `$NAME (not set)` or `-`."""
    if not env_name:
        return "-"
    url = (os.environ if environ is None else environ).get(env_name)
    return f"${env_name} ({mask_url(url) if url else 'not set'})"


def payload(alert: AlertRow) -> dict[str, Any]:
    """The JSON body posted for an alert."""
    return {
        "source": "tunedeck",
        "id": alert.id,
        "created_at": alert.created_at,
        "kind": alert.kind,
        "rule": alert.rule,
        "scope": alert.scope,
        "period": alert.period,
        "threshold": alert.threshold,
        "figure": alert.figure,
        "reference": alert.reference,
        "message": alert.message,
        "text": f"tunedeck: {alert.message}",  # what Slack-style webhooks display
    }


class WebhookSender:
    """Posts alerts to the webhooks of their rules and records every attempt.

    Args:
        store: the database (alerts and delivery attempts).
        environ: where webhook URLs are read (`os.environ` when None).
        timeout: seconds for each of connect, write and read.
        attempts: tries per `deliver` (retries on timeouts, network errors, 408/429/5xx).
        backoff: seconds before the first retry, doubled at each one.
        transport: an httpx2 transport (tests may pass a mock one).
    """

    def __init__(
        self,
        store: Store,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Clock = utc_now,
        timeout: float = 5.0,
        attempts: int = ATTEMPTS,
        backoff: float = 0.5,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self.alerts = AlertBook(store)
        self.environ = os.environ if environ is None else environ
        self.clock = clock
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self._transport = transport

    def deliver(self, alerts: Iterable[AlertRow]) -> list[DeliveryAttempt]:
        """Post each alert that has a webhook; returns the attempts made (also stored)."""
        todo = [alert for alert in alerts if alert.webhook_env]
        made: list[DeliveryAttempt] = []
        if not todo:
            return made
        with self._session() as transport:
            for alert in todo:
                done_before = self.alerts.attempt_count(alert.id)
                made.extend(self._deliver_one(transport, alert, done_before))
        return made

    def deliver_pending(self) -> list[DeliveryAttempt]:
        """Try again the alerts not delivered yet (fewer than `MAX_ATTEMPTS` tries so far)."""
        return self.deliver(self.alerts.undelivered(MAX_ATTEMPTS))

    def __call__(self, alerts: list[AlertRow]) -> None:
        """`deliver`, as a `BudgetGuard` notifier."""
        self.deliver(alerts)

    def _deliver_one(
        self, transport: httpx2.BaseTransport, alert: AlertRow, done_before: int
    ) -> list[DeliveryAttempt]:
        made: list[DeliveryAttempt] = []
        url = self.environ.get(alert.webhook_env or "")
        for number in range(done_before + 1, done_before + self.attempts + 1):
            attempt, retry = self._attempt(transport, alert, url, number)
            self.alerts.record(attempt)
            made.append(attempt)
            if attempt.outcome == "delivered" or not retry:
                break
            if number < done_before + self.attempts:
                time.sleep(self.backoff * 2 ** (number - done_before - 1))
        return made

    def _attempt(
        self, transport: httpx2.BaseTransport, alert: AlertRow, url: str | None, number: int
    ) -> tuple[DeliveryAttempt, bool]:
        """One POST: the attempt as recorded, and whether trying again may help."""
        started = time.perf_counter()
        status, error, retry = None, None, False
        if not url:
            error = f"environment variable {alert.webhook_env} is not set"
        else:
            status, error, retry = self._post(transport, url, payload(alert))
        attempt = DeliveryAttempt(
            alert_id=alert.id,
            attempt=number,
            at=iso(self.clock()),
            outcome="failed" if error else "delivered",
            http_status=status,
            error=error,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
        if error:
            log.warning("alert %s: webhook attempt %s failed: %s", alert.id, number, error)
        return attempt, retry

    def _post(
        self, transport: httpx2.BaseTransport, url: str, body: dict[str, Any]
    ) -> tuple[int | None, str | None, bool]:
        """(HTTP status, error or None, retryable) of one POST; never raises, never shows
        more of the URL than `mask_url`. Straight to the transport: there is no client, so
        no request log line holding the URL."""
        import httpx2

        shown = mask_url(url)
        timeout = httpx2.Timeout(self.timeout).as_dict()
        request = httpx2.Request("POST", url, json=body, extensions={"timeout": timeout})
        try:
            response = transport.handle_request(request)
            response.read()
        except httpx2.TimeoutException:
            return None, f"timed out after {self.timeout:g} s posting to {shown}", True
        except httpx2.TransportError as error:
            detail = redact(str(error), _secret_parts(url))
            return None, f"{type(error).__name__} posting to {shown}: {detail}", True
        if 200 <= response.status_code < 300:
            return response.status_code, None, False
        retry = response.status_code in _RETRY_STATUS
        return response.status_code, f"HTTP {response.status_code} from {shown}", retry

    @contextmanager
    def _session(self) -> Iterator[httpx2.BaseTransport]:
        """The transport of one delivery run (the caller's, if given, is not closed)."""
        if self._transport is not None:
            yield self._transport
            return
        import httpx2  # ~0.2 s to import: only when an alert is delivered

        with httpx2.HTTPTransport() as transport:
            yield transport


def _secret_parts(url: str) -> list[str]:
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    return [url, parts.path, parts.query, userinfo]
