"""Budget alerts become toasts in the console, whichever pane or worker made the call."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

    from storage.alerts import AlertRow
    from tui.engine import Engine

_REGISTERED = "_tunedeck_alert_toasts"
MONITOR_SECONDS = 300.0
"""How often the console checks budgets and runs the monitors in the background."""
FIRST_WATCH_SECONDS = 60.0
"""When the first background check runs, after the console opens (not while it starts)."""


def toast_alerts(app: App[object], engine: Engine) -> None:
    """Have every alert the client raises shown as a notification (once per app).

    The client is made in a thread worker: it opens the database, which must not hold up
    the first frame.
    """
    if getattr(app, _REGISTERED, False):
        return
    setattr(app, _REGISTERED, True)

    def register() -> None:
        engine.client.budget.listeners.append(lambda alerts: _toast(app, alerts))

    app.run_worker(register, thread=True, group="alert-toasts", exit_on_error=False)
    watch_in_background(app, engine)


def watch_in_background(app: App[object], engine: Engine) -> None:
    """Run the monitors (and the budgets' threshold check) after start, then every
    `MONITOR_SECONDS`, each time in a thread worker; new alerts become toasts."""

    def watch() -> None:
        from core.budgets import zone_setting
        from core.monitors import watch_once

        clock = getattr(app, "clock", None)
        zone = zone_setting(engine.settings.timezone)
        report = watch_once(engine.store, zone=zone, **({"clock": clock} if clock else {}))
        if report.raised:
            app.call_from_thread(_show, app, report.raised)

    def start() -> None:
        app.run_worker(watch, thread=True, exclusive=True, group="monitors", exit_on_error=False)

    app.set_timer(FIRST_WATCH_SECONDS, start)  # not during start: it competes for the CPU
    app.set_interval(MONITOR_SECONDS, start)


def _toast(app: App[object], alerts: list[AlertRow]) -> None:
    """Called on the thread that made the call: the app's own (async sends) or a worker's."""
    try:
        app.call_from_thread(_show, app, alerts)
    except RuntimeError:  # already on the app's thread
        _show(app, alerts)


def _show(app: App[object], alerts: list[AlertRow]) -> None:
    for alert in alerts:
        severity = "error" if alert.threshold >= 100 else "warning"
        app.notify(alert.message, title="Budget alert", severity=severity, timeout=10)
    refresh = getattr(app, "refresh_status", None)
    if refresh is not None:  # the status line's budget bar moved
        refresh()
