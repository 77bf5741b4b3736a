"""The headless commands of `tunedeck` (typer), on the same engine as the console."""

from __future__ import annotations

from collections.abc import Sequence

import typer

from core.errors import TunedeckError
from tui.cli.budget_cmd import alerts_app, budget_app
from tui.cli.cache_cmd import cache_app
from tui.cli.data_cmd import data_app
from tui.cli.eval_cmd import eval_app
from tui.cli.log_cmd import log_app
from tui.cli.misc_cmd import profiles, tokens
from tui.cli.monitor_cmd import monitor_app
from tui.cli.output import say
from tui.cli.prompt_cmd import prompt
from tui.cli.usage_cmd import usage
from tui.engine import engine

app = typer.Typer(
    name="tunedeck",
    help="A keyboard-driven console for fine-tuning, evaluating and shipping LLMs.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("prompt")(prompt)
app.command("tokens")(tokens)
app.command("usage")(usage)
app.command("profiles")(profiles)
app.add_typer(log_app, name="log")
app.add_typer(cache_app, name="cache")
app.add_typer(data_app, name="data")
app.add_typer(eval_app, name="eval")
app.add_typer(budget_app, name="budget")
app.add_typer(alerts_app, name="alerts")
app.add_typer(monitor_app, name="monitor")


@app.callback(invoke_without_command=True)
def launch(ctx: typer.Context) -> None:
    """With no command: open the console."""
    if ctx.invoked_subcommand is None:
        from tui.cli import launch_console

        launch_console()


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code: 0 ok, 1 request failed, 2 bad input."""
    try:
        # Without standalone mode click returns a command's `typer.Exit(code)` instead of raising.
        outcome = app(
            args=list(argv) if argv is not None else None,
            prog_name="tunedeck",
            standalone_mode=False,
        )
    except TunedeckError as error:
        say(f"tunedeck: error: {error}")
        return error.exit_code
    except typer.Abort:
        say("tunedeck: aborted")
        return 1
    except typer.Exit as done:
        return done.exit_code
    except typer.exceptions.TyperException as error:  # usage errors: exit code 2
        show = getattr(error, "show", None)
        if show is not None:
            show()
        else:
            say(f"tunedeck: error: {error.format_message()}")
        return error.exit_code
    except KeyboardInterrupt:
        say("tunedeck: interrupted")
        return 130
    finally:
        if engine.cache_info().currsize:
            engine().close()
            engine.cache_clear()
    return outcome if isinstance(outcome, int) else 0
