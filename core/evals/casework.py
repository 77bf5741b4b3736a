"""One case of a run: send it through the chat client, score the answer, make its result.

The answer goes through `ChatClient.acomplete`, so it is cached and logged like any other
call and the SDK's retries apply. A failed request is not an exception here: it becomes an
`error` result carrying the logged call's id and the error line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from core.call import reads_cache
from core.clock import iso
from core.errors import RequestFailed
from core.evals.cachehits import CaseMessages, RunCache
from core.evals.conversations import ConversationGap, Conversations
from core.evals.judge import is_verdict
from core.evals.scorers import Output
from core.evals.scoring import AssertionScore, CaseScore, score_case
from core.evals.suite import Case, Suite
from core.evals.transforms import PYTHON as PYTHON_TRANSFORM
from core.params import ChatRequest, Message, RequestParams
from core.redact import redact
from core.results import CacheMode, CallOptions, ChatResult
from storage.calls import HitCall
from storage.eval_records import CaseResult

if TYPE_CHECKING:
    from core.client import ChatClient

JUDGE_PARAMS = RequestParams(temperature=0)
"""The judge grades at temperature 0: the same answer gets the same grade (and its cache)."""


@dataclass
class Spending:
    """What a run's calls cost so far: answers and judge calls, cache hits at 0."""

    known_usd: Decimal = Decimal(0)
    unpriced_calls: int = 0
    """Calls whose model has no price: the total is then a lower bound."""

    def add(self, cost: Decimal | None) -> None:
        """Count one call's cost (None: not priced)."""
        if cost is None:
            self.unpriced_calls += 1
        else:
            self.known_usd += cost

    @property
    def total_usd(self) -> Decimal | None:
        """The cost so far, None when a call could not be priced."""
        return None if self.unpriced_calls else self.known_usd


UNREACHABLE = frozenset({"APIConnectionError", "APITimeoutError"})
"""Failures that say the endpoint is not there (no connection, no answer in time), unlike an
HTTP error, which it answered."""


@dataclass
class Reachability:
    """The answers' requests in a row that found no endpoint (`UNREACHABLE`), after the
    SDK's retries, and the last such failure; any answer, or an HTTP error, resets it."""

    failures_in_a_row: int = 0
    last_failure: str = ""

    def note(self, failure: RequestFailed | None) -> None:
        """Count a request's end: `failure` None when it was answered."""
        if failure is not None and failure.error_type in UNREACHABLE:
            self.failures_in_a_row += 1
            self.last_failure = str(failure)
        else:
            self.failures_in_a_row = 0


@dataclass
class CaseWork:
    """Sends and scores the cases of one run, and makes their results.

    Attributes:
        client: the chat client (cache, log, retries).
        suite: the suite the cases belong to.
        model: the model answering.
        profile: the endpoint profile's name.
        params: the request parameters of every case.
        cache: `use` or `off` (`--no-cache`); the first repeat of a case goes through the
            cache even when the request is not deterministic (a re-run of an unchanged suite
            then costs nothing); further repeats are always sent, since a repeat answered from
            the cache would measure nothing.
        judge_model: the model grading `llm-rubric` assertions.
    """

    client: ChatClient
    suite: Suite
    model: str
    profile: str
    params: RequestParams
    cache: CacheMode
    judge_model: str
    spending: Spending = field(default_factory=Spending)
    reach: Reachability = field(default_factory=Reachability)
    _case_messages: dict[str, CaseMessages] = field(default_factory=dict, init=False, repr=False)

    async def run(self, case: Case, repeat: int) -> CaseResult:
        """Answer and score one repeat of `case`; request failures become `error` results,
        and so does a conversation's turn that cannot be sent (`core.evals.conversations`)."""
        try:
            request = self.request(case, repeat)
        except ConversationGap as gap:
            scored = await score_case(case, Output("", error=str(gap)))
            return self._result(case, repeat, scored, error=str(gap))
        try:
            answer = await self.client.acomplete(request, self.profile, self.call_options(repeat))
        except RequestFailed as failure:
            self.reach.note(failure)
            scored = await score_case(case, Output("", error=str(failure)))
            return self._result(
                case, repeat, scored, error=str(failure), call_id=failure.call_id or None
            )
        self.reach.note(None)
        return await self.scored(case, repeat, answer)

    def request(self, case: Case, repeat: int = 0) -> ChatRequest:
        """The request that answers `case` (in `repeat`, for a conversation's turn).

        Raises:
            ConversationGap: a turn whose earlier turns are not all answered.
        """
        return ChatRequest(
            model=self.model, messages=self._messages(case, repeat), params=self.params
        )

    def api_messages(self, case: Case, repeat: int = 0) -> list[dict[str, Any]]:
        """The messages of `request(case)` as the API, the cache key and the log take them."""
        return [message.as_api() for message in self._messages(case, repeat)]

    def case_messages(self, case: Case) -> CaseMessages:
        """What `run_cache` looks `case` up by: its id and `api_messages(case)` (made the
        first time only: the estimate and the cache pass both ask). A conversation's turn
        whose earlier answers are not known yet (not recorded, not in the cache) gets an id
        no case has and its messages without them: what it is keyed by is not known."""
        known = self._case_messages.get(case.id)
        if known is None:
            try:
                known = (case.id, self.api_messages(case))
            except ConversationGap:
                unsettled = self.suite.messages_for(case)
                return (f"{case.id}\x00unsettled", [m.as_api() for m in unsettled])
            self._case_messages[case.id] = known
        return known

    @cached_property
    def conversations(self) -> Conversations:
        """The suite's conversations and their answers so far (`core.evals.conversations`)."""
        return Conversations.of(self.suite)

    def _messages(self, case: Case, repeat: int) -> list[Message]:
        conversations = self.conversations
        if not conversations or case.id not in conversations.place:
            return self.suite.messages_for(case)
        peek = self._peek if repeat == 0 and self._first_repeat_reads_cache else None
        return conversations.messages(case, conversations.history(case, repeat, peek))

    def _peek(self, case: Case, messages: list[Message]) -> str | None:
        """An earlier turn's answer read from the cache (the first repeat's, which reads it)."""
        found = self.run_cache.look_up([(case.id, [m.as_api() for m in messages])])
        return found.hits.calls[0].response_text if found.hits.calls else None

    @cached_property
    def run_cache(self) -> RunCache:
        """The cache as the run's cache pass reads it (see `answered_through_cache`)."""
        return RunCache(self.client, self.profile, self.model, self.params)

    def call_options(self, repeat: int) -> CallOptions:
        """How a repeat is asked: through the cache for the first one (see `cache`)."""
        return CallOptions(cache=self.cache if repeat == 0 else "off", cache_nondeterministic=True)

    def answered_through_cache(self, case: Case, repeat: int) -> bool:
        """Whether this repeat's answer is read from (and put in) the cache, and scoring it
        calls no judge: what the cache alone can answer again (a conversation's later turn
        only once its earlier answers are known: they are part of its request)."""
        if not self.answer_reads_cache(case, repeat) or needs_judge(case):
            return False
        return not self.conversations.follows(case) or self._settled(case, repeat)

    def _settled(self, case: Case, repeat: int) -> bool:
        try:
            self._messages(case, repeat)
        except ConversationGap:
            return False
        return True

    @cached_property
    def _first_repeat_reads_cache(self) -> bool:
        return reads_cache(self.client.settings, self.call_options(0), self.params)

    @cached_property
    def _later_repeats_read_cache(self) -> bool:
        return reads_cache(self.client.settings, self.call_options(1), self.params)

    async def scored(
        self, case: Case, repeat: int, answer: ChatResult, finished_at: str | None = None
    ) -> CaseResult:
        """The result of one repeat of `case` answered with `answer` (its judge called if
        it has an `llm-rubric` assertion), finished now or at `finished_at`; the answer's
        cost is added to the spending."""
        self.spending.add(answer.cost_usd)
        grading = CaseJudge(self)
        output = replace(_output(answer), prompt=self.prompt_for_scripts(case, repeat))
        scored = await score_case(case, output, grading)
        return self._result(
            case,
            repeat,
            scored,
            finished_at,
            score=scored.score,
            output_text=answer.text,
            error=self._masked(_judge_error(scored)),
            latency_ms=answer.latency_ms,
            cost_usd=grading.case_cost(answer.cost_usd),
            judge_cost_usd=grading.judge_cost(),
            prompt_tokens=answer.usage.prompt_tokens,
            completion_tokens=answer.usage.completion_tokens,
            cache_hit=answer.cache_hit,
            call_id=answer.call_id,
        )

    async def scored_hit(
        self, case: Case, repeat: int, hit: HitCall, latency_ms: float, at: str
    ) -> CaseResult:
        """`scored` for an answer the cache pass read (`RunCache.look_up`), made from the
        hit's own values: the result `scored` makes of that answer as `acomplete` gives it
        (the scorers see what it cost when it was asked; it costs nothing now, so nothing is
        added to the spending), its `call_id` 0 until the hit is logged. The cache pass takes
        no case with an `llm-rubric` assertion (`answered_through_cache`): no judge is asked,
        and the hit costs nothing."""
        output = Output(
            hit.response_text,
            latency_ms=latency_ms,
            cost_usd=hit.cost_saved_usd,
            prompt=self.prompt_for_scripts(case, repeat),
        )
        scored = await score_case(case, output)
        return self._result(
            case,
            repeat,
            scored,
            at,
            score=scored.score,
            output_text=hit.response_text,
            error=self._masked(_judge_error(scored)),
            latency_ms=latency_ms,
            cost_usd=0.0,
            prompt_tokens=hit.usage.prompt_tokens,
            completion_tokens=hit.usage.completion_tokens,
            cache_hit=True,
            call_id=0,
        )

    def prompt_for_scripts(self, case: Case, repeat: int = 0) -> str | None:
        """The prompt `python` and `javascript` scorers and transforms get as `context.prompt`,
        as promptfoo gives it: one message's text, else the messages as JSON; None (not made)
        for a case without any of them."""
        scripted = (
            item.base_type in _SCRIPTED or item.transform or item.test_transform
            for item in case.assertions
        )
        if not any(scripted):
            return None
        if self.conversations.follows(case):
            messages = self.api_messages(case, repeat)
        else:
            messages = self.case_messages(case)[1]
        if len(messages) == 1 and isinstance(messages[0].get("content"), str):
            return str(messages[0]["content"])
        return json.dumps(messages, ensure_ascii=False)

    def judge_request(self, messages: list[Message]) -> ChatRequest:
        """The request that asks the judge model to grade with `messages`."""
        return ChatRequest(model=self.judge_model, messages=messages, params=JUDGE_PARAMS)

    @cached_property
    def judge_options(self) -> CallOptions:
        """How the judge is asked: through the run's cache, whatever its temperature."""
        return CallOptions(cache=self.cache, cache_nondeterministic=True)

    @cached_property
    def judge_cache(self) -> RunCache | None:
        """The cache as the judge's requests read it, None when they do not read it."""
        if not reads_cache(self.client.settings, self.judge_options, JUDGE_PARAMS):
            return None
        return RunCache(self.client, self.profile, self.judge_model, JUDGE_PARAMS)

    def answer_reads_cache(self, case: Case, repeat: int) -> bool:
        """Whether this repeat's answer is read from (and put in) the cache, its judge
        aside (see `answered_through_cache`)."""
        del case  # every case of a run is asked the same way; only the repeat matters
        return self._first_repeat_reads_cache if repeat == 0 else self._later_repeats_read_cache

    def _result(
        self,
        case: Case,
        repeat: int,
        scored: CaseScore,
        finished_at: str | None = None,
        **answer_figures: Any,
    ) -> CaseResult:
        """A result: the verdict, and the answer's figures the caller gives (a
        conversation's turn's answer is remembered for the turns after it)."""
        self.conversations.note(case, repeat, answer_figures.get("output_text"))
        return CaseResult(
            case_id=case.id,
            repeat_index=repeat,
            status="error" if scored.errored else "pass" if scored.passed else "fail",
            finished_at=finished_at or iso(self.client.clock()),
            critical=case.critical,
            tags=tuple(case.tags),
            scores=[self._stored_score(item) for item in scored.assertions],
            **answer_figures,
        )

    def _stored_score(self, item: AssertionScore) -> dict[str, Any]:
        """An assertion's score as its result stores it. A custom scorer's reason is user
        code's words (an exception's message may quote a key): masked like a failure's; so is
        every reason of a suite with a Python transform (a reason may quote what the transform
        returned, and Python code can read the environment's keys)."""
        stored = item.as_dict()
        if (
            self._python_transforms
            or item.type.endswith(("python", "javascript"))
            or _by_transform(item.reason)
        ):
            stored["reason"] = redact(stored["reason"], self._secrets)
        return stored

    def _masked(self, error: str | None) -> str | None:
        """A case's error, its keys masked when user code (a transform) may have said it."""
        if error is None or not (self._python_transforms or _by_transform(error)):
            return error
        return redact(error, self._secrets)

    @cached_property
    def _python_transforms(self) -> bool:
        """Whether any of the suite's assertions runs a Python transform."""
        return any(
            (transform or "").startswith(PYTHON_TRANSFORM)
            for case in self.suite.cases
            for item in case.assertions
            for transform in (item.test_transform, item.transform)
        )

    @cached_property
    def _secrets(self) -> list[str]:
        return self.client.settings.known_secrets(self.client.environ)


@dataclass
class CaseJudge:
    """The `llm-rubric` judge of one case's grading: asks through `work`'s client and counts
    what its calls cost, so the case's cost includes its grading (a verdict read from the
    cache costs 0, like any hit). A reply that gives no verdict is taken out of the cache
    (its call stays in the log), so the next run asks the judge again instead of erroring
    on the same cached reply for good."""

    work: CaseWork
    spent: Spending = field(default_factory=Spending)
    calls: int = 0
    """Judge calls made (answered by the model or the cache)."""

    async def __call__(self, messages: list[Message]) -> str:
        """The judge model's reply to `messages`."""
        work = self.work
        verdict = await work.client.acomplete(
            work.judge_request(messages), work.profile, work.judge_options
        )
        work.spending.add(verdict.cost_usd)
        self.spent.add(verdict.cost_usd)
        self.calls += 1
        if verdict.cache_key and work.judge_cache is not None and not is_verdict(verdict.text):
            work.client.store.cache.delete(verdict.cache_key)
        return verdict.text

    def case_cost(self, answer_cost: Decimal | None) -> float | None:
        """What the case cost: its answer's `answer_cost` and its judge calls; None when
        one of them has no price."""
        if answer_cost is None or self.spent.total_usd is None:
            return None
        return float(answer_cost + self.spent.total_usd)

    def judge_cost(self) -> float | None:
        """What its judge calls cost (0 for verdicts from the cache); None when the judge was
        not asked, or a call had no price."""
        if not self.calls or self.spent.total_usd is None:
            return None
        return float(self.spent.total_usd)


_SCRIPTED = frozenset({"python", "javascript"})
"""Assertions run as the user's code, which promptfoo hands the prompt (`context.prompt`)."""


def _by_transform(reason: str) -> bool:
    """Whether a reason (or a case error made of reasons) may quote a transform's failure,
    user code's words."""
    return "transform " in reason


def needs_judge(case: Case) -> bool:
    """Whether scoring `case` calls the judge model (an `llm-rubric` assertion)."""
    return any(item.base_type == "llm-rubric" for item in case.assertions)


def _output(answer: ChatResult) -> Output:
    """The answer as scorers see it. A cached answer's cost is what it cost when it was asked
    (a `cost` ceiling judges the answer, not the cache); its latency is the cache's."""
    cost = answer.cost_saved_usd if answer.cache_hit else answer.cost_usd
    return Output(
        answer.text,
        latency_ms=answer.latency_ms,
        cost_usd=None if cost is None else float(cost),
    )


def _judge_error(scored: CaseScore) -> str | None:
    """Why an answered case errored (its judge failed), None when it did not."""
    if not scored.errored:
        return None
    reasons = [f"{item.type}: {item.reason}" for item in scored.assertions if item.error]
    return "; ".join(reasons) or "an assertion could not be judged"
