"""The Data pane, driven by its keys: check a generated file, its summary and problems by line,
the kind filter, one example in full, a split with its versions and lineage, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher, Input, Label, Static

from core.settings import load_settings
from storage.datasets import DatasetVersions
from tests.support.data_files import EMAIL, chat, training_file
from tui.app import TunedeckApp
from tui.engine import Engine
from tui.screens.data import VERSIONS_VIEW, DataScreen
from tui.widgets.data.dialogs import SplitDialog
from tui.widgets.data.example import ExampleView, TextView
from tui.widgets.data.problems import ProblemTable
from tui.widgets.data.versions import VersionTable

SIZE = (120, 36)


def make_app() -> TunedeckApp:
    return TunedeckApp(Engine(load_settings()), warm_up=False, cursor_blink=False, pane="data")


async def settle(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def check(pilot: Pilot[None], typed: str) -> DataScreen:
    """Type `typed` in the path field and press enter; wait for the check."""
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DataScreen)
    await pilot.press("o")
    field = screen.query_one("#data-path", Input)
    field.value = typed
    await pilot.press("enter")
    await settle(pilot)
    return screen


def problem_rows(table: ProblemTable) -> list[tuple[int, str]]:
    return [(problem.line, problem.kind) for problem in table.rows_shown]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


async def test_a_check_shows_the_summary_and_the_problems_by_line(workdir: Path) -> None:
    path, planted = training_file(workdir)
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await check(pilot, "train.jsonl")
        summary = str(screen.query_one("#data-summary", Static).render())
        assert "train.jsonl" in summary and "chat · 44 lines" in summary
        assert "examples 42" in summary  # 44 lines, less the invalid JSON and the unknown role
        assert "messages 2-2 (mean 2.0)" in summary and "3 epochs" in summary
        rows = problem_rows(screen.problems)
        for kind, line in planted.items():
            assert (line, kind) in rows, (kind, line, rows)
        assert screen.focused is screen.problems
        bar = str(screen.query_one("#data-problems-bar", Label).render())
        assert f"of {len(rows)}" in bar and "kind: all" in bar
    assert path.read_text(encoding="utf-8").count("\n") == 44  # never touched


async def test_k_filters_the_problems_by_kind_in_turn(workdir: Path) -> None:
    training_file(workdir)
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await check(pilot, "train.jsonl")
        kinds = list(screen.checked.report.problems.counts()) if screen.checked else []
        assert "email" in kinds and len(kinds) >= 3
        seen = []
        for _ in kinds:
            await pilot.press("k")
            shown = {kind for _, kind in problem_rows(screen.problems)}
            assert len(shown) == 1
            seen.append(shown.pop())
        assert seen == kinds
        await pilot.press("k")  # after the last kind: every kind again
        assert {kind for _, kind in problem_rows(screen.problems)} == set(kinds)


async def test_enter_on_a_problem_shows_its_example_with_the_span_flagged(workdir: Path) -> None:
    _, planted = training_file(workdir)
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await check(pilot, "train.jsonl")
        screen.show_kind("email")
        assert problem_rows(screen.problems) == [(planted["email"], "email")]
        await pilot.press("enter")
        await settle(pilot)
        view = pilot.app.screen
        assert isinstance(view, ExampleView)
        assert view.problem.line == planted["email"]
        flagged = [
            view.text.plain[span.start : span.end]
            for span in view.text.spans
            if "reverse" in str(span.style)
        ]
        assert flagged == [EMAIL]
        assert "the whole example" in view.text.plain
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_an_example_is_shown_inert(workdir: Path) -> None:
    path = workdir / "escapes.jsonl"
    hostile = f"\x1b]0;pwned\x07 [bold red]x[/] \x1b[2J write to {EMAIL}"
    path.write_text(json.dumps(chat(hostile, "fine, noted")) + "\n", encoding="utf-8")
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await check(pilot, "escapes.jsonl")
        screen.show_kind("email")
        await pilot.press("enter")
        await settle(pilot)
        view = pilot.app.screen
        assert isinstance(view, ExampleView)
        shown = str(view.query_one("#view-text", Static).render())
        assert "\x1b" not in shown and "\x07" not in shown
        assert "\\x1b]0;pwned\\x07 [bold red]x[/] \\x1b[2J" in shown


async def test_split_from_the_pane_records_the_versions_and_their_lineage(workdir: Path) -> None:
    training_file(workdir)
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await check(pilot, "train.jsonl")
        await pilot.press("s")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, SplitDialog)
        dialog.query_one("#split-holdout", Input).value = "0.25"
        dialog.query_one("#split-seed", Input).value = "7"
        dialog.query_one("#split-suite", Input).value = "held"
        dialog.query_one("#split-dir", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        outcome = pilot.app.screen
        assert isinstance(outcome, TextView)
        text = outcome.text.plain
        assert "train-split/train.jsonl" in text and "train-split/heldout.jsonl" in text
        assert "leak" in text
        await pilot.press("escape")
        await pilot.press("v")
        await settle(pilot)
        assert screen.query_one(ContentSwitcher).current == VERSIONS_VIEW
        table = screen.query_one(VersionTable)
        roles = [version.role for version in table.versions]
        assert roles == ["suite", "heldout", "train", "source"]  # newest first
        assert screen.focused is table
        table.move_cursor(row=0)  # the suite: made from held-out, made from the file checked
        await settle(pilot)
        lineage = str(screen.query_one("#data-lineage", Static).render())
        assert lineage.startswith("made from: #4 suite train-split/held.suite.jsonl  ←  ")
        assert "←  #3 heldout train-split/heldout.jsonl  ←  #1 source train.jsonl" in lineage
        assert "made into: nothing yet" in lineage
        table.move_cursor(row=3)  # the file checked: both parts were made from it
        await settle(pilot)
        lineage = str(screen.query_one("#data-lineage", Static).render())
        assert lineage.startswith("made from: #1 source train.jsonl\n")
        expected = (
            "made into: #2 train train-split/train.jsonl, #3 heldout train-split/heldout.jsonl"
        )
        assert expected in lineage
    assert (workdir / "train-split" / "heldout.jsonl").exists()


async def test_a_bad_path_is_a_notification_and_nothing_recorded(workdir: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await check(pilot, "missing.jsonl")
        messages = [note.message for note in app._notifications]
        assert any(
            "missing.jsonl" in message and "cannot be read" in message for message in messages
        )
        assert screen.checked is None and screen.running is None
        assert not screen.query_one("#data-progress").has_class("-running")
        assert DatasetVersions(app.engine.store).page() == []


async def test_clean_and_split_need_an_open_file(workdir: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one(VersionTable).focus()
        await pilot.press("s")
        assert not isinstance(app.screen, SplitDialog)
        assert any("open a file first" in note.message for note in app._notifications)


async def test_clean_from_the_pane_writes_a_new_file_and_leaves_the_input(workdir: Path) -> None:
    path, _ = training_file(workdir)
    before = path.read_bytes()
    async with make_app().run_test(size=SIZE) as pilot:
        screen = await check(pilot, "train.jsonl")
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")  # the proposed output: train.clean.jsonl
        await settle(pilot)
        outcome = pilot.app.screen
        assert isinstance(outcome, TextView)
        assert "wrote train.clean.jsonl: kept 41, dropped 3" in outcome.text.plain
        await pilot.press("escape")
        roles = [version.role for version in screen.versions.versions]
        assert roles == ["clean", "source"]
    assert path.read_bytes() == before
    assert len((workdir / "train.clean.jsonl").read_text(encoding="utf-8").splitlines()) == 41


async def test_escape_cancels_a_check_and_keeps_the_pane_usable(workdir: Path) -> None:
    path, _ = training_file(workdir, examples=30_000)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DataScreen)
        await pilot.press("o")
        screen.query_one("#data-path", Input).value = path.name
        await pilot.press("enter")
        assert screen.running == "checking"
        assert screen.query_one("#data-progress").has_class("-running")
        await pilot.press("escape")
        await settle(pilot)
        assert screen.running is None and screen.checked is None
        assert any("checking: cancelled" in note.message for note in app._notifications)
        assert DatasetVersions(app.engine.store).page() == []


@pytest.mark.parametrize("key", ["alt+5", "f6"])
async def test_the_pane_opens_with_its_keys_and_focuses_the_path(workdir: Path, key: str) -> None:
    app = TunedeckApp(Engine(load_settings()), warm_up=False, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == "prompt"
        await pilot.press(key)
        await settle(pilot)
        assert app.current_mode == "data" and isinstance(app.screen, DataScreen)
        assert app.focused is app.screen.query_one("#data-path", Input)
