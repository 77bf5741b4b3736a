"""The Regressions pane's results and diff views show, above a case's answers, what it asked
(the messages as sent, system prompt included, and its vars) and what it expects (assertions
with their value, threshold and weight, the expected answer, tags, critical), from the suite
version its run ran: suites run for real through the runner against the local fake OpenAI
server, then browsed in the console under Pilot. A suite version is read once, after the
view's first frame, and what it holds is shown inert.
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from core.client import ChatClient
from core.evals.loader import load_suite
from core.evals.runner import RunOptions, run_suite
from core.settings import Settings
from storage.store import Store
from tests.functional.test_regressions_pane import (
    SIZE,
    build_app,
    choose_suite,
    highlight_run,
    open_pane,
    settle,
    text_of,
)
from tests.support.fake_openai import FakeOpenAI
from tui.app import TunedeckApp
from tui.screens.regressions import RegressionsScreen
from tui.widgets.regressions.diff import RunDiffScreen
from tui.widgets.regressions.results import RunResultsScreen

TEMPLATE = r"""
name: capitals-asked
system: "You are terse. Answer in {{lang}}."
prompt: "What is the capital of {{country}}?"
cases:
  - id: fr
    description: France, the easy one
    vars: {country: France, lang: English}
    critical: true
    tags: [geo, smoke]
    threshold: 0.8
    assert:
      - {type: equals, value: Paris}
      - {type: regex, value: '^\w+$', weight: 0.5}
      - {type: llm-rubric, value: "Names the capital city of France", threshold: 0.7}
  - id: jp
    vars: {country: Japan, lang: Japanese}
    assert: [{type: icontains, value: tokyo}]
"""
MESSAGES = r"""
name: chat-asked
cases:
  - id: hostile
    messages:
      - {role: system, content: "Be careful."}
      - {role: user, content: "[bold red]boom[/] \x1b[2J\x1b]0;pwned\x07 is it?"}
    expected: "[i]fine[/i]"
    assert: [{type: similar, threshold: 0.6}]
"""
PROMPTFOO = """
description: translate-asked
prompts:
  - "Translate to {{language}}: {{input}}"
providers: [openai:chat:gpt-4o-mini]
defaultTest:
  assert:
    - {type: not-icontains, value: as an AI}
tests:
  - description: French greeting
    vars: {language: French, input: Hello}
    assert:
      - {type: icontains, value: bonjour}
"""

pytestmark = pytest.mark.usefixtures("local_time_utc")


async def run_file(settings: Settings, path: Path, text: str, model: str = "gpt-4o-mini") -> int:
    """Write the suite file `path` and run it for real against the fake server (in a thread
    of its own with its own event loop, as the command line does); its run id."""
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return await asyncio.to_thread(_run, settings, path, model)


def _run(settings: Settings, path: Path, model: str) -> int:
    store = Store.open(settings.database_path)
    client = ChatClient(settings, store)
    try:
        run = run_suite(client, load_suite(path), RunOptions(model=model))
        return asyncio.run(run).run.id  # type: ignore[arg-type]
    finally:
        client.close()
        store.close()


async def open_results(pilot: Pilot[None], suite: str, run_id: int) -> RunResultsScreen:
    screen = await open_pane(pilot)
    await choose_suite(pilot, screen, suite)
    await highlight_run(pilot, screen, run_id)
    await pilot.press("enter")
    await settle(pilot)
    view = pilot.app.screen
    assert isinstance(view, RunResultsScreen)
    return view


def detail_of(view: Screen[None], name: str = "result-text") -> tuple[str, str]:
    """The detail's text as given (unwrapped), and as drawn on screen."""
    static = view.query_one(f"#{name}", Static)
    return str(static.content), text_of(static)


async def test_the_results_show_a_template_case_s_messages_as_sent_and_its_assertions(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    run_id = await run_file(settings, tmp_path / "capitals.yaml", TEMPLATE)
    app = build_app(seeded=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_results(pilot, "capitals-asked", run_id)
        given, _ = detail_of(view)
        expected_lines = [
            "fr",
            "France, the easy one",
            "input · prompt p1",
            "system: You are terse. Answer in English.",  # the system prompt, rendered
            "user: What is the capital of France?",
            'vars: country = "France" · lang = "English"',
            "expects · passes at a weighted score of 0.8",
            '  equals "Paris"',
            r"  regex ^\w+$ · weight 0.5",
            "  llm-rubric: Names the capital city of France · threshold 0.7",
            "tags: geo, smoke · critical",
        ]
        assert given.splitlines()[: len(expected_lines)] == expected_lines
        assert given.index("expects") < given.index("echo: What is the capital of France?")

        await pilot.press("down")  # the next case: its own input
        await settle(pilot)
        given, _ = detail_of(view)
        assert "user: What is the capital of Japan?" in given
        assert "system: You are terse. Answer in Japanese." in given
        assert 'icontains "tokyo"' in given and "France" not in given
        assert "tags:" not in given  # none, and not critical
    app.engine.close()


async def test_a_messages_case_shows_its_messages_inert_and_its_expected_answer(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    run_id = await run_file(settings, tmp_path / "chat.yaml", MESSAGES)
    app = build_app(seeded=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_results(pilot, "chat-asked", run_id)
        given, drawn = detail_of(view)
        assert "input\nsystem: Be careful.\nuser: [bold red]boom[/]" in given
        assert 'similar "[i]fine[/i]" · threshold 0.6' in given
        assert "expected answer: [i]fine[/i]" in given
        # Shown as text: the markup's brackets and the escape sequences' codes, nothing run.
        assert r"user: [bold red]boom[/] \x1b[2J\x1b]0;pwned\x07 is it?" in drawn
        assert "\x1b" not in drawn and "\x07" not in drawn
    app.engine.close()


async def test_a_promptfoo_case_shows_its_vars_and_its_rendered_prompt(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    (tmp_path / "translate").mkdir()
    run_id = await run_file(settings, tmp_path / "translate" / "promptfooconfig.yaml", PROMPTFOO)
    app = build_app(seeded=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_results(pilot, "translate-asked", run_id)
        given, _ = detail_of(view)
        assert "French greeting\ninput · prompt " in given
        assert "user: Translate to French: Hello\n" in given
        assert 'vars: language = "French" · input = "Hello"' in given
        assert 'not-icontains "as an AI"\n  icontains "bonjour"' in given  # defaultTest's first
    app.engine.close()


async def mark_and_diff(pilot: Pilot[None], a: int, b: int) -> RunDiffScreen:
    screen = pilot.app.screen
    if not isinstance(screen, RegressionsScreen):
        await pilot.press("escape")
        await settle(pilot)
        screen = pilot.app.screen
    assert isinstance(screen, RegressionsScreen)
    for run_id in (a, b):
        await highlight_run(pilot, screen, run_id)
        await pilot.press("space")
    await pilot.press("d")
    await settle(pilot)
    view = pilot.app.screen
    assert isinstance(view, RunDiffScreen)
    return view


async def test_a_diff_shows_each_side_s_input_and_says_when_the_suite_changed_it(
    settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "capitals.yaml"
    first = await run_file(settings, path, TEMPLATE)
    same = await run_file(settings, path, TEMPLATE, model="gpt-4.1")
    reworded = TEMPLATE.replace("What is the capital", "Name the capital city")
    changed = await run_file(settings, path, reworded, model="gpt-4.1")
    app, pushed = build_app(seeded=False), list[bool]()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        watch_inputs_read_at_push(app, pushed)
        await choose_suite(pilot, pane, "capitals-asked")
        view = await mark_and_diff(pilot, first, same)  # one suite version
        a, b = detail_of(view, "side-a-text")[0], detail_of(view, "side-b-text")[0]
        assert a.startswith(f"A #{first} gpt-4o-mini · fr\n")
        assert b.startswith(f"B #{same} gpt-4.1 · fr\n")
        assert (
            a.partition("\n")[2].partition("\n\n")[0] == b.partition("\n")[2].partition("\n\n")[0]
        )  # the same input and assertions on both sides, no note
        assert "input · prompt p1\n" in a and "user: What is the capital of France?" in b

        view = await mark_and_diff(pilot, first, changed)  # across two versions
        a, b = detail_of(view, "side-a-text")[0], detail_of(view, "side-b-text")[0]
        version_a = view.diff.a.suite_version[:7] if view.diff else ""
        version_b = view.diff.b.suite_version[:7] if view.diff else ""
        assert f"input · prompt p1 · suite version {version_a}\n" in a
        assert f"input · prompt p1 · suite version {version_b}, changed since A's\n" in b
        assert "user: What is the capital of France?" in a
        assert "user: Name the capital city of France?" in b
        await pilot.press("down")
        await settle(pilot)
        assert "user: Name the capital city of Japan?" in detail_of(view, "side-b-text")[0]
    app.engine.close()
    # The suite versions are read after the view's first frame, never before it is pushed.
    assert pushed[0] is False


def watch_inputs_read_at_push(app: TunedeckApp, into: list[bool]) -> None:
    """Note, as each diff view is pushed, whether it holds any suite version read (a view
    built on the key is pushed before its comparison is read: none)."""

    def noted(screen: Screen[object]) -> None:
        if isinstance(screen, RunDiffScreen):
            diff = screen.diff
            into.append(diff is not None and screen.case_inputs.get(diff.a.suite_id) is not None)

    app.screen_change_signal.subscribe(app, noted, immediate=True)
