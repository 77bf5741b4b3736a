"""Token counts of examples, with core.tokens: per-message chat overheads, tools, and trained
tokens, from one tokenization of a batch.

An example's messages are counted as a few conversations with `count_messages_batch`: the
messages not trained on, and the trained ones (and each output of a preference example).
A conversation costs its reply priming plus the sum of its messages, so the tokens of the
whole example, of each of its sequences and of its trained messages follow from those counts
with one tokenization of each string.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from core.data.formats import Example
from core.tokens import count_messages, count_messages_batch

_TOOLS_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class BatchTokens:
    """Token counts of a batch of examples, aligned with it."""

    tokens: list[int]
    trained: list[int]
    exact: bool


class TokenCounter:
    """Counts the tokens of examples for one model."""

    def __init__(self, model: str) -> None:
        self.model = model
        priming, empty = count_messages_batch([[], [{}]], model)
        self._priming = priming.tokens  # the reply priming of a conversation
        # A bare text is counted as the conversation [{"content": text}]: minus this framing.
        self._plain_base = empty.tokens
        self._tools: dict[str, int] = {}

    def count(self, examples: Sequence[Example], *, parallel: bool = True) -> BatchTokens:
        """Tokens and trained tokens of each example (tokenized in one batch, on two threads
        unless `parallel` is False)."""
        conversations = [part for e in examples for part in e.parts]
        counts = count_messages_batch(conversations, self.model, parallel=parallel)
        exact = all(count.exact for count in counts)
        tokens, trained, start = [], [], 0
        for example in examples:
            end = start + len(example.parts)
            base = self._plain_base if example.plain else self._priming
            parts = [count.tokens - base for count in counts[start:end]]
            start = end
            fixed = 0 if example.plain else self._priming
            if example.tools:
                fixed += self._tool_tokens(example.tools)
            tokens.append(fixed + max(sum(parts[i] for i in seq) for seq in example.sequences))
            trained.append(sum(parts[i] for i in example.trained))
        return BatchTokens(tokens, trained, exact)

    def _tool_tokens(self, tools: list[object]) -> int:
        key = json.dumps(tools, sort_keys=True, ensure_ascii=False)
        found = self._tools.get(key)
        if found is None:
            if len(self._tools) >= _TOOLS_CACHE_SIZE:
                self._tools.clear()
            found = count_messages([], self.model, tools).tokens - self._priming  # type: ignore[arg-type]
            self._tools[key] = found
        return found
