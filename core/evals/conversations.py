"""promptfoo's multi-turn conversations: cases whose prompt reads `_conversation`.

As promptfoo runs them (`src/evaluator.ts`: `createRunEvalState`, `attachConversationVar`,
`updateConversationHistory`): the cases of a prompt that reads `_conversation` are the turns
of conversations, one per `metadata.conversationId` (the cases without one form one
conversation of their own), in test order. A turn's `_conversation` holds the turns before
it, each `{prompt, input, output}`: `prompt` the rendered prompt (a chat prompt's messages as
`{role, content}` mappings, however many, or a text prompt's text), `input` the last message's
text, `output` the model's answer as given (before any transform). So a turn is sent only once
the turn before it has its answer; other cases and other conversations still run
concurrently. Unlike promptfoo, each `--repeat` is its own conversation (promptfoo shares the
history across repeats), and a turn after one that got no answer is not sent with a hole in
its history (promptfoo sends an empty output): it errors, saying which turn had no answer.

The earlier answers come from the run itself: the results it records (`note`), those a
resumed run recorded before (`load_finished`), and, for the cache pass and the estimate
before anything is recorded, the cache (`history`'s `peek`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from core.evals.conversation_var import earlier_turn, turn_problem
from core.evals.suite import Case, Suite
from core.evals.template import TemplateError
from core.params import Message
from storage.eval_history import EvalHistory

ThreadKey = tuple[int, str | None]
"""A conversation: its prompt's index and its `metadata.conversationId` (None: none given)."""
Pair = tuple[Case, int]
Peek = Callable[[Case, list[Message]], str | None]
"""The cached answer of a turn's request (its case and messages), None when not cached."""
NO_ANSWER = None


class ConversationGap(Exception):
    """A turn cannot be sent: an earlier turn of its conversation got no answer (or has
    none yet), or its prompt does not render with the earlier turns."""


@dataclass
class Conversations:
    """The conversations of a suite and the answers of their turns so far, per repeat."""

    suite: Suite
    threads: dict[ThreadKey, list[Case]] = field(default_factory=dict)
    place: dict[str, tuple[ThreadKey, int]] = field(default_factory=dict)
    """Each turn's conversation and position in it, by case id."""
    answers: dict[tuple[ThreadKey, int], dict[int, str | None]] = field(default_factory=dict)
    """The answers known, by conversation and repeat, then position (None: no answer)."""
    built: dict[tuple[ThreadKey, int], list[tuple[str | None, dict[str, Any]]]] = field(
        default_factory=dict
    )
    """The `_conversation` items made so far, by conversation and repeat, with the answer each
    was made with: a turn's history extends them instead of rendering every earlier turn again
    (each of those with its own history: cubic in a conversation's length)."""

    @classmethod
    def of(cls, suite: Suite) -> Conversations:
        """The conversations of `suite` (none when no prompt reads `_conversation`)."""
        found = cls(suite)
        if not any(template.reads_conversation for template in suite.prompts):
            return found
        for case in suite.cases:
            if case.vars is None or case.messages is not None:
                continue
            index = case.prompt or 0
            if not suite.prompts[index].reads_conversation:
                continue
            key = (index, conversation_id(case.metadata))
            thread = found.threads.setdefault(key, [])
            found.place[case.id] = (key, len(thread))
            thread.append(case)
        return found

    def __bool__(self) -> bool:
        return bool(self.threads)

    def follows(self, case: Case) -> bool:
        """Whether `case` is a turn after the first of its conversation."""
        place = self.place.get(case.id)
        return place is not None and place[1] > 0

    def note(self, case: Case, repeat: int, output: str | None) -> None:
        """Remember a turn's answer (None: it got none)."""
        place = self.place.get(case.id)
        if place is not None:
            self.answers.setdefault((place[0], repeat), {})[place[1]] = output

    def load(self, results: Iterable[tuple[str, int, str | None]]) -> None:
        """Remember the answers of recorded results: (case id, repeat, output text)."""
        for case_id, repeat, output in results:
            place = self.place.get(case_id)
            if place is not None:
                self.answers.setdefault((place[0], repeat), {})[place[1]] = output

    def history(self, case: Case, repeat: int, peek: Peek | None = None) -> list[dict[str, Any]]:
        """The `_conversation` of `case` in `repeat`: its earlier turns, rendered in order
        with their answers (known, or read with `peek`).

        Raises:
            ConversationGap: an earlier turn has no answer (yet), or does not render.
        """
        key, position = self.place[case.id]
        known = self.answers.get((key, repeat), {})
        built = self.built.setdefault((key, repeat), [])
        for index, (used, _) in enumerate(built[:position]):
            if index in known and known[index] != used:  # answered anew since: made again
                del built[index:]
                break
        turns = [item for _, item in built[:position]]
        for index, earlier in enumerate(self.threads[key][:position], start=1):
            if index <= len(turns):
                continue
            messages = self.messages(earlier, turns)
            if index - 1 in known:
                output = known[index - 1]
            else:
                output = peek(earlier, messages) if peek is not None else None
                if output is None:
                    raise ConversationGap(f"turn {index} {self._named(key)} has no answer yet")
            if output is NO_ANSWER:
                raise ConversationGap(
                    f"turn {index} {self._named(key)} got no answer, so turn {position + 1}"
                    " was not sent (it would have had a hole in its history)"
                )
            item = _turn(self.suite, earlier, messages, output)
            turns.append(item)
            if len(built) == index - 1:
                built.append((output, item))
        return turns

    def chains(self, pairs: list[Pair]) -> tuple[list[Pair], dict[tuple[str, int], Pair]]:
        """`pairs` to send as chains: the pairs no other pair must precede (in order), and
        for a turn, the next turn of its conversation among `pairs`, sent after it."""
        heads: list[Pair] = []
        after: dict[tuple[str, int], Pair] = {}
        last: dict[tuple[ThreadKey, int], Pair] = {}
        for case, repeat in pairs:
            place = self.place.get(case.id)
            if place is None:
                heads.append((case, repeat))
                continue
            previous = last.get((place[0], repeat))
            if previous is None:
                heads.append((case, repeat))
            else:
                after[(previous[0].id, previous[1])] = (case, repeat)
            last[(place[0], repeat)] = (case, repeat)
        return heads, after

    def earlier_turns(self, case: Case) -> list[Case]:
        """The turns before `case` in its conversation (none for another case)."""
        place = self.place.get(case.id)
        return [] if place is None else self.threads[place[0]][: place[1]]

    def messages(self, case: Case, turns: list[dict[str, Any]]) -> list[Message]:
        """The messages of turn `case` rendered with its earlier `turns`.

        Raises:
            ConversationGap: the prompt does not render with them (promptfoo's items are
                `{prompt, input, output}`, `input` a text: a template written for another
                shape fails here, before anything is sent).
        """
        try:
            return self.suite.messages_for(case, turns)
        except TemplateError as error:
            template = self.suite.prompts[case.prompt or 0]
            texts = tuple(part.content for part in template.messages)
            raise ConversationGap(turn_problem(error, texts, len(turns))) from None

    def _named(self, key: ThreadKey) -> str:
        return "of this conversation" if key[1] is None else f"of conversation {key[1]!r}"


def conversation_id(metadata: dict[str, Any]) -> str | None:
    """A test's `metadata.conversationId` as promptfoo keys it: a text; none when it is
    falsy in JavaScript (absent, null, `""`, `0`, `false`), as promptfoo then uses no id."""
    value = metadata.get("conversationId")
    if value is None or value is False or value == "" or _is_zero(value):
        return None
    return value if isinstance(value, str) else str(value)


def _is_zero(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == 0


def _turn(suite: Suite, case: Case, messages: list[Message], output: str) -> dict[str, Any]:
    """One earlier turn as `_conversation` holds it (`earlier_turn`)."""
    body = [m for m in messages if not _is_added_system(suite, case, m, messages)]
    return earlier_turn(body, output, chat=suite.prompts[case.prompt or 0].chat)


def _is_added_system(suite: Suite, case: Case, message: Message, messages: list[Message]) -> bool:
    """Whether `message` is the suite's own system prompt put before the case's prompt
    (a native suite's `system:`): not part of the prompt promptfoo would have rendered."""
    template = suite.prompts[case.prompt or 0]
    return (
        suite.system is not None
        and message is messages[0]
        and len(messages) > len(template.messages)
        and template.chat_file is None
    )


def load_finished(conversations: Conversations, evals: EvalHistory, run_id: int) -> None:
    """Remember the answers of the turns a run recorded before it was resumed: the turns
    after them are sent with them (read only when the suite has conversations)."""
    if not conversations:
        return
    after: tuple[str, int] | None = None
    while page := evals.results(run_id, limit=1000, after=after):
        conversations.load((item.case_id, item.repeat_index, item.output_text) for item in page)
        after = (page[-1].case_id, page[-1].repeat_index)


def earlier_turns_tokens(
    suite: Suite, cases: Iterable[Case], model: str, answer_tokens: int
) -> int:
    """Input tokens the earlier turns add to the prompts of `cases` that are turns of a
    conversation, for an estimate made before any of them is answered: each earlier turn
    counted as its own prompt (rendered without its history) and an answer of
    `answer_tokens` (a typical length: `core.evals.estimate.EARLIER_ANSWER_TOKENS`). A
    template that puts the earlier turns in the prompt makes it about this long; one that
    keeps only some of them, shorter."""
    conversations = Conversations.of(suite)
    if not conversations:
        return 0
    earlier = [turn for case in cases for turn in conversations.earlier_turns(case)]
    if not earlier:
        return 0
    from core.tokens import count_messages_batch

    prompts = [[m.as_api() for m in suite.messages_for(turn)] for turn in earlier]
    counted = sum(count.tokens for count in count_messages_batch(prompts, model))
    return counted + answer_tokens * len(earlier)
