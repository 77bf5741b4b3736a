"""Budgets on the client's path, through the real SDK against the local fake server: the hard
stop, the override, free calls, alerts in the CLI, `prompt --estimate`, and the overshoot of a
32-way concurrent run."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from core.budgets.estimate import DEFAULT_OUTPUT_TOKENS, preflight
from core.client import ChatClient
from core.clock import iso, utc_now
from core.errors import BudgetExceeded
from core.params import ChatRequest, build_request
from core.prices import price_of
from core.results import CallOptions
from core.settings import Settings, load_settings
from core.tokens import count_messages
from storage.alerts import AlertBook
from storage.budgets import BudgetBook, BudgetRow
from storage.records import CallFilter, Usage
from storage.store import Store
from tests.conftest import TEST_KEY, fake_profile_toml, write_config
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.spend import log_call
from tui.cli import run

REFUSAL = "budget 'daily' reached: $5.00 of $5.00 today; use --over-budget to send this call anyway"


def ask(text: str = "hello there", **params: object) -> ChatRequest:
    return build_request("gpt-4o-mini", [{"role": "user", "content": text}], **params)


def set_budget(store: Store, limit: float, *, scope: str = "all", name: str = "daily") -> None:
    kind, _, value = scope.partition(":")
    stamp = iso(utc_now())
    BudgetBook(store).put(
        BudgetRow(name, kind, value, "day", limit, (50.0, 80.0, 100.0), None, stamp, stamp)
    )


def logged_calls(store: Store) -> int:
    return store.calls.count()


def used_up(store: Store) -> None:
    """A $5 daily budget, all of it spent today by an earlier call of the fake profile."""
    set_budget(store, 5.0)
    log_call(store, utc_now(), 5.0, profile="fake")


@pytest.mark.parametrize("stream", [False, True])
def test_a_used_up_budget_refuses_the_call_before_anything_is_sent_or_logged(
    client: ChatClient, fake: FakeOpenAI, store: Store, stream: bool
) -> None:
    used_up(store)
    with pytest.raises(BudgetExceeded) as refused:
        client.complete(ask(), options=CallOptions(stream=stream))
    assert str(refused.value) == REFUSAL and refused.value.budget == "daily"
    with pytest.raises(BudgetExceeded, match=r"^budget 'daily' reached"):
        asyncio.run(client.acomplete(ask(), options=CallOptions(stream=stream)))
    assert fake.chat_requests == []
    assert logged_calls(store) == 1
    assert BudgetBook(store).outstanding(iso(utc_now())) == 0


def test_over_budget_sends_the_call_counts_it_and_holds_nothing_after(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    used_up(store)
    result = client.complete(ask(), options=CallOptions(over_budget=True))
    assert result.text == "echo: hello there" and len(fake.chat_requests) == 1
    assert logged_calls(store) == 2
    assert BudgetBook(store).outstanding(iso(utc_now())) == 0


def test_a_cache_hit_is_never_stopped(client: ChatClient, fake: FakeOpenAI, store: Store) -> None:
    first = client.complete(ask(temperature=0))
    used_up(store)
    again = client.complete(ask(temperature=0))
    assert again.cache_hit and again.text == first.text
    assert len(fake.chat_requests) == 1


def test_a_local_endpoint_costs_nothing_and_is_never_stopped(
    home: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_API_KEY", TEST_KEY)
    local = f'\n[profiles.vllm]\nbase_url = "{fake.base_url}"\nlocal = true\n'
    write_config(home, fake_profile_toml(fake.base_url) + local)
    settings = load_settings()
    store = Store.open(settings.database_path)
    client = ChatClient(settings, store)
    try:
        used_up(store)
        result = client.complete(ask(), "vllm")
        assert result.cost_usd == 0 and len(fake.chat_requests) == 1
        with pytest.raises(BudgetExceeded):
            client.complete(ask(), "fake")
        assert len(fake.chat_requests) == 1
    finally:
        client.close()
        store.close()


def test_a_failed_call_gives_its_reservation_back(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    set_budget(store, 5.0)
    fake.enqueue(Reply.error(400))
    with pytest.raises(Exception, match="400"):
        client.complete(ask())
    assert BudgetBook(store).outstanding(iso(utc_now())) == 0
    assert logged_calls(store) == 1


def test_alerts_reach_the_result_and_the_listeners_once_per_threshold(
    client: ChatClient, fake: FakeOpenAI, store: Store
) -> None:
    set_budget(store, 0.25)
    heard: list[str] = []
    client.budget.listeners.append(lambda alerts: heard.extend(a.message for a in alerts))
    fake.enqueue(Reply.text("ok", prompt_tokens=1_000_000, completion_tokens=0), times=2)
    first = client.complete(ask())
    assert [a.threshold for a in first.alerts] == [50.0]
    second = client.complete(ask())
    assert [a.threshold for a in second.alerts] == [80.0, 100.0]
    assert heard == [a.message for a in (*first.alerts, *second.alerts)]
    assert len(AlertBook(store).recent()) == 3


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_prints_new_alerts_and_refuses_with_the_override_hint(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI
) -> None:
    assert cli(capsys, "budget", "set", "daily", "--limit", "0.25", "--period", "day")[0] == 0
    fake.enqueue(Reply.text("ok", prompt_tokens=1_000_000, completion_tokens=0), times=3)
    code, _, err = cli(capsys, "prompt", "hi", "--no-stream")
    assert code == 0
    assert "tunedeck: warning: budget 'daily' at 50%: $0.15 of $0.25 today\n" in err
    code, _, err = cli(capsys, "prompt", "hi", "--no-stream")
    warnings = [line for line in err.splitlines() if line.startswith("tunedeck: warning:")]
    assert warnings == [
        "tunedeck: warning: budget 'daily' at 80%: $0.30 of $0.25 today",
        "tunedeck: warning: budget 'daily' at 100%: $0.30 of $0.25 today",
    ]
    code, out, err = cli(capsys, "prompt", "hi", "--no-stream")
    assert code == 1 and out == ""
    assert err == (
        "tunedeck: error: budget 'daily' reached: $0.30 of $0.25 today; "
        "use --over-budget to send this call anyway\n"
    )
    assert len(fake.chat_requests) == 2
    code, out, _ = cli(capsys, "prompt", "hi", "--no-stream", "--over-budget")
    assert code == 0 and out == "ok\n" and len(fake.chat_requests) == 3


def test_prompt_estimate_prints_tokens_cost_and_budgets_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI
) -> None:
    assert cli(capsys, "budget", "set", "daily", "--limit", "0.0001", "--period", "day")[0] == 0
    code, out, _ = cli(capsys, "prompt", "Name three rivers", "--max-tokens", "300", "--estimate")
    messages = [{"role": "user", "content": "Name three rivers"}]
    tokens = count_messages(messages, "gpt-4o-mini").tokens
    profile = settings.profiles["fake"]
    cost = price_of("gpt-4o-mini", Usage(tokens, 300, estimated=True), profile)
    assert code == 0 and cost is not None and cost > Decimal("0.0001")
    assert out.splitlines() == [
        f"fake/gpt-4o-mini: {tokens} input tokens, at most 300 output tokens (max_tokens): "
        f"${float(cost):.4f}".rstrip("0"),
        "budget 'daily' (all): $0.00 of $0.0001 today",
        "would be refused: budget 'daily' would be exceeded: $0.00 of $0.0001 today, and this "
        f"call may cost ${float(cost):.4f}".rstrip("0")
        + "; use --over-budget to send this call anyway",
    ]
    code, out, _ = cli(capsys, "prompt", "Name three rivers", "--estimate", "--json")
    assert code == 0 and fake.chat_requests == []
    assert '"output_tokens": ' + str(DEFAULT_OUTPUT_TOKENS) in out


REAL_OUTPUT = 2 * DEFAULT_OUTPUT_TOKENS  # answers twice as long as the estimate assumes


async def concurrent_run(client: ChatClient, calls: int, workers: int) -> tuple[int, int]:
    """Send `calls` requests, `workers` at a time; returns (sent, refused)."""
    gate = asyncio.Semaphore(workers)
    outcomes: list[bool] = []

    async def one(number: int) -> None:
        async with gate:
            try:
                await client.acomplete(ask(f"case {number}"), options=CallOptions(cache="off"))
                outcomes.append(True)
            except BudgetExceeded:
                outcomes.append(False)

    await asyncio.gather(*(one(n) for n in range(calls)))
    return outcomes.count(True), outcomes.count(False)


@pytest.mark.parametrize("limit", [0.02, 0.05])  # reached by the first wave, or later
def test_a_32_way_concurrent_run_overshoots_by_at_most_the_calls_in_flight(
    client: ChatClient, fake: FakeOpenAI, store: Store, settings: Settings, limit: float
) -> None:
    workers = 32
    set_budget(store, limit)
    request = ask("case 10")
    estimate = preflight(request, settings.profiles["fake"], None)
    real = price_of(
        "gpt-4o-mini", Usage(estimate.prompt_tokens, REAL_OUTPUT), settings.profiles["fake"]
    )
    assert estimate.cost_usd is not None and real is not None
    under_estimate = float(real - estimate.cost_usd)  # what each call in flight may add
    reply = Reply.text(
        "ok", prompt_tokens=estimate.prompt_tokens, completion_tokens=REAL_OUTPUT, delay=0.05
    )
    fake.enqueue(reply, times=200)

    sent, refused = asyncio.run(concurrent_run(client, 200, workers))

    spent = sum(row.outcome.cost_usd or 0 for row in store.calls.find(CallFilter(limit=500)))
    overshoot = spent - limit
    print(
        f"\n32-way run: {sent} sent, {refused} refused, spent ${spent:.6f} of ${limit}, "
        f"overshoot ${overshoot:.6f} (bound ${workers * under_estimate:.6f})"
    )
    assert sent == len(fake.chat_requests) and sent + refused == 200
    assert refused > 0 and sent < limit / float(estimate.cost_usd)  # the guard stopped calls
    assert overshoot <= workers * under_estimate + 1e-9
    assert spent >= limit - float(real)  # and it did not stop much too early
    assert BudgetBook(store).outstanding(iso(utc_now())) == 0


def test_an_evaluation_run_over_a_budget_is_refused_before_it_starts(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    case = "  - {{id: q{0}, input: 'question {0}', assert: [{{type: icontains, value: e}}]}}"
    cases = "\n".join(case.format(i) for i in range(20))
    suite = tmp_path / "suite.yaml"
    suite.write_text(f"name: s\nparams: {{max_tokens: 500}}\ncases:\n{cases}\n", "utf-8")
    assert cli(capsys, "budget", "set", "daily", "--limit", "0.001", "--period", "day")[0] == 0
    code, _, err = cli(capsys, "eval", "run", str(suite), "--model", "gpt-4o-mini")
    assert code == 1 and fake.chat_requests == []
    refusal = "tunedeck: error: evaluation run refused: budget 'daily' would be exceeded: "
    assert err.startswith(refusal + "$0.00 of $0.001 today, and it may cost $"), err
    assert float(err.split("may cost $")[1]) > 0.001  # 20 cases of up to 500 tokens
    assert "--over-budget" not in err
    assert cli(capsys, "eval", "runs", "--json")[1].strip() == "[]"


def test_an_evaluation_run_answered_from_the_cache_passes_a_budget_used_up(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: s\nparams: {temperature: 0}\n"
        "cases:\n  - {id: q, input: 'question', assert: [{type: icontains, value: q}]}\n",
        "utf-8",
    )
    assert cli(capsys, "eval", "run", str(suite), "--model", "gpt-4o-mini")[0] == 0
    assert cli(capsys, "budget", "set", "daily", "--limit", "0.0000001", "--period", "day")[0] == 0
    code, _, err = cli(capsys, "eval", "run", str(suite), "--model", "gpt-4o-mini")
    assert code == 0, err  # the run costs nothing: a cache hit passes any budget
    assert len(fake.chat_requests) == 1


def costly_suite(folder: Path, fake: FakeOpenAI) -> Path:
    """6 cases whose answers are far longer than the estimate guesses: ~$0.03 each."""
    case = "  - {{id: q{0}, input: 'question {0}', assert: [{{type: icontains, value: a}}]}}"
    suite = folder / "suite.yaml"
    cases = "\n".join(case.format(i) for i in range(6))
    suite.write_text(f"name: s\nparams: {{temperature: 0}}\ncases:\n{cases}\n", "utf-8")
    for i in range(6):
        fake.enqueue(Reply.text(f"answer {i}", completion_tokens=50_000))
    return suite


def test_an_evaluation_run_stopped_by_a_budget_says_how_to_go_on(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = costly_suite(tmp_path, fake)
    assert cli(capsys, "budget", "set", "daily", "--limit", "0.05", "--period", "day")[0] == 0

    code, _, err = cli(capsys, "eval", "run", str(suite), "-m", "gpt-4o-mini", "-c", "1")
    sent = len(fake.chat_requests)
    assert code == 1 and 1 <= sent < 6  # the guard holds each call's likely cost before it
    lines = err.strip().splitlines()
    assert lines[-2] == (
        f"tunedeck: run 1 interrupted after {sent} of 6 cases; finish it with"
        " `tunedeck eval resume 1`"
    )
    assert lines[-1].startswith("tunedeck: error: budget 'daily' "), lines[-1]
    hint = "`tunedeck budget set daily --limit USD --period day`"
    assert lines[-1].endswith(
        f"; raise its limit ({hint}) or wait for its next period, then `tunedeck eval resume 1`"
    )
    assert "--over-budget" not in err

    raised = hint.strip("`").replace("USD", "1").split()[1:]  # the hint's command, as given
    assert cli(capsys, *raised)[0] == 0
    assert cli(capsys, "eval", "resume", "1")[0] == 0
    assert len(fake.chat_requests) == 6


def test_a_run_stopped_by_its_ceiling_still_gives_ci_its_json_and_junit(
    capsys: pytest.CaptureFixture[str], settings: Settings, fake: FakeOpenAI, tmp_path: Path
) -> None:
    suite = costly_suite(tmp_path, fake)
    junit = tmp_path / "out.xml"
    code, out, err = cli(
        capsys, "eval", "run", str(suite), "-m", "gpt-4o-mini", "-c", "1",
        "--max-cost", "0.05", "--json", "--junit", str(junit),
    )  # fmt: skip
    assert code == 1 and len(fake.chat_requests) == 2
    report = json.loads(out)
    assert report["stopped"].startswith("--max-cost $0.05 reached: this run spent $0.06")
    summary = report["run"]["summary"]
    assert report["run"]["status"] == "interrupted" and summary["passed"] + summary["failed"] == 2
    assert report["gate_passed"] is False  # a stopped run never reads as a passed gate
    assert "tunedeck: error: --max-cost $0.05 reached" in err
    root = ET.parse(junit).getroot()
    assert {element.get("name") for element in root.iter("testcase")} >= {"q0", "q1"}
    check = root.find("testsuite[2]/testcase/failure")
    assert check is not None and check.get("type") == "incomplete"
    assert check.get("message") == "run 1 is interrupted: 2 of 6 recorded"
