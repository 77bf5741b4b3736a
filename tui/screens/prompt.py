"""The Prompt pane: try a prompt against any profile and model, streamed, with its figures."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label, Select, TextArea
from textual.worker import get_current_worker

from core.errors import TunedeckError
from tui.screens.base import PaneScreen
from tui.text import money
from tui.widgets.inert_text_area import InertTextArea
from tui.widgets.prompt.answer import AnswerView
from tui.widgets.prompt.budget_note import budget_note, in_console_words
from tui.widgets.prompt.editor import PromptEditor
from tui.widgets.prompt.field import FieldInput
from tui.widgets.prompt.params import ParamsForm

if TYPE_CHECKING:
    from pathlib import Path

    from core.evals.saving import SavedCase
    from core.params import ChatRequest
    from core.results import CacheMode

ESTIMATE_DELAY = 0.15  # seconds of quiet typing before the prompt is counted again


class PromptScreen(PaneScreen):
    """Keyboard-driven prompt testing: send, stream, stop, compare, copy, re-run."""

    SUB_TITLE = "Prompt"
    AUTO_FOCUS = "#prompt"  # focus the editor at once: each focus change rebuilds the footer
    _started = False
    sent_request: ChatRequest | None = None
    """The last request sent (to the first model): what "save as eval case" saves."""
    suite_path: Path | None = None
    """The suite file the last case was saved to in this session."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send", priority=True),
        Binding("ctrl+enter", "send", "Send", show=False, priority=True),
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+r", "rerun", "Re-run (no cache)", priority=True),
        Binding("ctrl+o", "send_over_budget", "Send over budget", priority=True),
        Binding("ctrl+y", "copy_answer", "Copy answer", priority=True),
        # ctrl+t: free in Input and TextArea (ctrl+e is their end-of-line).
        Binding("ctrl+t", "save_case", "Save as eval case", priority=True),
        Binding("ctrl+l", "focus_prompt", "Prompt", show=False),
    ]

    def compose_body(self) -> Iterable[Widget]:
        app = self.deck
        with Horizontal(id="prompt-pane"):
            with Vertical(id="settings"):
                yield Label("profile", classes="muted")
                # The picker comes after the first frame (`_build_pickers`): a tenth of the pane.
                yield Label(app.profile_name, id="profile-pending", markup=False)
                yield Label("model", classes="muted")
                yield FieldInput(app.model_name, id="model")
                yield Label("compare with", classes="muted")
                yield FieldInput("", placeholder="second model", id="compare-model")
                yield ParamsForm(id="params")
                yield Label("system prompt", classes="muted")
                yield InertTextArea(id="system", soft_wrap=True, tab_behavior="focus")
            with Vertical(id="work"):
                yield PromptEditor(id="prompt")
                yield Label("", id="estimate", classes="figures", markup=False)
                with Horizontal(id="answers"):
                    yield AnswerView(id="answer-a")
                    yield AnswerView(id="answer-b")

    def on_mount(self) -> None:
        self.query_one(PromptEditor).border_title = "prompt · ctrl+s sends · up recalls"
        self.query_one("#answer-a", AnswerView).border_title = "answer"
        self.query_one("#answer-b").display = False
        self.deck.after_start(self._after_first_frame)

    def _after_first_frame(self) -> None:
        self._started = True
        self._build_pickers()
        self.load_history()
        self.load_models(self.deck.profile_name)
        self.estimate()

    def _build_pickers(self) -> None:
        """The profile picker and the parameter fields, left out of the first frame."""
        app = self.deck
        pending = self.query_one("#profile-pending")
        profiles = sorted(app.engine.settings.all_profiles())
        select = Select(
            [(name, name) for name in profiles],
            value=app.profile_name,
            allow_blank=False,
            compact=True,
            id="profile",
        )
        self.query_one("#settings").mount(select, after=pending)
        pending.remove()
        self.query_one(ParamsForm).build(cursor_blink=app.cursor_blink)

    def focus_default(self) -> None:
        self.query_one(PromptEditor).focus()

    def action_focus_prompt(self) -> None:
        self.focus_default()

    # -- the request --------------------------------------------------------------------------

    def build_requests(self) -> list[ChatRequest]:
        """The request for the model, and for the comparison model when one is set."""
        from core.params import ChatRequest, Message  # validation is not needed to start

        form = self.query_one(ParamsForm)
        if form.params is None:
            raise TunedeckError(f"fix the parameters first: {form.error}")
        prompt = self.query_one(PromptEditor).text
        if not prompt.strip():
            raise TunedeckError("the prompt is empty")
        messages = []
        system = self.query_one("#system", TextArea).text
        if system.strip():
            messages.append(Message(role="system", content=system))
        messages.append(Message(role="user", content=prompt))
        models = [self.query_one("#model", Input).value.strip()]
        compare = self.query_one("#compare-model", Input).value.strip()
        if compare:
            models.append(compare)
        if not models[0]:
            raise TunedeckError("choose a model")
        return [ChatRequest(model=m, messages=messages, params=form.params) for m in models]

    def action_send_over_budget(self) -> None:
        """Send even if a budget is used up (this send only; its cost still counts)."""
        self.action_send(over_budget=True)

    def action_send(self, cache: CacheMode = "use", over_budget: bool = False) -> None:
        """Send the prompt (to both models when comparing)."""
        if self.workers_busy():
            self.notify("an answer is still streaming: escape stops it", severity="warning")
            return
        try:
            requests = self.build_requests()
        except TunedeckError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.query_one(PromptEditor).remember(requests[0].messages[-1].content or "")
        self.sent_request = requests[0]
        views = [self.query_one("#answer-a", AnswerView), self.query_one("#answer-b", AnswerView)]
        views[1].display = len(requests) > 1
        for request, view in zip(requests, views, strict=False):
            view.start(request.model)
            sending = self._send(request, view, cache, over_budget)
            self.run_worker(sending, group="send", exit_on_error=False)

    def action_rerun(self) -> None:
        """Send again, asking the model instead of the cache (the cache is refreshed)."""
        self.action_send(cache="refresh")

    def action_stop(self) -> None:
        """Stop streaming; the partial answers stay, marked."""
        self.workers.cancel_group(self, "send")

    def action_copy_answer(self) -> None:
        """Copy the (first) answer to the clipboard."""
        text = self.query_one("#answer-a", AnswerView).text
        if not text:
            self.notify("no answer to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {len(text)} characters")

    def action_save_case(self) -> None:
        """Save the prompt sent and its answer (as the expected one, editable) to a suite."""
        from tui.dialogs.save_case import SaveCaseDialog  # not needed to start

        view = self.query_one("#answer-a", AnswerView)
        if view.state == "streaming":
            self.notify("the answer is still streaming (escape stops it)", severity="warning")
            return
        if self.sent_request is None or not view.text.strip():
            self.notify("no answer to save yet: send the prompt first", severity="warning")
            return
        path = self.suite_path or self.deck.engine.settings.home / "suites" / "prompts.jsonl"
        dialog = SaveCaseDialog(
            self.sent_request, view.text, path, cursor_blink=self.deck.cursor_blink
        )
        self.app.push_screen(dialog, self._case_saved)

    def _case_saved(self, saved: SavedCase | None) -> None:
        if saved is None:
            return
        from tui.widgets.data.paths import display_path

        self.suite_path = saved.path
        where = display_path(saved.path)
        self.notify(f"saved case {saved.case_id} to {where} ({saved.cases} cases)", markup=False)

    def workers_busy(self) -> bool:
        """Whether an answer is still streaming."""
        return any(w.group == "send" and w.is_running for w in self.workers)

    async def _send(
        self, request: ChatRequest, view: AnswerView, cache: CacheMode, over_budget: bool = False
    ) -> None:
        from core.results import CallOptions

        client = self.deck.engine.client
        options = CallOptions(
            stream=True, cache=cache, on_text=view.append, over_budget=over_budget
        )
        try:
            result = await client.acomplete(request, self.deck.profile_name, options)
        except asyncio.CancelledError:
            view.stopped()
            raise
        except TunedeckError as error:
            view.fail(error)
            said = in_console_words(str(error))
            self.notify(f"{request.model}: {said}", severity="error", markup=False)
        else:
            view.finish(result)
        finally:
            self.deck.refresh_status()

    # -- live figures and pickers -------------------------------------------------------------

    @on(TextArea.Changed)
    @on(Input.Changed, "#model")
    @on(ParamsForm.Changed)
    def _typed(self) -> None:
        if self._started:  # the fields' first values arrive at start: estimated after it
            self.estimate()

    @on(Input.Changed, "#model")
    def _model_typed(self, event: Input.Changed) -> None:
        self.deck.model_name = event.value.strip()

    @on(Input.Submitted, "#model")
    def _model_chosen(self) -> None:
        self.focus_default()

    @on(Select.Changed, "#profile")
    def _profile_chosen(self, event: Select.Changed) -> None:
        name = str(event.value)
        if name == self.deck.profile_name:
            return
        _, profile = self.deck.engine.settings.resolve_profile(name)
        self.deck.profile_name = name
        self.deck.model_name = profile.default_model
        self.query_one("#model", Input).value = profile.default_model
        self.load_models(name)

    @work(thread=True, exclusive=True, group="estimate", exit_on_error=False)
    def estimate(self) -> None:
        """Count the prompt's tokens and price the call before it is sent (thread worker)."""
        import time

        from core.prices import price_of
        from core.tokens import count_messages
        from storage.records import Usage

        time.sleep(ESTIMATE_DELAY)  # debounce: an exclusive newer worker cancels this one
        if get_current_worker().is_cancelled:
            return
        try:
            requests = self.app.call_from_thread(self.build_requests)
        except TunedeckError as error:
            self.app.call_from_thread(self._show_estimate, str(error))
            return
        request = requests[0]
        count = count_messages(request.api_messages(), request.model, request.params.tools)
        _, profile = self.deck.engine.settings.resolve_profile(self.deck.profile_name)
        max_out = request.params.max_tokens or 0
        cost_in = price_of(request.model, Usage(prompt_tokens=count.tokens), profile)
        cost_max = price_of(
            request.model, Usage(prompt_tokens=count.tokens, completion_tokens=max_out), profile
        )
        approx = "" if count.exact else "≈"
        line = f"{approx}{count.tokens} prompt tokens · {money(cost_in)} in"
        if max_out and cost_max is not None:
            line += f" · at most {money(cost_max)} with {max_out} tokens out"
        line += budget_note(self.deck.engine, self.deck.profile_name, request)
        self.app.call_from_thread(self._show_estimate, line)

    def _show_estimate(self, line: str) -> None:
        self.query_one("#estimate", Label).update(line)

    @work(thread=True, exclusive=True, group="models", exit_on_error=False)
    def load_models(self, profile: str) -> None:
        """Offer the endpoint's models (`/models`) and recently used ones as completions."""
        engine = self.deck.engine
        names = set(engine.store.calls.recent_models(limit=50))
        # Many servers have no /models: the recent models still help.
        with contextlib.suppress(Exception):
            names.update(engine.client.list_models(profile))
        suggester = SuggestFromList(sorted(names), case_sensitive=False)
        self.app.call_from_thread(self._set_suggester, suggester)

    def _set_suggester(self, suggester: SuggestFromList) -> None:
        self.query_one("#model", Input).suggester = suggester
        self.query_one("#compare-model", Input).suggester = suggester

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load_history(self) -> None:
        """Earlier prompts, also from earlier runs of the console (from the log)."""
        prompts = self.deck.engine.store.calls.recent_prompts(limit=200)
        self.app.call_from_thread(self._set_history, prompts)

    def _set_history(self, prompts: list[str]) -> None:
        editor = self.query_one(PromptEditor)
        editor.prompt_history = [*reversed(prompts), *editor.prompt_history]
