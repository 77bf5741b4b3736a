"""For tests that fill a database migrated only part way (`stop_before=`) with today's code."""

from __future__ import annotations

from typing import Any

import pytest

from storage import calls


def log_calls_as_before_m013(monkeypatch: pytest.MonkeyPatch) -> None:
    """Log calls without their process id, as tunedeck did before m013 added the column."""
    start_row = calls._start_row

    def without_pid(call: Any) -> dict[str, Any]:
        return {name: value for name, value in start_row(call).items() if name != "pid"}

    monkeypatch.setattr(calls, "_start_row", without_pid)
