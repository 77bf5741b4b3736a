"""`python -m tui`: the same as the `tunedeck` command."""

from tui.cli import main

main()
