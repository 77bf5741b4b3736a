"""The `tunedeck` command: with no arguments the console, otherwise a headless command.

Opening the console skips building the command line: its imports cost start-up time.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence


def main() -> None:
    """Console-script entry point."""
    from tui.cli.heap import own_process

    own_process()
    sys.exit(launch_console() if len(sys.argv) == 1 else run())


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code: 0 ok, 1 request failed, 2 bad input."""
    from tui.cli.commands import run as run_commands

    return run_commands(argv)


def launch_console() -> int:
    """Open the console on the process's engine; a settings error is one line, exit 2.

    The garbage collector is off until the console has started: the start allocates ~200k
    objects that live as long as the app, and collecting on the way cost ~0.1-0.2 s.
    """
    gc.disable()
    from core.errors import TunedeckError
    from tui.engine import engine

    try:
        deck = engine()
    except TunedeckError as error:
        sys.stderr.write(f"tunedeck: error: {error}\n")
        return error.exit_code
    from tui.app import TunedeckApp

    TunedeckApp(deck, collector_paused=True).run()
    return 0
