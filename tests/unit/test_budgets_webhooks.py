"""Alert webhooks against a real HTTP server on 127.0.0.1: delivery, retries, failures, and
the URL (which may hold a secret) never shown whole, stored, or logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.alerts import MAX_ATTEMPTS, WebhookSender, mask_url, webhook_label
from core.budgets import BudgetGuard, new_budget
from storage.alerts import AlertBook, AlertRow, NewAlert
from storage.budgets import BudgetBook
from storage.store import Store
from tests.support.spend import Clock, log_call, webhook_receiver

NOON = datetime(2026, 3, 11, 11, 0, tzinfo=UTC)
SECRET = "T0SECRET/B0SECRET/xoxb-SECRETTOKEN"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "alerts.db")
    yield opened
    opened.close()


def raise_alert(store: Store, env: str | None = "ALERT_HOOK", rule: str = "daily") -> AlertRow:
    alert = NewAlert(
        "2026-03-11T11:00:00.000000Z", "budget", rule, "all", "day:2026-03-11", 80, 4.0, 5.0,
        f"budget '{rule}' at 80%: $4.00 of $5.00 today", env,
    )  # fmt: skip
    [row] = AlertBook(store).raise_new([alert])
    return row


def sender(store: Store, url: str | None, **options: float) -> WebhookSender:
    environ = {"ALERT_HOOK": url} if url else {}
    return WebhookSender(store, environ=environ, backoff=0, timeout=options.get("timeout", 2.0))


def test_an_alert_is_posted_as_json_and_its_delivery_recorded(store: Store) -> None:
    alert = raise_alert(store)
    assert alert.delivery == "pending"
    with webhook_receiver() as hook:
        [attempt] = sender(store, hook.url("/hooks/" + SECRET)).deliver([alert])
    [received] = hook.received
    assert received.path == "/hooks/" + SECRET
    assert received.body["message"] == "budget 'daily' at 80%: $4.00 of $5.00 today"
    assert received.body["text"].startswith("tunedeck: budget 'daily'")
    assert {k: received.body[k] for k in ("kind", "rule", "threshold", "figure", "reference")} == {
        "kind": "budget", "rule": "daily", "threshold": 80, "figure": 4.0, "reference": 5.0,
    }  # fmt: skip
    assert (attempt.outcome, attempt.http_status, attempt.error) == ("delivered", 200, None)
    assert AlertBook(store).get(alert.id).delivery == "delivered"  # type: ignore[union-attr]


def test_a_server_error_is_retried_and_each_attempt_kept(store: Store) -> None:
    alert = raise_alert(store)
    with webhook_receiver(statuses=[500, 503]) as hook:
        attempts = sender(store, hook.url("/hooks/" + SECRET)).deliver([alert])
        port = hook.port
    assert [(a.attempt, a.outcome, a.http_status) for a in attempts] == [
        (1, "failed", 500),
        (2, "failed", 503),
        (3, "delivered", 200),
    ]
    assert attempts[0].error == f"HTTP 500 from http://127.0.0.1:{port}/…"
    assert AlertBook(store).attempts(alert.id) == attempts
    assert AlertBook(store).get(alert.id).delivery == "delivered"  # type: ignore[union-attr]


def test_a_failing_webhook_is_marked_failed_and_tried_again_later_up_to_a_limit(
    store: Store,
) -> None:
    alert = raise_alert(store)
    with webhook_receiver(statuses=[502] * 20) as hook:
        send = sender(store, hook.url("/hooks/" + SECRET))
        first = send.deliver([alert])
        assert [a.attempt for a in first] == [1, 2, 3] and len(hook.received) == 3
        assert AlertBook(store).get(alert.id).delivery == "failed"  # type: ignore[union-attr]
        while send.deliver_pending():
            pass
        assert len(hook.received) == MAX_ATTEMPTS
    assert [a.attempt for a in AlertBook(store).attempts(alert.id)] == list(range(1, 10))


def test_a_client_error_is_not_retried(store: Store) -> None:
    alert = raise_alert(store)
    with webhook_receiver(statuses=[404]) as hook:
        [attempt] = sender(store, hook.url("/hooks/" + SECRET)).deliver([alert])
    assert (attempt.outcome, attempt.http_status) == ("failed", 404)


def test_timeouts_and_refused_connections_are_recorded_and_retried(store: Store) -> None:
    alert = raise_alert(store)
    with webhook_receiver(delay=1.0) as hook:
        timed_out = sender(store, hook.url("/hooks/" + SECRET), timeout=0.2).deliver([alert])
        closed_port = hook.url("/hooks/" + SECRET)
    assert [a.error for a in timed_out] == [
        f"timed out after 0.2 s posting to http://127.0.0.1:{hook.port}/…"
    ] * 3
    refused = sender(store, closed_port).deliver_pending()
    assert len(refused) == 3 and all(a.http_status is None for a in refused)
    assert refused[0].error.startswith(f"ConnectError posting to http://127.0.0.1:{hook.port}/…")  # type: ignore[union-attr]


def test_an_unset_webhook_variable_is_a_recorded_failure_not_a_crash(store: Store) -> None:
    alert = raise_alert(store)
    [attempt] = WebhookSender(store, environ={}, attempts=1).deliver([alert])
    assert attempt.error == "environment variable ALERT_HOOK is not set"
    assert raise_alert(store, env=None, rule="quiet").delivery == "none"


def test_a_budget_crossing_reaches_the_webhook_through_the_guard(store: Store) -> None:
    budget = new_budget(
        name="daily", limit_usd=1.0, period="day", webhook_env="ALERT_HOOK", now="x"
    )
    BudgetBook(store).put(budget)
    with webhook_receiver() as hook:
        notify = sender(store, hook.url("/hooks/" + SECRET))
        guard = BudgetGuard(store, clock=Clock(NOON), notify=notify)
        held = guard.reserve("openai", "gpt-4o-mini", 0.9)
        log_call(store, NOON, 0.9)
        guard.settle(held, 0.9)
    assert [r.body["threshold"] for r in hook.received] == [50, 80]


def test_the_webhook_url_is_shown_masked_and_never_stored_or_logged(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An earlier test's configure_logging() may have stopped these loggers from propagating
    # to the root, where caplog listens.
    for name in ("tunedeck", "openai", "httpx2", "httpx"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    caplog.set_level(logging.DEBUG)  # every logger, httpx2's and httpcore2's included
    url_path = "/hooks/" + SECRET + "?token=QUERYSECRET"
    alert = raise_alert(store)
    with webhook_receiver(statuses=[500, 200]) as hook:
        attempts = sender(store, hook.url(url_path)).deliver([alert])
        assert webhook_label("ALERT_HOOK", {"ALERT_HOOK": hook.url(url_path)}) == (
            f"$ALERT_HOOK (http://127.0.0.1:{hook.port}/…)"
        )
    sender(store, "http://127.0.0.1:9" + url_path).deliver([raise_alert(store, rule="other")])
    dump = "\n".join(store.db.conn.iterdump())
    everything = dump + caplog.text + repr(attempts) + repr(AlertBook(store).attempts(2))
    assert "ALERT_HOOK" in dump  # the variable's name is stored...
    for secret in ("SECRET", "QUERYSECRET", "hooks/"):
        assert secret not in everything  # ...never its value
    assert "failed: HTTP 500 from http://127.0.0.1" in caplog.text
    assert mask_url("https://user:pw@hooks.slack.com:8443/services/x") == (
        "https://hooks.slack.com:8443/…"
    )
    assert mask_url("not a url") == "…"
