"""`tunedeck budget set|ls|rm` and `tunedeck alerts`: spending limits and what they raised."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from core.alerts import webhook_label
from core.budgets import BudgetGuard, new_budget, usd, zone_setting
from core.budgets.periods import period_words
from core.clock import iso, utc_now
from core.errors import BadInput
from storage.alerts import AlertBook, AlertRow
from storage.budgets import BudgetBook, Standing
from tui.cli.log_cmd import since_time
from tui.cli.output import local_time, millis, print_json, print_table, say
from tui.engine import Engine, engine

budget_app = typer.Typer(help="Spending limits per scope and period, checked before paid calls.")
alerts_app = typer.Typer(help="Alerts raised by budgets and monitors.")


class Period(StrEnum):
    """A budget's period, in the configured time zone (weeks start on Monday)."""

    day = "day"
    week = "week"
    month = "month"
    all = "all"


@budget_app.command("set")
def budget_set(
    name: Annotated[str, typer.Argument(help="The budget's name, e.g. daily.")],
    limit: Annotated[float, typer.Option("--limit", help="Limit in USD.")],
    period: Annotated[
        Period, typer.Option("--period", help="In the configured time zone; weeks start on Monday.")
    ],
    scope: Annotated[
        str, typer.Option("--scope", help="all, profile:NAME or model:PATTERN (glob).")
    ] = "all",
    thresholds: Annotated[
        str | None,
        typer.Option(
            "--thresholds", help="Alert at these percents of the limit (default 50,80,100)."
        ),
    ] = None,
    webhook_env: Annotated[
        str | None,
        typer.Option("--webhook-env", help="NAME of the variable holding the webhook URL."),
    ] = None,
) -> None:
    """Create or replace a budget."""
    work = engine()
    book = BudgetBook(work.store)
    budget = new_budget(
        name=name,
        limit_usd=limit,
        period=period.value,
        scope=scope,
        thresholds=thresholds,
        webhook_env=webhook_env,
        known_profiles=work.settings.all_profiles(),
        now=iso(utc_now()),
    )
    existed = book.get(name) is not None
    book.put(budget)
    every = "in total" if budget.period == "all" else f"a {budget.period}"
    say(
        f"budget '{budget.name}' {'updated' if existed else 'set'}: {usd(budget.limit_usd)} "
        f"{every} on {'all calls' if budget.scope == 'all' else budget.scope}; alerts at "
        + ", ".join(f"{t:g}%" for t in budget.thresholds)
    )


@budget_app.command("ls")
def budget_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every budget with what it has spent in its current period."""
    rows = [_standing_row(standing) for standing in _guard(engine()).standings()]
    if as_json:
        print_json(rows)
        return
    print_table(
        [
            "budget",
            "scope",
            "period",
            "limit",
            "spent",
            "in flight",
            "used",
            "alerts at",
            "webhook",
        ],
        [
            [
                row["name"],
                row["scope"],
                row["period_words"],
                usd(row["limit_usd"]),
                usd(row["spent_usd"]),
                usd(row["reserved_usd"]),
                f"{row['percent']:.0f}%",
                ",".join(f"{t:g}" for t in row["thresholds"]),
                row["webhook"],
            ]
            for row in rows
        ],
    )


@budget_app.command("rm")
def budget_rm(name: Annotated[str, typer.Argument(help="The budget's name.")]) -> None:
    """Delete a budget (its alerts stay in the history)."""
    if not BudgetBook(engine().store).delete(name):
        raise BadInput(f"no budget named '{name}' (see tunedeck budget ls)")
    say(f"deleted budget '{name}'")


@alerts_app.callback(invoke_without_command=True)
def alerts_list(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="30m, 24h, 7d or a date.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Alerts, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    alerts = AlertBook(engine().store).recent(limit, since_time(since))
    if as_json:
        print_json(alerts)
        return
    print_table(
        ["id", "raised", "kind", "rule", "scope", "delivery", "alert"],
        [
            [a.id, local_time(a.created_at), a.kind, a.rule, a.scope, a.delivery, a.message]
            for a in alerts
        ],
    )


@alerts_app.command("show")
def alerts_show(
    alert_id: Annotated[int, typer.Argument(help="Alert id from `tunedeck alerts`.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One alert and every attempt to deliver it to its webhook."""
    book = AlertBook(engine().store)
    alert = _alert(book, alert_id)
    attempts = book.attempts(alert_id)
    if as_json:
        print_json({"alert": alert, "deliveries": attempts})
        return
    print_table(
        ["field", "value"],
        [
            ("id", alert.id),
            ("raised", local_time(alert.created_at)),
            ("kind", alert.kind),
            ("rule", alert.rule),
            ("scope", alert.scope),
            ("period", alert.period),
            ("alert", alert.message),
            ("webhook", webhook_label(alert.webhook_env)),
            ("delivery", alert.delivery),
        ],
    )
    if attempts:
        print_table(
            ["attempt", "at", "outcome", "status", "time", "error"],
            [
                [
                    a.attempt,
                    local_time(a.at),
                    a.outcome,
                    a.http_status,
                    millis(a.duration_ms),
                    a.error,
                ]
                for a in attempts
            ],
        )


def warn_alerts(alerts: list[AlertRow]) -> None:
    """A warning line on stderr for each alert just raised."""
    for alert in alerts:
        say(f"tunedeck: warning: {alert.message}")


def _alert(book: AlertBook, alert_id: int) -> AlertRow:
    alert = book.get(alert_id)
    if alert is None:
        raise BadInput(f"no alert with id {alert_id} (see tunedeck alerts)")
    return alert


def _guard(work: Engine) -> BudgetGuard:
    return BudgetGuard(work.store, zone=zone_setting(work.settings.timezone))


def _standing_row(standing: Standing) -> dict[str, Any]:
    budget = standing.budget
    return {
        "name": budget.name,
        "scope": budget.scope,
        "period": budget.period,
        "period_key": standing.window.key,
        "period_words": period_words(budget.period),
        "since": standing.window.since,
        "until": standing.window.until,
        "limit_usd": budget.limit_usd,
        "spent_usd": standing.spent_usd,
        "reserved_usd": standing.reserved_usd,
        "percent": 100 * standing.spent_usd / budget.limit_usd,
        "thresholds": list(budget.thresholds),
        "webhook_env": budget.webhook_env,
        "webhook": webhook_label(budget.webhook_env),
    }
