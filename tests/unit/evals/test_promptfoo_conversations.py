"""promptfoo chat prompt files that are templates as a whole (tags between messages), and
multi-turn conversations (`_conversation`): how they load, render, group and order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.evals.conversations import ConversationGap, Conversations, earlier_turns_tokens
from core.evals.estimate import EARLIER_ANSWER_TOKENS, estimate_suite
from core.evals.runplan import describe_estimate
from core.evals.suite import Case, Suite
from core.params import RequestParams
from core.settings import Profile
from core.tokens import count_messages_batch
from tests.unit.evals.test_promptfoo_compat import loaded, refused

# promptfoo's examples/multiple-turn-conversation prompt.json, with `completion.input` (the
# last message's text, as promptfoo's evaluator.ts gives it) for the earlier question.
CHAT = """[
  {"role": "system", "content": "{{ system_message }}"},
  {% for completion in _conversation %}
    {"role": "user", "content": "{{ completion.input }}"},
    {"role": "assistant", "content": "{{ completion.output }}"},
  {% endfor %}
  {"role": "user", "content": "{{ question }}"}
]"""

CONFIG = """prompts: [file://prompt.json]
defaultTest: {vars: {system_message: Be brief}}
tests:
  - vars: {question: 'Who founded Facebook?'}
    metadata: {conversationId: fb}
  - vars: {question: 'Where does he live?'}
    metadata: {conversationId: fb}
  - vars: {question: Name a river}
  - vars: {question: 'Which state is that in?'}
    metadata: {conversationId: fb}
  - vars: {question: 'How long is it?'}
"""


def conversation_suite(root: Path) -> Suite:
    return loaded(root, CONFIG, {"prompt.json": CHAT})


def texts(suite: Suite, index: int, history: list[dict[str, str]] | None = None) -> list[str]:
    return [f"{m.role}: {m.content}" for m in suite.messages_for(suite.cases[index], history)]


def test_a_chat_file_with_tags_is_rendered_whole_then_read(tmp_path: Path) -> None:
    suite = conversation_suite(tmp_path)
    assert texts(suite, 0) == ["system: Be brief", "user: Who founded Facebook?"]
    history = [{"prompt": "x", "input": "Who founded Facebook?", "output": "Mark.\nZuckerberg"}]
    assert texts(suite, 1, history) == [
        "system: Be brief",
        "user: Who founded Facebook?",
        "assistant: Mark.\nZuckerberg",  # a line break in an answer is read, not refused
        "user: Where does he live?",
    ]


def test_a_chat_file_of_placeholders_renders_message_by_message_as_before(
    tmp_path: Path,
) -> None:
    chat = '[{"role": "system", "content": "{{s}}"}, {"role": "user", "content": "{{q}}"}]'
    config = 'prompts: [file://c.json]\ntests: [{vars: {s: "say \\"hi\\"", q: "a{%b"}}]\n'
    suite = loaded(tmp_path, config, {"c.json": chat})
    assert suite.prompts[0].chat_file is None  # each string rendered: quotes need no escaping
    assert texts(suite, 0) == ['system: say "hi"', "user: a{%b"]


def test_tags_inside_the_strings_of_a_valid_json_chat_are_rendered_in_place(
    tmp_path: Path,
) -> None:
    chat = '[{"role": "user", "content": "{% if q %}Q: {{q}}{% else %}none{% endif %}"}]'
    suite = loaded(
        tmp_path, "prompts: [file://c.json]\ntests: [{vars: {q: x}}]\n", {"c.json": chat}
    )
    assert suite.prompts[0].chat_file is None
    assert texts(suite, 0) == ["user: Q: x"]


def test_a_yaml_chat_file_with_tags_is_rendered_whole(tmp_path: Path) -> None:
    chat = (
        "{% for n in ['a', greeted] %}\n- role: user\n  content: hello {{ n }}\n{% endfor %}\n"
        "- role: user\n  content: bye\n"
    )
    config = "prompts: [file://c.yaml]\ntests: [{vars: {greeted: b}}]\n"
    suite = loaded(tmp_path, config, {"c.yaml": chat})
    assert texts(suite, 0) == ["user: hello a", "user: hello b", "user: bye"]


def test_a_value_that_breaks_the_rendered_json_is_refused_at_load(tmp_path: Path) -> None:
    config = (
        "prompts: [file://prompt.json]\n"
        "tests:\n  - vars: {system_message: s, question: 'a \"b\"'}\n"
    )
    message = refused(tmp_path, config, {"prompt.json": CHAT})
    assert message.startswith("promptfooconfig.yaml:3: case t-"), message
    assert "/prompt.json: rendered, it is not valid JSON (Expecting ',' delimiter" in message
    assert "{{ value | dump }}" in message


def test_a_render_error_of_a_chat_file_is_refused_at_load(tmp_path: Path) -> None:
    config = "prompts: [file://prompt.json]\ntests:\n  - vars: {question: q}\n"
    message = refused(tmp_path, config, {"prompt.json": CHAT})
    assert message.startswith("promptfooconfig.yaml:3: case t-"), message
    assert "/prompt.json: variable 'system_message' is not defined (template line 2)" in message


def test_turns_are_grouped_by_conversation_id_in_test_order(tmp_path: Path) -> None:
    suite = conversation_suite(tmp_path)
    conversations = Conversations.of(suite)
    threads = {
        key: [case.vars["question"] for case in cases]
        for key, cases in conversations.threads.items()
    }  # type: ignore[index]
    assert threads == {
        (0, "fb"): ["Who founded Facebook?", "Where does he live?", "Which state is that in?"],
        (0, None): ["Name a river", "How long is it?"],  # no id: one conversation of its own
    }
    pairs = [(case, repeat) for repeat in range(2) for case in suite.cases]
    heads, after = conversations.chains(pairs)
    assert [(case.vars["question"], repeat) for case, repeat in heads] == [  # type: ignore[index]
        ("Who founded Facebook?", 0),
        ("Name a river", 0),
        ("Who founded Facebook?", 1),  # each repeat is its own conversation
        ("Name a river", 1),
    ]
    follows = after[(suite.cases[1].id, 1)]
    assert (follows[0].id, follows[1]) == (suite.cases[3].id, 1)


def test_a_suite_without_conversations_has_none(tmp_path: Path) -> None:
    suite = loaded(tmp_path, "prompts: ['{{q}}']\ntests: [{vars: {q: a}}, {vars: {q: b}}]\n")
    conversations = Conversations.of(suite)
    assert not conversations
    heads, after = conversations.chains([(case, 0) for case in suite.cases])
    assert len(heads) == 2 and after == {}


def test_a_turn_history_holds_the_earlier_prompts_inputs_and_answers(tmp_path: Path) -> None:
    suite = conversation_suite(tmp_path)
    conversations = Conversations.of(suite)
    first, second, third = suite.cases[0], suite.cases[1], suite.cases[3]
    conversations.note(first, 0, "Mark Zuckerberg")
    conversations.note(second, 0, "Palo Alto")
    history = conversations.history(third, 0)
    assert [(turn["input"], turn["output"]) for turn in history] == [
        ("Who founded Facebook?", "Mark Zuckerberg"),
        ("Where does he live?", "Palo Alto"),
    ]
    assert history[1]["prompt"] == [  # the chat as rendered for that turn
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "Who founded Facebook?"},
        {"role": "assistant", "content": "Mark Zuckerberg"},
        {"role": "user", "content": "Where does he live?"},
    ]


def test_a_turn_after_one_without_an_answer_is_not_sent(tmp_path: Path) -> None:
    suite = conversation_suite(tmp_path)
    conversations = Conversations.of(suite)
    conversations.note(suite.cases[0], 0, None)  # the first turn got no answer
    try:
        conversations.history(suite.cases[1], 0)
    except ConversationGap as gap:
        assert str(gap).startswith("turn 1 of conversation 'fb' got no answer, so turn 2")
    else:
        raise AssertionError("a turn after one with no answer was given a history")
    try:
        conversations.history(suite.cases[1], 1)  # repeat 1: nothing known, nothing cached
    except ConversationGap as gap:
        assert "has no answer yet" in str(gap)
    else:
        raise AssertionError("a turn whose earlier turn is unanswered was given a history")


def test_earlier_answers_are_read_through_peek_when_not_recorded(tmp_path: Path) -> None:
    suite = conversation_suite(tmp_path)
    conversations = Conversations.of(suite)
    asked: list[str] = []

    def peek(case: object, messages: list) -> str | None:  # type: ignore[type-arg]
        asked.append(messages[-1].content)
        return f"answer to {messages[-1].content}"

    history = conversations.history(suite.cases[3], 0, peek)
    assert asked == ["Who founded Facebook?", "Where does he live?"]
    assert history[1]["output"] == "answer to Where does he live?"


def test_the_estimate_counts_the_earlier_turns_of_later_ones(tmp_path: Path) -> None:
    suite = conversation_suite(tmp_path)
    profile = Profile(base_url="http://127.0.0.1:1/v1", local=True)
    first, third = suite.cases[0], suite.cases[3]
    assert earlier_turns_tokens(suite, [first], "gpt-4o-mini", 100) == 0
    extra = earlier_turns_tokens(suite, [third], "gpt-4o-mini", 100)
    assert extra > 200  # two earlier prompts and two assumed answers of 100 tokens
    alone = estimate_suite(suite, "gpt-4o-mini", profile, cases=[first])
    later = estimate_suite(suite, "gpt-4o-mini", profile, cases=[third])
    assert later.input_tokens > alone.input_tokens + 2 * EARLIER_ANSWER_TOKENS
    assert alone.exact and not later.exact  # earlier answers are assumed: "(estimated)"
    assert "input tokens (estimated)" in describe_estimate(later)


def test_the_estimate_counts_earlier_answers_at_a_typical_length_not_the_ceiling(
    tmp_path: Path,
) -> None:
    suite = conversation_suite(tmp_path)
    profile = Profile(base_url="http://127.0.0.1:1/v1", local=True)
    third = suite.cases[3]
    model = "gpt-4o-mini"
    own = sum(count.tokens for count in count_messages_batch([as_api(suite, third)], model))
    ceiling = RequestParams(max_tokens=4000)
    later = estimate_suite(suite, model, profile, cases=[third], params=ceiling)
    carried = later.input_tokens - own  # two earlier questions and their answers
    assert 2 * EARLIER_ANSWER_TOKENS < carried < 2 * (EARLIER_ANSWER_TOKENS + 100)
    assert later.output_tokens == 4000  # its own answer is still bounded by the ceiling
    short = estimate_suite(suite, model, profile, cases=[third], params=RequestParams(max_tokens=5))
    assert short.input_tokens - own < 2 * (5 + 100)  # answers cut at 5 tokens carry 5


def as_api(suite: Suite, case: Case) -> list[dict[str, Any]]:
    return [message.as_api() for message in suite.messages_for(case)]


# promptfoo's examples/multiple-turn-conversation as it was published: it reads the earlier
# turn's `input` as a list of messages, which it is not (the last message's text).
LIST_READING_CHAT = CHAT.replace(
    "{{ completion.input }}", "{{ completion.input[completion.input.length - 1].content }}"
)


def test_a_loop_that_cannot_read_an_earlier_turn_is_refused_at_load(tmp_path: Path) -> None:
    message = refused(tmp_path, CONFIG, {"prompt.json": LIST_READING_CHAT})
    assert message.startswith("promptfooconfig.yaml:4: case t-"), message  # the first test
    assert (
        "prompt: `completion.input[completion.input.length - 1].content` reads an earlier"
        " turn's input as a list of messages, but in promptfoo `input` is the last message's"
        " text (a string): write {{ completion.input }}" in message
    ), message
    assert "/prompt.json: " in message and "(template line 4)" in message, message


def test_another_loop_that_cannot_render_is_refused_with_a_turn_s_shape(tmp_path: Path) -> None:
    # a text prompt's earlier turn holds its text as `prompt`: `prompt[0]` is a character
    prompt = "{% for c in _conversation %}{{ c.prompt[0].content.upper() }}{% endfor %}{{q}}"
    config = f"prompts: ['{prompt}']\ntests: [{{vars: {{q: a}}}}]\n"
    message = refused(tmp_path, config)
    assert message.startswith("promptfooconfig.yaml:2: case t-"), message
    assert "does not render with an earlier turn, each {prompt, input, output}" in message
    assert "rendered with 1 earlier turn(s) in _conversation" in message


def test_an_earlier_turn_of_a_one_message_chat_holds_the_messages_as_its_prompt(
    tmp_path: Path,
) -> None:
    # promptfoo: `prompt: renderedJson || renderedPrompt`: a chat prompt's array, however short
    chat = (
        '[{% for c in _conversation %}{"role": "user", "content": "{{ c.input }}"},'
        '{% endfor %}{"role": "user", "content": "{{ q }}"}]'
    )
    config = (
        "prompts: [file://c.json, 'Q: {{q}}{% for c in _conversation %}!{% endfor %}']\n"
        "tests: [{vars: {q: a}}, {vars: {q: b}}]\n"
    )
    suite = loaded(tmp_path, config, {"c.json": chat})
    conversations = Conversations.of(suite)
    chat_first, text_first = (case for case in suite.cases if case.vars == {"q": "a"})
    chat_second, text_second = (case for case in suite.cases if case.vars == {"q": "b"})
    conversations.note(chat_first, 0, "A")
    conversations.note(text_first, 0, "A")
    (chat_turn,) = conversations.history(chat_second, 0)
    assert chat_turn == {"prompt": [{"role": "user", "content": "a"}], "input": "a", "output": "A"}
    (text_turn,) = conversations.history(text_second, 0)
    assert text_turn == {"prompt": "Q: a", "input": "Q: a", "output": "A"}  # a text prompt: text


def test_a_falsy_conversation_id_means_no_id_as_in_promptfoo(tmp_path: Path) -> None:
    config = (
        "prompts: ['{% for c in _conversation %}{{c.input}} {% endfor %}{{q}}']\n"
        "tests:\n"
        "  - {vars: {q: a}, metadata: {conversationId: 0}}\n"
        "  - {vars: {q: b}, metadata: {conversationId: ''}}\n"
        "  - {vars: {q: c}, metadata: {conversationId: false}}\n"
        "  - {vars: {q: d}}\n"
        "  - {vars: {q: e}, metadata: {conversationId: '0'}}\n"  # a text: an id
        "  - {vars: {q: f}, metadata: {conversationId: 1}}\n"
    )
    suite = loaded(tmp_path, config)
    threads = {
        key: [case.vars["q"] for case in cases]  # type: ignore[index]
        for key, cases in Conversations.of(suite).threads.items()
    }
    assert threads == {(0, None): ["a", "b", "c", "d"], (0, "0"): ["e"], (0, "1"): ["f"]}


def long_conversation(root: Path, turns: int) -> Suite:
    tests = "".join(
        f"  - vars: {{question: 'question {n}'}}\n    metadata: {{conversationId: x}}\n"
        for n in range(turns)
    )
    head = "prompts: [file://prompt.json]\ndefaultTest: {vars: {system_message: hi}}\n"
    config = f"{head}tests:\n{tests}"
    return loaded(root, config, {"prompt.json": CHAT})


def test_each_earlier_turn_is_rendered_once_however_long_the_conversation(
    tmp_path: Path, monkeypatch: Any
) -> None:
    suite = long_conversation(tmp_path, 30)
    conversations = Conversations.of(suite)
    rendered: list[str] = []
    messages_for = Suite.messages_for

    def counted(self: Suite, case: Case, history: Any = None) -> Any:
        rendered.append(case.id)
        return messages_for(self, case, history)

    monkeypatch.setattr(Suite, "messages_for", counted)
    for case in suite.cases:  # each turn's request, as the run builds them, then its answer
        conversations.messages(case, conversations.history(case, 0))
        conversations.note(case, 0, f"answer to {case.vars}")
    assert len(rendered) <= 2 * len(suite.cases)  # was 465: every earlier turn, every time
    last = conversations.history(suite.cases[-1], 0)
    assert [turn["input"] for turn in last] == [f"question {n}" for n in range(29)]


def test_an_earlier_answer_peeked_once_is_not_read_again(tmp_path: Path) -> None:
    suite = long_conversation(tmp_path, 6)
    conversations = Conversations.of(suite)
    asked: list[str] = []

    def peek(case: object, messages: list) -> str | None:  # type: ignore[type-arg]
        asked.append(messages[-1].content)
        return f"cached {messages[-1].content}"

    for case in suite.cases:
        conversations.history(case, 0, peek)
    assert asked == [f"question {n}" for n in range(5)]  # each earlier turn once


def test_a_turn_answered_anew_is_rendered_again_for_the_turns_after_it(tmp_path: Path) -> None:
    suite = long_conversation(tmp_path, 3)
    conversations = Conversations.of(suite)
    conversations.note(suite.cases[0], 0, "first")
    conversations.note(suite.cases[1], 0, "second")
    assert [t["output"] for t in conversations.history(suite.cases[2], 0)] == ["first", "second"]
    conversations.note(suite.cases[0], 0, "first, again")  # e.g. resumed with --retry-errors
    again = conversations.history(suite.cases[2], 0)
    assert [t["output"] for t in again] == ["first, again", "second"]
    assert again[1]["prompt"][2] == {"role": "assistant", "content": "first, again"}
