"""Scripts (`javascript`, `python`, transforms) get the prompt as sent, as promptfoo gives it
(`context.prompt`), on a first run and on a re-run answered from the cache."""

from __future__ import annotations

from pathlib import Path

from core.evals.loader import load_suite
from core.settings import Settings
from storage.evals import EvalStore
from storage.store import Store
from tests.support.fake_openai import FakeOpenAI
from tests.unit.evals.test_runner import run, write_suite

SUITE = """
name: prompts
prompt: "Say {{word}}"
params: {temperature: 0}
cases:
  - id: one
    vars: {word: bonjour}
    assert:
      - type: javascript
        value: context.prompt === 'Say bonjour'
      - type: python
        value: "context['prompt'] == 'Say bonjour'"
      - type: equals
        value: Say bonjour
        transform: context.prompt
  - id: chat
    messages:
      - {role: system, content: Be brief}
      - {role: user, content: Hi}
    assert:
      - type: javascript
        value: JSON.parse(context.prompt)[0].content === 'Be brief'
"""


def test_scripts_get_the_prompt_as_sent_first_and_from_the_cache(
    settings: Settings, store: Store, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = load_suite(write_suite(tmp_path, SUITE))
    first = run(settings, store, suite)
    again = run(settings, store, suite)
    assert len(fake.chat_requests) == 2  # the second run from the cache (its cache pass)
    for outcome in (first, again):
        results = EvalStore(store).results(outcome.run.id)
        assert sorted((r.case_id, r.status) for r in results) == [("chat", "pass"), ("one", "pass")]
    assert all(r.cache_hit for r in EvalStore(store).results(again.run.id))
