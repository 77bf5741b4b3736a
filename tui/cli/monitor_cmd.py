"""`tunedeck monitor`: run the monitors and check the budgets once (for cron or CI);
`tunedeck monitor set|ls|rm` configures the monitors."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from core.alerts import webhook_label
from core.budgets import usd, zone_setting
from core.budgets.periods import period_words
from core.clock import iso, utc_now
from core.errors import BadInput
from core.monitors import MonitorResult, active_monitors, describe, new_monitor, watch_once
from storage.budgets import Standing
from storage.monitors import MonitorBook, MonitorRow
from tui.cli.budget_cmd import warn_alerts
from tui.cli.output import print_json, print_table, say
from tui.engine import engine

monitor_app = typer.Typer(
    help="Run the monitors (error rate, p95 latency, daily cost per model) and check the "
    "budgets once, then deliver pending webhooks: exit 1 on a breach or a used-up budget. "
    "set, ls and rm configure the monitors."
)


class Metric(StrEnum):
    """What a monitor watches."""

    error_rate = "error_rate"
    p95_latency = "p95_latency"
    daily_cost = "daily_cost"


@monitor_app.callback(invoke_without_command=True)
def monitor_run(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Run every monitor and check every budget once, then deliver pending webhooks.

    Exit 1 when a monitor breaches or a budget is used up, 0 otherwise.
    """
    if ctx.invoked_subcommand is not None:
        return
    work = engine()
    report = watch_once(work.store, zone=zone_setting(work.settings.timezone))
    if as_json:
        print_json({"monitors": [_result_row(r) for r in report.monitors], "alerts": report.raised})
    else:
        _print_results(report.monitors)
    warn_alerts(report.raised)
    for standing in report.used_up:
        say(f"tunedeck: budget {_used_up(standing)}")
    for attempt in report.failed_deliveries:
        say(f"tunedeck: warning: alert {attempt.alert_id} not delivered: {attempt.error}")
    if report.breached:
        raise typer.Exit(1)


@monitor_app.command("set")
def monitor_set(
    name: Annotated[str, typer.Argument(help="The monitor's name.")],
    metric: Annotated[Metric, typer.Option("--metric", help="What to watch.")],
    factor: Annotated[
        float, typer.Option("--factor", help="Breach above this many times the baseline.")
    ],
    floor: Annotated[
        float,
        typer.Option("--floor", help="...and at least this: percent, ms or USD by metric."),
    ] = 0.0,
    min_calls: Annotated[
        int, typer.Option("--min-calls", help="Calls a day needs to be measured.")
    ] = 20,
    model: Annotated[str, typer.Option("--model", help="Model name or glob.")] = "*",
    webhook_env: Annotated[
        str | None,
        typer.Option("--webhook-env", help="NAME of the variable holding the webhook URL."),
    ] = None,
) -> None:
    """Create or replace a monitor (configured monitors replace the defaults)."""
    rule = new_monitor(
        name=name,
        metric=metric.value,
        model=model,
        factor=factor,
        floor=floor / 100 if metric is Metric.error_rate else floor,
        min_calls=min_calls,
        webhook_env=webhook_env,
        now=iso(utc_now()),
    )
    MonitorBook(engine().store).put(rule)
    say(
        f"monitor '{rule.name}' set: {rule.metric} of {rule.model_glob} above "
        f"{rule.factor:g}x its 7-day baseline and at least {describe(rule, rule.floor)}"
    )


@monitor_app.command("ls")
def monitor_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The monitors that run (the defaults while none is configured)."""
    store = engine().store
    configured = bool(MonitorBook(store).all())
    rules = active_monitors(store)
    if as_json:
        print_json([{**_rule_row(rule), "default": not configured} for rule in rules])
        return
    print_table(
        ["monitor", "metric", "model", "factor", "floor", "min calls", "webhook"],
        [
            [
                rule.name + ("" if configured else " (default)"),
                rule.metric,
                rule.model_glob,
                f"{rule.factor:g}x",
                describe(rule, rule.floor),
                rule.min_calls,
                webhook_label(rule.webhook_env),
            ]
            for rule in rules
        ],
    )


@monitor_app.command("rm")
def monitor_rm(name: Annotated[str, typer.Argument(help="The monitor's name.")]) -> None:
    """Delete a monitor (its alerts stay in the history)."""
    if not MonitorBook(engine().store).delete(name):
        raise BadInput(f"no monitor named '{name}' (see tunedeck monitor ls)")
    say(f"deleted monitor '{name}'")


def _print_results(results: list[MonitorResult]) -> None:
    print_table(
        ["monitor", "model", "calls", "last 24 h", "7 days before", "status"],
        [
            [
                r.rule.name,
                r.model,
                r.calls,
                describe(r.rule, r.figure),
                describe(r.rule, r.baseline),
                _status(r),
            ]
            for r in results
        ],
    )


def _status(result: MonitorResult) -> str:
    if result.breached:
        return "BREACH"
    if result.figure is None:
        return f"too few calls (<{result.rule.min_calls})"
    return "ok"


def _used_up(standing: Standing) -> str:
    budget = standing.budget
    return (
        f"'{budget.name}' used up: {usd(standing.spent_usd)} of {usd(budget.limit_usd)} "
        f"{period_words(budget.period)}"
    )


def _rule_row(rule: MonitorRow) -> dict[str, Any]:
    return {
        "name": rule.name,
        "metric": rule.metric,
        "model": rule.model_glob,
        "factor": rule.factor,
        "floor": rule.floor,
        "min_calls": rule.min_calls,
        "webhook_env": rule.webhook_env,
        "webhook": webhook_label(rule.webhook_env),
    }


def _result_row(result: MonitorResult) -> dict[str, Any]:
    return {
        "monitor": result.rule.name,
        "metric": result.rule.metric,
        "model": result.model,
        "calls": result.calls,
        "figure": result.figure,
        "baseline": result.baseline,
        "breached": result.breached,
        "alert_id": result.alert.id if result.alert else None,
    }
