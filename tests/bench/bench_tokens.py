"""Throughput of core.tokens against raw tiktoken, on deterministic synthetic conversations.

Run: python tests/bench/bench_tokens.py [--conversations N] [--runs R]. Not collected by pytest.

The baseline is `enc.encode_ordinary_batch(all_texts, num_threads=2)` on exactly the strings that
count_messages_batch counts (roles, names, contents), measured in the same run. Every rate is
tokens of those strings per second (framing overheads excluded), so a ratio is a time ratio.
Candidates run in interleaved rounds and each keeps its best time: the cores of this machine are
shared, and interleaving spreads a noisy neighbour over every candidate.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from core.tokens import count_messages, count_messages_batch, encoding_for_model

MODEL = "gpt-4o-mini"
BASELINE = "raw encode_ordinary_batch (baseline)"
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "zen", "qua", "str", "ph", "ion", "er"]
PUNCTUATION = [".", ",", "?", "!", ":", ";"]


def make_words(rng: random.Random, count: int) -> list[str]:
    """A vocabulary of pseudo-words, some capitalised, and some numbers."""
    words = ["".join(rng.choices(SYLLABLES, k=rng.randint(1, 3))) for _ in range(count)]
    words += [str(rng.randint(0, 99999)) for _ in range(count // 20)]
    return [w.capitalize() if rng.random() < 0.1 else w for w in words]


def make_text(rng: random.Random, words: list[str], length: int) -> str:
    """A sentence-like text of `length` words with punctuation and the odd newline."""
    parts = []
    for _ in range(length):
        word = rng.choice(words)
        parts.append(word + rng.choice(PUNCTUATION) if rng.random() < 0.15 else word)
        if rng.random() < 0.02:
            parts.append("\n")
    return " ".join(parts)


def make_conversations(count: int, seed: int = 20240718) -> list[list[dict[str, Any]]]:
    """Mixed short and long chats: optional system prompt, 1-6 exchanges, some named users."""
    rng = random.Random(seed)
    words = make_words(rng, 5000)
    conversations = []
    for _ in range(count):
        messages: list[dict[str, Any]] = []
        if rng.random() < 0.7:
            system = make_text(rng, words, rng.randint(5, 60))
            messages.append({"role": "system", "content": system})
        for _ in range(rng.randint(1, 6)):
            user_words = int(rng.expovariate(1 / 25)) + 1
            user: dict[str, Any] = {"role": "user", "content": make_text(rng, words, user_words)}
            if rng.random() < 0.1:
                user["name"] = rng.choice(["alice", "bob", "example_user"])
            messages.append(user)
            long_reply = rng.random() < 0.05
            reply_words = rng.randint(150, 400) if long_reply else rng.randint(5, 80)
            messages.append({"role": "assistant", "content": make_text(rng, words, reply_words)})
        conversations.append(messages)
    return conversations


def best_times(runs: int, candidates: dict[str, Callable[[], object]]) -> dict[str, float]:
    """The best wall time of each candidate, in seconds, over `runs` interleaved rounds."""
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(runs):
        for label, fn in candidates.items():
            start = time.perf_counter()
            fn()
            best[label] = min(best[label], time.perf_counter() - start)
    return best


def main() -> None:
    """Build the data, time each way of counting, print tokens/s and the ratios to baseline."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    conversations = make_conversations(args.conversations)
    all_texts = [v for conv in conversations for m in conv for v in m.values() if type(v) is str]
    enc, _ = encoding_for_model(MODEL)  # loads the vocabulary outside the timings
    text_tokens = sum(map(len, enc.encode_ordinary_batch(all_texts, num_threads=2)))
    framed = count_messages_batch(conversations, MODEL)
    assert framed == [count_messages(conv, MODEL) for conv in conversations]
    messages = sum(map(len, conversations))
    print(f"{len(conversations)} conversations, {messages} messages, {len(all_texts)} strings")
    print(f"{text_tokens} text tokens; {sum(c.tokens for c in framed)} with chat framing")

    candidates: dict[str, Callable[[], object]] = {
        BASELINE: lambda: enc.encode_ordinary_batch(all_texts, num_threads=2),
        "count_messages_batch": lambda: count_messages_batch(conversations, MODEL),
        "count_messages loop": lambda: [count_messages(conv, MODEL) for conv in conversations],
        "raw encode_ordinary loop (reference)": lambda: [enc.encode_ordinary(t) for t in all_texts],
    }
    timings = best_times(args.runs, candidates)
    for label, seconds in timings.items():
        rate, ratio = text_tokens / seconds, timings[BASELINE] / seconds
        print(f"{label:38} {seconds:7.3f} s {rate / 1e6:6.2f} M tokens/s  x{ratio:.2f} baseline")


if __name__ == "__main__":
    main()
