"""A budget as the user gives it, checked: name, limit, period, scope, thresholds, webhook.

Every check fails with `BadInput` naming the option and the rule, so the command line can
print one line and exit 2 before anything is written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import Decimal

from core.budgets.periods import PERIODS
from core.errors import BadInput
from storage.budgets import BudgetRow

DEFAULT_THRESHOLDS = (50.0, 80.0, 100.0)
"""Percentages of the limit at which a budget raises an alert, unless told otherwise."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_name(name: str, what: str = "budget") -> str:
    """A rule's name: letters, digits, `_`, `.`, `-`, at most 64 characters."""
    if not _NAME.match(name):
        raise BadInput(
            f"{what} name '{name}': use 1-64 letters, digits, '_', '.' or '-' "
            "(starting with a letter or digit)"
        )
    return name


def check_limit(limit: float) -> float:
    """A limit in USD: a finite number above 0."""
    if not math.isfinite(limit) or limit <= 0:
        raise BadInput(f"--limit {limit:g}: must be a number of USD greater than 0")
    return float(limit)


def check_period(period: str) -> str:
    """One of `PERIODS`."""
    if period not in PERIODS:
        raise BadInput(f"--period '{period}': use one of {', '.join(PERIODS)}")
    return period


def parse_scope(text: str, known_profiles: Iterable[str] | None = None) -> tuple[str, str]:
    """`all`, `profile:NAME` or `model:PATTERN` as (kind, value).

    A model pattern is matched like a shell glob, case-sensitively (SQLite GLOB: `*`, `?`,
    `[abc]`, `[^abc]`). A profile must be one of `known_profiles` when they are given.
    """
    text = text.strip()
    if text == "all":
        return "all", ""
    kind, _, value = text.partition(":")
    if kind not in ("profile", "model") or not value:
        raise BadInput(f"--scope '{text}': use all, profile:NAME or model:PATTERN")
    known = sorted(known_profiles) if known_profiles is not None else None
    if kind == "profile" and known is not None and value not in known:
        raise BadInput(f"--scope '{text}': unknown profile '{value}' (known: {', '.join(known)})")
    return kind, value


def parse_thresholds(text: str) -> tuple[float, ...]:
    """`50,80,100` as ascending percentages, each above 0 and at most 1000."""
    try:
        values = sorted({float(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise BadInput(f"--thresholds '{text}': use percentages like 50,80,100") from None
    if not values or not all(math.isfinite(v) and 0 < v <= 1000 for v in values):
        raise BadInput(f"--thresholds '{text}': each must be above 0 and at most 1000 (percent)")
    return tuple(values)


def check_webhook_env(name: str | None) -> str | None:
    """The NAME of the environment variable holding a webhook URL (never the URL itself:
    it may carry a secret, and the database and the logs must not)."""
    if name is None or name == "":
        return None
    if "://" in name or not _ENV_NAME.match(name):
        raise BadInput(
            "--webhook-env: must be the NAME of an environment variable holding the URL "
            "(like ALERT_WEBHOOK_URL), not the URL"
        )
    return name


def new_budget(
    *,
    name: str,
    limit_usd: float,
    period: str,
    scope: str = "all",
    thresholds: str | None = None,
    webhook_env: str | None = None,
    known_profiles: Iterable[str] | None = None,
    now: str,
) -> BudgetRow:
    """A budget from the user's input, every part checked.

    Raises:
        BadInput: one line naming the option and the rule.
    """
    kind, value = parse_scope(scope, known_profiles)
    return BudgetRow(
        name=check_name(name),
        scope_kind=kind,
        scope_value=value,
        period=check_period(period),
        limit_usd=check_limit(limit_usd),
        thresholds=parse_thresholds(thresholds) if thresholds else DEFAULT_THRESHOLDS,
        webhook_env=check_webhook_env(webhook_env),
        created_at=now,
        updated_at=now,
    )


def usd(value: float | Decimal) -> str:
    """USD for budget messages: `$5.00`, `$1,234.50`; below $1 up to 4 decimals (`$0.0042`)."""
    amount = float(value)
    if abs(amount) >= 1 or amount == 0:
        return f"${amount:,.2f}"
    if 0 < amount < 0.0001:
        return "<$0.0001"
    text = f"{amount:.4f}".rstrip("0")
    return "$" + (text + "0" * max(0, 2 - len(text.split(".")[1])))
