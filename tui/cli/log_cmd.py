"""`tunedeck log`: the request log, filtered and searched."""

from __future__ import annotations

from typing import Annotated

import typer

from core.clock import parse_since, utc_now
from core.errors import BadInput
from storage.records import CallFilter, CallRecord
from tui.cli.output import excerpt, local_time, millis, print_json, print_table
from tui.engine import engine
from tui.text import money

log_app = typer.Typer(help="The request log: every call, whatever its outcome.")


@log_app.callback(invoke_without_command=True)
def log_list(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", "-m")] = None,
    since: Annotated[str | None, typer.Option("--since", help="30m, 24h, 7d or a date.")] = None,
    search: Annotated[
        str | None,
        typer.Option("--search", "-q", help="Full-text search of the calls sent (not cache hits)."),
    ] = None,
    errors: Annotated[bool, typer.Option("--errors", help="Failed and cut calls only.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List logged calls, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    query = CallFilter(
        model=model,
        since=since_time(since),
        search=search,
        errors_only=errors,
        limit=limit,
    )
    calls = engine().store.calls.find(query)
    if as_json:
        print_json(calls)
        return
    print_table(
        ["id", "started", "profile", "model", "status", "tokens", "cost", "latency", "prompt"],
        [_row(call) for call in calls],
    )


@log_app.command("show")
def log_show(
    call_id: Annotated[int, typer.Argument(help="Call id from `tunedeck log`.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Everything logged about one call."""
    call = engine().store.calls.get(call_id)
    if call is None:
        raise BadInput(f"no call with id {call_id} in the log")
    if as_json:
        print_json(call)
        return
    out = call.outcome
    usage = out.usage
    fields = [
        ("id", call.id),
        ("started", local_time(call.start.started_at)),
        ("profile", call.start.profile),
        ("endpoint", call.start.endpoint),
        ("model", call.start.model),
        ("status", _status(call)),
        ("parameters", call.start.params),
        (
            "tokens",
            f"{usage.prompt_tokens} in ({usage.cached_tokens} cached) / "
            f"{usage.completion_tokens} out ({usage.reasoning_tokens} reasoning)"
            + (" estimated" if usage.estimated else ""),
        ),
        ("cost", money(out.cost_usd)),
        ("first token", millis(out.ttft_ms)),
        ("latency", millis(out.latency_ms)),
        ("cache", "hit" if out.cache_hit else "eligible" if call.start.cache_eligible else "no"),
        ("retries", out.retries),
        ("finish reason", out.finish_reason),
        ("error", f"{out.error_type}: {out.error_message}" if out.error_type else None),
    ]
    print_table(["field", "value"], [(k, v) for k, v in fields if v not in (None, "")])
    for message in call.start.messages:
        print_table([f"[{message.get('role')}]"], [[message.get("content")]])
    print_table(["[answer]"], [[out.response_text]])


def since_time(since: str | None) -> str | None:
    """`--since` as a UTC ISO time, or a clear error."""
    if since is None:
        return None
    try:
        return parse_since(since, utc_now())
    except ValueError as error:
        raise BadInput(f"--since: {error}") from None


def _status(call: CallRecord) -> str:
    if call.status == "pending":
        return "interrupted" if call.outcome.response_text else "pending"
    if call.status == "cancelled" and call.outcome.error_type == "interrupted":
        return "interrupted"  # its process died (`CallLog.cancel_orphaned`)
    return call.status


def _row(call: CallRecord) -> list[object]:
    out = call.outcome
    tokens = f"{out.usage.prompt_tokens}/{out.usage.completion_tokens}"
    status = "cache hit" if out.cache_hit else _status(call)
    prompt = call.start.messages[-1].get("content") if call.start.messages else ""
    return [
        call.id,
        local_time(call.start.started_at),
        call.start.profile,
        call.start.model,
        status,
        tokens,
        money(out.cost_usd),
        millis(out.latency_ms),
        excerpt(str(prompt or ""), 40),
    ]
