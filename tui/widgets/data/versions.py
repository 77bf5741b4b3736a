"""Dataset versions as a table (keyset-paged, newest first), and the lineage of one."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from storage.datasets import DatasetVersion
from tui.text import inert
from tui.widgets.data.paths import display_path

PAGE_SIZE = 100


class VersionTable(DataTable[str]):
    """A page of dataset versions: id, path, role, sha256 prefix, examples, created."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.versions: list[DatasetVersion] = []
        self.pages: list[int | None] = [None]
        """`before_id` of each page read so far; the last one is shown."""

    def on_mount(self) -> None:
        self.add_column("id", key="id", width=5)
        self.add_column("path", key="path")
        self.add_column("role", key="role", width=8)
        self.add_column("sha256", key="sha256", width=12)
        self.add_column("examples", key="examples", width=9)
        self.add_column("created", key="created", width=16)

    def show(self, versions: list[DatasetVersion]) -> None:
        """Replace the rows with `versions`."""
        self.versions = versions
        self.clear()
        for version in versions:
            self.add_row(*cells(version), key=str(version.id))

    def version_at_cursor(self) -> DatasetVersion | None:
        """The version under the cursor."""
        if not self.versions or not 0 <= self.cursor_row < len(self.versions):
            return None
        return self.versions[self.cursor_row]


def cells(version: DatasetVersion) -> tuple[str, ...]:
    """The cells of a version's row."""
    return (
        str(version.id),
        inert(display_path(version.path)),
        version.role,
        version.sha256[:12],
        f"{version.examples:,}",
        version.created_at[:16].replace("T", " "),
    )


def lineage_text(chain: list[DatasetVersion], children: list[DatasetVersion]) -> Text:
    """`#5 heldout heldout.jsonl  ←  #3 source data.jsonl` and the versions made from it."""
    text = Text()
    if not chain:
        return Text("no version selected")
    text.append("made from: ", style="bold")
    text.append("  ←  ".join(_name(version) for version in chain))
    text.append("\nmade into: ", style="bold")
    text.append(", ".join(_name(version) for version in children) or "nothing yet")
    return text


def _name(version: DatasetVersion) -> str:
    return f"#{version.id} {version.role} {inert(display_path(version.path))}"
