"""The tunedeck console (the Textual app). Its panes arrive with the console issue."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from tui.cli.engine import Engine


class TunedeckApp(App[None]):
    """The console shell: header, status and footer on the shared engine."""

    TITLE = "tunedeck"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        name, profile = self.engine.settings.resolve_profile()
        demo = " (offline demo)" if profile.demo else ""
        yield Static(
            f"profile {name}{demo} · model {profile.default_model}\n\n"
            "The Prompt, Cache and Usage panes are on their way. Meanwhile every command runs "
            'headless: try `tunedeck prompt "hello"`, `tunedeck log`, `tunedeck usage`.',
            id="status",
            markup=False,
        )
        yield Footer()
