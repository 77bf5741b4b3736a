"""`tunedeck profiles` and `tunedeck tokens`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from core.errors import BadInput
from core.prices import known_price
from core.tokens import count_messages
from tui.cli.output import print_json, print_table
from tui.engine import engine


def profiles(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Configured endpoints and where each key comes from (never the key)."""
    settings = engine().settings
    active, _ = settings.resolve_profile()
    rows = []
    for name, profile in sorted(settings.all_profiles().items()):
        rows.append(
            {
                "name": name,
                "active": name == active,
                "base_url": profile.endpoint,
                "default_model": profile.default_model,
                "key": _key_source(profile.api_key_env),
                "local": profile.local,
                "priced": known_price(profile.default_model, profile),
                "timeout": profile.timeout,
                "max_retries": profile.max_retries,
            }
        )
    if as_json:
        print_json(rows)
        return
    print_table(
        ["", "profile", "base url", "default model", "key", "timeout", "retries"],
        [
            [
                "*" if r["active"] else "",
                r["name"],
                r["base_url"],
                r["default_model"],
                r["key"],
                f"{r['timeout']:g} s",
                r["max_retries"],
            ]
            for r in rows
        ],
    )


def tokens(
    file: Annotated[Path, typer.Argument(help='JSON file: {"messages": [...], "tools": [...]}.')],
    model: Annotated[str, typer.Option("--model", "-m", help="Model whose tokenizer counts.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Prompt tokens of a chat request, with the chat format's overheads."""
    body = _read_request(file)
    count = count_messages(body["messages"], model, body.get("tools"))
    if as_json:
        print_json({"model": model, **dataclasses.asdict(count)})
        return
    note = "" if count.exact else " (estimated: tokenizer unknown for this model)"
    typer.echo(f"{count.tokens} prompt tokens for {model} ({count.encoding}){note}")


def _key_source(env_name: str | None) -> str:
    import os

    if env_name is None:
        return "none needed"
    return f"${env_name}" + ("" if os.environ.get(env_name) else " (not set)")


def _read_request(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{file}: cannot be read: {error}") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInput(f"{file}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}") from None
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise BadInput(f'{file}: expected an object with a "messages" list')
    if not all(isinstance(m, dict) for m in body["messages"]):
        raise BadInput(f"{file}: every message must be an object")
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise BadInput(f'{file}: "tools" must be a list')
    return body
