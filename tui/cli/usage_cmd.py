"""`tunedeck usage`: tokens, cost, calls, errors and cache savings."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from storage.usage import UsageQueries
from tui.cli.log_cmd import since_time
from tui.cli.output import print_json, print_table
from tui.engine import engine
from tui.text import money


class GroupBy(StrEnum):
    """How to break the totals down."""

    model = "model"
    day = "day"
    profile = "profile"


def usage(
    by: Annotated[
        GroupBy | None, typer.Option("--by", help="Break down by model, day or profile.")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="30m, 24h, 7d or a date.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Totals of the request log (tokens sent, cost, errors, cache savings)."""
    queries = UsageQueries(engine().store)  # the Usage pane's totals: from the rollup
    rows = queries.summary(by.value if by else None, since_time(since))
    if as_json:
        print_json(rows)
        return
    print_table(
        [
            by.value if by else "scope",
            "calls",
            "errors",
            "tokens in",
            "tokens out",
            "cost",
            "unpriced",
            "cache hits",
            "saved",
        ],
        [
            [
                row.group,
                row.calls,
                row.errors,
                row.prompt_tokens,
                row.completion_tokens,
                money(row.cost_usd) if not row.unpriced_calls else money(row.cost_usd) + "+",
                row.unpriced_calls,
                row.cache_hits,
                money(row.cost_saved_usd),
            ]
            for row in rows
        ],
    )
