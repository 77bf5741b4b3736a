"""Snapshot fixtures: a seeded database, a fixed clock and time zone, no blink, no animation."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from core.settings import load_settings
from tests.support.seed import seed_database
from tui.app import TunedeckApp
from tui.engine import Engine

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local time is UTC, so times on screen do not depend on the machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.fixture
def make_app(home: object) -> Callable[..., TunedeckApp]:
    """Build the console on a seeded database (or an empty one with `seeded=False`)."""

    def make(*, seeded: bool = True, mode: str = "prompt") -> TunedeckApp:
        engine = Engine(load_settings())
        if seeded:
            seed_database(engine.store, NOW)
        return TunedeckApp(engine, clock=lambda: NOW, warm_up=False, cursor_blink=False, pane=mode)

    return make
