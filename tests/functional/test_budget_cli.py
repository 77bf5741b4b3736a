"""`tunedeck budget`, `tunedeck monitor` and `tunedeck alerts` through the command line's
entry point: output, JSON, exit codes, and webhook URLs that never appear whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.clock import utc_now
from storage.store import Store
from tests.conftest import write_config
from tests.support.spend import log_call, webhook_receiver
from tui.cli import run


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def spend(home: Path, cost: float, count: int = 1, **options: str) -> None:
    """Log `count` calls costing `cost` each, now, in the data directory's database."""
    store = Store.open(home / "tunedeck.db")
    try:
        for _ in range(count):
            log_call(store, utc_now(), cost, **options)  # type: ignore[arg-type]
    finally:
        store.close()


def budgets(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    code, out, _ = cli(capsys, "budget", "ls", "--json")
    assert code == 0
    return {row["name"]: row for row in json.loads(out)}


@pytest.fixture(autouse=True)
def paris(home: Path) -> None:
    write_config(home, 'timezone = "Europe/Paris"\n')


def test_budgets_are_set_listed_with_their_spending_and_removed(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    code, _, err = cli(capsys, "budget", "set", "daily", "--limit", "5", "--period", "day")
    assert code == 0 and err == (
        "budget 'daily' set: $5.00 a day on all calls; alerts at 50%, 80%, 100%\n"
    )
    options = ["--period", "week", "--scope", "model:gpt-4o*", "--thresholds", "100,25"]
    assert cli(capsys, "budget", "set", "minis", "--limit", "0.5", *options)[0] == 0
    spend(home, 1.25, model="gpt-4o-mini")
    spend(home, 1.0, model="gpt-4.1")
    rows = budgets(capsys)
    assert {n: (r["spent_usd"], r["percent"]) for n, r in rows.items()} == {
        "daily": (2.25, 45.0),
        "minis": (1.25, 250.0),
    }
    assert rows["minis"]["thresholds"] == [25.0, 100.0] and rows["minis"]["period"] == "week"
    code, out, _ = cli(capsys, "budget", "ls")
    assert code == 0
    assert out.split("\n")[1].split() == [
        "daily", "all", "today", "$5.00", "$2.25", "$0.00", "45%", "50,80,100", "-",
    ]  # fmt: skip
    code, _, err = cli(capsys, "budget", "set", "daily", "--limit", "10", "--period", "day")
    assert "budget 'daily' updated: $10.00" in err and budgets(capsys)["daily"]["percent"] == 22.5
    assert cli(capsys, "budget", "rm", "minis")[0] == 0 and list(budgets(capsys)) == ["daily"]
    code, _, err = cli(capsys, "budget", "rm", "minis")
    assert (code, err) == (2, "tunedeck: error: no budget named 'minis' (see tunedeck budget ls)\n")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--limit", "0"], "--limit 0: must be a number of USD greater than 0"),
        (["--scope", "profile:nowhere"], "--scope 'profile:nowhere': unknown profile 'nowhere'"),
        (["--scope", "team"], "--scope 'team': use all, profile:NAME or model:PATTERN"),
        (["--thresholds", "50,x"], "--thresholds '50,x': use percentages like 50,80,100"),
        (["--webhook-env", "https://hooks.example.test/T/B/x"], "--webhook-env: must be the NAME"),
    ],
)
def test_bad_budget_input_is_one_line_exit_2_and_nothing_written(
    capsys: pytest.CaptureFixture[str], args: list[str], line: str
) -> None:
    base = {"--limit": "5", "--period": "day"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [part for pair in base.items() for part in pair]
    code, out, err = cli(capsys, "budget", "set", "daily", *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"tunedeck: error: {line}")
    assert budgets(capsys) == {}


def test_monitor_exits_0_when_calm_1_on_a_breach_and_2_on_bad_input(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    assert cli(capsys, "monitor")[0] == 0
    spend(home, 0.0, count=12)
    spend(home, 0.0, count=12, status="error")  # 50% errors, no history: above the 5% floor
    code, out, err = cli(capsys, "monitor")
    assert code == 1
    assert out.splitlines()[1].split() == [
        "error-rate",
        "gpt-4o-mini",
        "24",
        "50.0%",
        "-",
        "BREACH",
    ]
    assert err == (
        "tunedeck: warning: monitor 'error-rate' on gpt-4o-mini: error rate 50.0% in the last "
        "24 h with no history to compare (breach above 2x and at least 5.0%)\n"
    )
    code, out, err = cli(capsys, "monitor", "--json")
    assert code == 1 and err == ""  # still a breach; its alert was raised already
    assert json.loads(out)["monitors"][0]["breached"] is True
    code, _, err = cli(capsys, "monitor", "set", "m", "--metric", "error_rate", "--factor", "0")
    assert (code, err) == (2, "tunedeck: error: --factor 0: must be a number greater than 0\n")
    options = ["--metric", "error_rate", "--factor", "2", "--floor", "60", "--min-calls", "5"]
    code, _, err = cli(capsys, "monitor", "set", "strict", *options)
    assert code == 0 and "at least 60.0%" in err
    assert cli(capsys, "monitor")[0] == 0  # the configured monitor replaces the defaults
    code, out, _ = cli(capsys, "monitor", "ls", "--json")
    assert [(m["name"], m["floor"], m["default"]) for m in json.loads(out)] == [
        ("strict", 0.6, False)
    ]


def test_monitor_exits_1_on_a_used_up_budget_and_alerts_list_what_was_raised(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    cli(capsys, "budget", "set", "daily", "--limit", "0.5", "--period", "day")
    spend(home, 0.3)
    code, _, err = cli(capsys, "monitor")
    assert code == 0 and err == "tunedeck: warning: budget 'daily' at 50%: $0.30 of $0.50 today\n"
    spend(home, 0.25)
    code, _, err = cli(capsys, "monitor")
    assert code == 1 and err.splitlines() == [
        "tunedeck: warning: budget 'daily' at 80%: $0.55 of $0.50 today",
        "tunedeck: warning: budget 'daily' at 100%: $0.55 of $0.50 today",
        "tunedeck: budget 'daily' used up: $0.55 of $0.50 today",
    ]
    code, out, _ = cli(capsys, "alerts", "--json")
    listed = json.loads(out)
    assert code == 0 and [a["threshold"] for a in listed] == [100.0, 80.0, 50.0]
    assert {a["delivery"] for a in listed} == {"none"}
    code, out, _ = cli(capsys, "alerts", "show", str(listed[0]["id"]))
    assert code == 0 and "budget 'daily' at 100%" in out and "day:" in out
    assert cli(capsys, "alerts", "show", "999")[0] == 2


def test_webhook_urls_never_appear_whole_in_output_logs_or_the_database(
    capsys: pytest.CaptureFixture[str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(home, 'timezone = "Europe/Paris"\nlog_level = "DEBUG"\n')
    secret_path = "/services/T0SECRET/B0SECRET/xoxbSECRET?token=QUERYSECRET"
    seen = []
    with webhook_receiver(statuses=[500]) as hook:
        monkeypatch.setenv("ALERT_HOOK", hook.url(secret_path))
        options = ["--period", "day", "--thresholds", "100", "--webhook-env", "ALERT_HOOK"]
        seen.append(cli(capsys, "budget", "set", "daily", "--limit", "0.5", *options))
        spend(home, 0.5)  # under the daily-cost monitor's $1 floor: budget alerts only
        seen.append(cli(capsys, "monitor"))  # raises the alert; 500, then delivered
        seen.append(cli(capsys, "budget", "ls"))
        seen.append(cli(capsys, "budget", "ls", "--json"))
        seen.append(cli(capsys, "alerts", "show", "1"))
        port = hook.port
    assert [r.path for r in hook.received] == [secret_path, secret_path]
    assert hook.received[1].body["message"] == "budget 'daily' at 100%: $0.50 of $0.50 today"
    monkeypatch.setenv("ALERT_HOOK", f"http://127.0.0.1:{port}{secret_path}")  # now closed
    cli(capsys, "budget", "set", "weekly", "--limit", "0.5", *options[2:], "--period", "week")
    seen.append(cli(capsys, "monitor"))
    seen.append(cli(capsys, "alerts", "show", "2"))
    masked = f"http://127.0.0.1:{port}/…"
    assert f"$ALERT_HOOK ({masked})" in seen[2][1]
    assert (
        f"tunedeck: warning: alert 2 not delivered: ConnectError posting to {masked}" in seen[5][2]
    )
    assert "delivered" in seen[4][1] and "HTTP 500 from " + masked in seen[4][1]
    store = Store.open(home / "tunedeck.db")
    dump = "\n".join(store.db.conn.iterdump())
    store.close()
    log = (home / "tunedeck.log").read_text(encoding="utf-8")
    assert "webhook attempt 1 failed: HTTP 500 from " + masked in log
    everything = dump + log + "".join(out + err for _, out, err in seen)
    for secret in ("SECRET", "services/", "token="):
        assert secret not in everything
