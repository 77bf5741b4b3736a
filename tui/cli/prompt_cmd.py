"""`tunedeck prompt`: send one prompt and print the answer with its figures."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from core.errors import BadInput
from core.params import build_request
from core.results import CacheMode, CallOptions, ChatResult
from tui.cli.budget_cmd import warn_alerts
from tui.cli.output import millis, print_json, say
from tui.cli.prompt_estimate import print_estimate
from tui.engine import engine
from tui.text import inert, money


def prompt(
    text: Annotated[str, typer.Argument(help="The prompt; '-' reads it from stdin.")],
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="Endpoint profile.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model name.")] = None,
    system: Annotated[str | None, typer.Option("--system", "-s", help="System prompt.")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", "-t")] = None,
    top_p: Annotated[float | None, typer.Option("--top-p")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens")] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    stop: Annotated[
        list[str] | None, typer.Option("--stop", help="Stop sequence (repeat).")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Extra parameter KEY=JSON (repeat).")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor fill the cache.")
    ] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask the model again, then cache.")
    ] = False,
    stream: Annotated[bool, typer.Option("--stream/--no-stream", help="Stream the answer.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    over_budget: Annotated[
        bool, typer.Option("--over-budget", help="Send even if a budget is used up.")
    ] = False,
    estimate: Annotated[
        bool, typer.Option("--estimate", help="Print the cost estimate and budgets; send nothing.")
    ] = False,
) -> None:
    """Send a prompt to a model and print its answer; figures go to stderr."""
    if no_cache and refresh:
        raise BadInput("--no-cache and --refresh cannot be used together")
    work = engine()
    name, chosen = work.settings.resolve_profile(profile)
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": _prompt_text(text)})
    request = build_request(
        model or chosen.default_model,
        messages,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        seed=seed,
        stop=stop,
        extra=_extra_params(param or []) or None,
    )
    if estimate:
        forecast = work.client.budget.estimate(name, chosen, request)
        print_estimate(name, request.model, forecast, as_json)
        return
    mode: CacheMode = "off" if no_cache else "refresh" if refresh else "use"
    show = None if as_json or not stream else _printer()
    options = CallOptions(stream=stream, cache=mode, on_text=show, over_budget=over_budget)
    result = work.client.complete(request, name, options)
    warn_alerts(list(result.alerts))
    if as_json:
        print_json(result)
        return
    if show is None:
        sys.stdout.write(_safe(result.text))
    sys.stdout.write("\n")
    say(figures(result))


def figures(result: ChatResult) -> str:
    """One line of what the call cost and how it went."""
    usage = result.usage
    badge = "cache hit" if result.cache_hit else "cache miss"
    parts = [
        f"{result.profile}/{result.model}",
        f"{usage.prompt_tokens} in / {usage.completion_tokens} out"
        + (" (estimated)" if usage.estimated else ""),
        money(result.cost_usd),
        f"first token {millis(result.ttft_ms)}",
        f"total {millis(result.latency_ms)}",
        badge,
    ]
    if result.retries:
        parts.append(f"{result.retries} retries")
    return " · ".join(parts) + f" · call {result.call_id}"


def _prompt_text(text: str) -> str:
    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise BadInput("the prompt is empty")
    return text


def _extra_params(pairs: list[str]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--param {pair!r}: expected KEY=VALUE")
        try:
            extra[key] = json.loads(raw)
        except json.JSONDecodeError:
            extra[key] = raw
    return extra


def _safe(text: str) -> str:
    return inert(text) if sys.stdout.isatty() else text


def _printer() -> Any:
    def show(piece: str) -> None:
        sys.stdout.write(_safe(piece))
        sys.stdout.flush()

    return show
