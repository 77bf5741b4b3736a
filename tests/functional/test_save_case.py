""" "Save as eval case" from the Prompt pane: a prompt answered by the local server, saved to a
suite file through the dialog, then read back with the suite loader."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, TextArea

from core.evals.loader import load_suite
from core.settings import Settings
from tests.functional.test_prompt_pane import console, screen_lines, send, type_prompt
from tests.support.fake_openai import FakeOpenAI, Reply
from tui.dialogs.save_case import SaveCaseDialog, expected_text
from tui.widgets.data.paths import display_path
from tui.widgets.prompt.answer import AnswerView

ANSWER = "Paris is the capital.\n\x1b[31mred[/red] [bold]x"


def notes(pilot: Pilot[None]) -> list[str]:
    return [note.message for note in pilot.app._notifications]


async def open_dialog(pilot: Pilot[None]) -> SaveCaseDialog:
    await pilot.press("ctrl+t")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, SaveCaseDialog)
    return dialog


async def save(pilot: Pilot[None], key: str = "ctrl+s") -> None:
    await pilot.press(key)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def answered(pilot: Pilot[None], fake: FakeOpenAI, answer: str = ANSWER) -> AnswerView:
    fake.enqueue(Reply.text(answer))
    pilot.app.screen.query_one("#system", TextArea).load_text("Answer briefly.")
    await type_prompt(pilot, "What is the capital of France?")
    view = await send(pilot)
    assert view.state == "done"
    return view


async def test_a_prompt_and_its_edited_answer_are_saved_as_a_case(
    settings: Settings, fake: FakeOpenAI
) -> None:
    async with console(settings) as pilot:
        await answered(pilot, fake)
        dialog = await open_dialog(pilot)
        expected = dialog.query_one("#case-expected", TextArea)
        assert dialog.focused is expected
        shown = "\n".join(screen_lines(pilot))
        assert "\x1b" not in shown and "\\x1b[31mred[/red] [bold]x" in shown  # inert
        expected.load_text("Paris")
        dialog.query_one("#case-check", Select).value = "icontains"
        dialog.query_one("#case-tags", Input).value = "geo, europe"
        dialog.query_one("#case-critical", Checkbox).value = True
        await pilot.pause()
        assert dialog.query_one("#case-threshold", Input).disabled
        await save(pilot)
        assert not isinstance(pilot.app.screen, SaveCaseDialog)
        path = settings.home / "suites" / "prompts.jsonl"
        saved_to = f"saved case what-is-the-capital-of-france to {display_path(path)}"
        assert any(saved_to in note for note in notes(pilot))
        suite = load_suite(path)
        assert suite.params.temperature == 0 and suite.params.max_tokens == 512
        (case,) = suite.cases
        assert [(m.role, m.content) for m in suite.messages_for(case)] == [
            ("system", "Answer briefly."),
            ("user", "What is the capital of France?"),
        ]
        assert case.expected == "Paris" and case.critical and case.tags == ["geo", "europe"]
        assert [(a.type, a.value) for a in case.assertions] == [("icontains", "Paris")]


async def test_the_answer_is_saved_as_it_came_and_the_suite_file_is_remembered(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    target = tmp_path / "mine.yaml"
    async with console(settings) as pilot:
        await answered(pilot, fake)
        dialog = await open_dialog(pilot)
        dialog.query_one("#case-suite", Input).value = str(target)
        await save(pilot)
        dialog = await open_dialog(pilot)  # the same prompt again: the next id
        assert dialog.query_one("#case-suite", Input).value == str(target)
        dialog.query_one("#case-threshold", Input).focus()
        dialog.query_one("#case-threshold", Input).value = "0.95"
        await save(pilot, "enter")
        cases = load_suite(target).cases
        assert [case.id for case in cases] == [
            "what-is-the-capital-of-france",
            "what-is-the-capital-of-france-2",
        ]
        assert all(case.expected == ANSWER for case in cases)
        assert [case.assertions[0].threshold for case in cases] == [0.8, 0.95]


def test_an_edited_answer_gets_its_control_characters_back_when_unambiguous() -> None:
    shown = "Paris is the capital.\n\\x1b[31mred[/red] [bold]x"  # ANSWER, as shown
    assert expected_text(shown, ANSWER) == ANSWER
    assert expected_text(shown + "!", ANSWER) == ANSWER + "!"
    assert expected_text("\\x41 \\x1b", "plain answer") == "\\x41 \\x1b"  # typed text
    literal = "print('\\x1b')\x07"  # the answer holds the code as text too: kept as shown
    assert expected_text("print('\\x1b')\\x07 !", literal) == "print('\\x1b')\\x07 !"


async def test_without_an_answer_a_notification_says_so(
    settings: Settings, fake: FakeOpenAI
) -> None:
    async with console(settings) as pilot:
        await type_prompt(pilot, "not sent")
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, SaveCaseDialog)
        assert any("no answer to save yet" in note for note in notes(pilot))


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("#case-suite", "{tmp}/notes.txt", "saved to a .jsonl, .yaml or .yml suite"),
        ("#case-suite", "{tmp}/a-file/s.jsonl", "a-file/s.jsonl: cannot be read (Not a directory)"),
        ("#case-threshold", "2", "threshold: 2 must be above 0 and at most 1"),
        ("#case-id", "taken", "case id 'taken' is already used"),
    ],
)
async def test_a_case_that_cannot_be_saved_is_notified_and_the_dialog_stays(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path, field: str, value: str, says: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    taken = settings.home / "suites" / "prompts.jsonl"
    taken.parent.mkdir(parents=True)
    taken.write_text('{"id": "taken", "input": "x"}\n')
    async with console(settings) as pilot:
        await answered(pilot, fake)
        dialog = await open_dialog(pilot)
        dialog.query_one(field, Input).value = value.format(tmp=tmp_path)
        await save(pilot)
        assert pilot.app.screen is dialog
        assert any(says in note for note in notes(pilot)), notes(pilot)
        assert taken.read_text() == '{"id": "taken", "input": "x"}\n'
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, SaveCaseDialog)


async def test_the_binding_is_in_the_footer_and_the_command_palette(
    settings: Settings, fake: FakeOpenAI
) -> None:
    async with console(settings) as pilot:
        assert any("Save as eval case" in line for line in screen_lines(pilot))
        commands = list(pilot.app.get_system_commands(pilot.app.screen))
        assert any(command.title == "Save as eval case" for command in commands)
