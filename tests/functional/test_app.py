"""The console shell starts on the shared engine (its panes come with the console issue)."""

from __future__ import annotations

from textual.widgets import Static

from core.settings import load_settings
from tui.app import TunedeckApp
from tui.cli.engine import Engine


async def test_the_console_opens_on_the_demo_profile_and_quits_with_q(home: object) -> None:
    app = TunedeckApp(Engine(load_settings()))
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.query_one("#status", Static)
        assert "profile demo (offline demo)" in str(status.render())
        await pilot.press("q")
    assert app.return_code == 0
