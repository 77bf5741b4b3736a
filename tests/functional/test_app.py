"""The console shell: status line, panes, command palette, quitting."""

from __future__ import annotations

from pathlib import Path

from core.settings import load_settings
from tui.app import TunedeckApp
from tui.engine import Engine
from tui.widgets.status import StatusLine


async def test_the_status_line_shows_the_demo_profile_and_today(home: Path) -> None:
    app = TunedeckApp(Engine(load_settings()), warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        line = str(app.screen.query_one(StatusLine).render())
        assert "demo · tunedeck-demo · OFFLINE DEMO · today: $0, cache hits -" in line
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_the_status_line_follows_calls(home: Path) -> None:
    engine = Engine(load_settings())
    app = TunedeckApp(engine, warm_up=False)
    async with app.run_test(size=(120, 36)) as pilot:
        from core.params import build_request

        await pilot.pause()
        await app.workers.wait_for_complete()
        request = build_request("tunedeck-demo", [{"role": "user", "content": "x"}], temperature=0)
        engine.client.complete(request)
        engine.client.complete(request)
        app.refresh_status()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "today: $0, cache hits 50%" in str(app.screen.query_one(StatusLine).render())


async def test_the_command_palette_lists_panes_and_pane_actions(home: Path) -> None:
    app = TunedeckApp(Engine(load_settings()), warm_up=False)
    async with app.run_test(size=(120, 36)):
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Prompt pane", "Cache pane", "Usage pane", "Help"} <= titles
        assert {"Send", "Stop", "Re-run (no cache)", "Copy answer"} <= titles


def test_workers_opening_the_engine_at_once_migrate_the_database_once(home: Path) -> None:
    import threading

    engine = Engine(load_settings())
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_store() -> None:
        barrier.wait()
        try:
            engine.store.calls.count()
        except BaseException as error:  # pragma: no cover - the assertion shows it
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


async def test_no_work_competes_with_the_first_frame(home: Path) -> None:
    from textual import events
    from textual.worker import Worker

    app = TunedeckApp(Engine(load_settings()), warm_up=False)
    workers_at_first_frame: list[list[str]] = []
    started: set[str] = set()

    def on_message(message: object) -> None:
        if isinstance(message, events.Ready):
            workers_at_first_frame.append([worker.name for worker in app.workers])
        elif isinstance(message, Worker.StateChanged):
            started.add(message.worker.name)

    async with app.run_test(size=(120, 36), message_hook=on_message) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert workers_at_first_frame == [[]]  # SQL, tokenizer and SDK wait for the first frame
    assert {"refresh_status", "load_history", "load_models", "estimate"} <= started


async def test_the_launcher_pauses_the_collector_and_the_app_resumes_it(home: Path) -> None:
    import gc

    gc.disable()  # as `tunedeck` does before its imports
    try:
        app = TunedeckApp(Engine(load_settings()), warm_up=False, collector_paused=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0  # the start's objects are out of its way
    finally:
        gc.unfreeze()
        gc.enable()


async def test_keys_a_text_field_takes_count_as_typing(home: Path) -> None:
    """Work that waits for a pause in typing (streamed repaints, views built ahead) sees the
    keys the prompt editor consumes, which never reach the app's own key handler."""
    from tui.widgets.prompt.editor import PromptEditor

    app = TunedeckApp(Engine(load_settings()), warm_up=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        editor = app.screen.query_one(PromptEditor)
        editor.focus()
        await pilot.pause()
        before = app.last_key_at
        await pilot.press("h", "i")
        assert editor.text.endswith("hi")  # the editor took them
        assert app.last_key_at > before
