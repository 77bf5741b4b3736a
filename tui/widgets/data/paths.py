"""Paths in the Data pane: completion of a typed path, and short names to show."""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester

MAX_LISTED = 2000  # entries of a directory looked at for one completion


class PathSuggester(Suggester):
    """Completes the last part of a typed path from its directory's entries (tab or right
    accepts); a directory completes with a trailing `/`, so the next part can follow."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        """The first entry, in name order, that starts with what was typed of the last part."""
        if not value:
            return None
        folder, _, start = value.rpartition("/")
        if "/" in value:
            folder = folder or "/"
        where = Path(os.path.expanduser(folder or "."))
        match = first_entry(where, start)
        if match is None:
            return None
        prefix = value[: len(value) - len(start)]
        return prefix + match


def first_entry(folder: Path, start: str) -> str | None:
    """The first name in `folder` starting with `start` (hidden ones only if asked), with `/`
    after a directory; None when nothing matches or the folder cannot be read."""
    try:
        with os.scandir(folder) as entries:
            names = []
            for count, entry in enumerate(entries):
                if count >= MAX_LISTED:
                    break
                if entry.name.startswith(start) and (start.startswith(".") or entry.name[0] != "."):
                    names.append(entry.name + ("/" if _is_dir(entry) else ""))
    except OSError:
        return None
    names = [name for name in names if name.rstrip("/") != start or name.endswith("/")]
    return min(names) if names else None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def display_path(path: str | Path) -> str:
    """`path` relative to the working directory when it is under it, else with `~` for the
    home directory: short, and the same on every machine for a file beside the user."""
    resolved = Path(path).expanduser().resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        pass
    try:
        return "~/" + str(resolved.relative_to(Path.home()))
    except ValueError:
        return str(resolved)
