"""Token counts of examples agree with core.tokens, for every format."""

from __future__ import annotations

import json
from pathlib import Path

from core.data import CheckOptions, check_file
from core.tokens import count_messages, count_text
from tests.unit.data.corpus import Corpus

MODEL = "gpt-4o-mini"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city."},
                    "unit": {"type": "string", "enum": ["c", "f"]},
                },
            },
        },
    }
]


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def tokens_of(path: Path, **options: object) -> tuple[list[int], list[int]]:
    report = check_file(path, CheckOptions(model=MODEL, **options))  # type: ignore[arg-type]
    return report.index.tokens.tolist(), report.index.trained.tolist()


def test_chat_examples_count_as_count_messages_and_trained_tokens_skip_weight_0(
    tmp_path: Path,
) -> None:
    corpus = Corpus()
    weighted = [
        {"role": "system", "content": corpus.text(8)},
        {"role": "user", "content": corpus.text(20), "name": "alice"},
        {"role": "assistant", "content": corpus.text(30), "weight": 0},
        {"role": "user", "content": corpus.text(5)},
        {"role": "assistant", "content": corpus.text(40)},
    ]
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
    }
    with_tools = [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "4 degrees"},
        {"role": "assistant", "content": "It is 4 degrees in Oslo."},
    ]
    path = write(
        tmp_path / "chat.jsonl", [{"messages": weighted}, {"messages": with_tools, "tools": TOOLS}]
    )
    tokens, trained = tokens_of(path)
    assert tokens == [
        count_messages(weighted, MODEL).tokens,
        count_messages(with_tools, MODEL, TOOLS).tokens,
    ]
    priming = count_messages([], MODEL).tokens
    assert trained == [
        count_messages([weighted[4]], MODEL).tokens - priming,
        count_messages([with_tools[1], with_tools[3]], MODEL).tokens - priming,
    ]


def test_completion_examples_count_their_bare_texts(tmp_path: Path) -> None:
    rows = [
        {"prompt": "Translate: chat", "completion": " cat"},
        {"prompt": "x" * 50, "completion": "y"},
    ]
    tokens, trained = tokens_of(write(tmp_path / "c.jsonl", rows))
    assert tokens == [
        count_text(r["prompt"], MODEL).tokens + count_text(r["completion"], MODEL).tokens
        for r in rows
    ]
    assert trained == [count_text(r["completion"], MODEL).tokens for r in rows]


def test_preference_examples_count_their_longer_sequence(tmp_path: Path) -> None:
    corpus = Corpus()
    prompt = [{"role": "user", "content": corpus.text(10)}]
    preferred = [{"role": "assistant", "content": corpus.text(5)}]
    rejected = [{"role": "assistant", "content": corpus.text(50)}]
    row = {
        "input": {"messages": prompt},
        "preferred_output": preferred,
        "non_preferred_output": rejected,
    }
    tokens, trained = tokens_of(write(tmp_path / "p.jsonl", [row]))
    priming = count_messages([], MODEL).tokens
    assert tokens == [count_messages(prompt + rejected, MODEL).tokens]
    assert trained == [
        count_messages(preferred, MODEL).tokens
        + count_messages(rejected, MODEL).tokens
        - 2 * priming
    ]


def test_the_context_limit_follows_the_model_or_max_tokens(tmp_path: Path) -> None:
    corpus = Corpus()
    path = write(tmp_path / "c.jsonl", [corpus.chat(answer=corpus.text(300))])
    (tokens,), _ = tokens_of(path)
    assert check_file(path, CheckOptions(model=MODEL)).summary.context == 65_536
    over = check_file(path, CheckOptions(model=MODEL, max_tokens=tokens - 1))
    assert [(p.kind, p.line) for p in over.problems.details()] == [("too_many_tokens", 1)]
    assert over.summary.over_context == 1
    assert check_file(path, CheckOptions(model=MODEL, max_tokens=tokens)).clean
    unknown = check_file(path, CheckOptions(model="my-local-llama"))
    assert unknown.summary.context is None and not unknown.summary.tokens_exact
