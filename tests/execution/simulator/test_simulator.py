"""The simulator engine as a real process: files in, events and results out (no Django involved)."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from execution.contract import EVENT_KEYS

REPO_ROOT = Path(__file__).resolve().parents[3]
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TIMEOUT = 4.0


@dataclass
class Engine:
    """One simulator process and its working directory."""

    workdir: Path
    proc: subprocess.Popen[bytes]
    run_id: str

    @property
    def events_file(self) -> Path:
        """The events file the config points at."""
        return self.workdir / "events.jsonl"

    def lines(self) -> list[dict[str, Any]]:
        """Every complete, parseable line of the events file so far."""
        if not self.events_file.exists():
            return []
        out = []
        for raw in self.events_file.read_bytes().split(b"\n")[:-1]:
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
        return out

    def events(self, tag: str | None = None) -> list[dict[str, Any]]:
        """Order events (lines with a tag key), optionally of one tag."""
        return [e for e in self.lines() if "tag" in e and (tag is None or e["tag"] == tag)]

    def wait_for(self, predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
        """Poll until predicate returns something truthy; fail with the engine's log otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.01)
        log = (self.workdir / "engine.log").read_text(errors="replace")
        pytest.fail(f"timed out waiting for {what}; engine log:\n{log}\nlines: {self.lines()}")

    def wait_status(self, tag: str, status: str) -> list[dict[str, Any]]:
        """Wait until an event of tag has status; returns the tag's events."""
        self.wait_for(lambda: any(e["status"] == status for e in self.events(tag)), f"{tag} {status}")
        return self.events(tag)

    def send_command(self, command: dict[str, Any]) -> dict[str, Any]:
        """Hand a command over the way tradedesk does (hidden temp + rename) and wait for its result."""
        command_id = command.setdefault("Id", str(uuid.uuid4()))
        tmp = self.workdir / f".command-{command_id}.tmp"
        tmp.write_text(json.dumps(command))
        os.replace(tmp, self.workdir / f"command-{command_id}.json")
        result = self.workdir / f"result-command-{command_id}.json"
        self.wait_for(result.exists, f"result of command {command_id}")
        return json.loads(result.read_text())

    def wait_exit(self, timeout: float = TIMEOUT) -> int:
        """Wait for the process to end and return its exit code."""
        return self.proc.wait(timeout=timeout)


def order_command(
    ticker: str, quantity: float, tag: str, order_type: str = "Market", limit_price: float = 0
) -> dict[str, Any]:
    """A LEAN OrderCommand as tradedesk writes it."""
    return {
        "$type": "QuantConnect.Commands.OrderCommand, QuantConnect.Common",
        "Id": str(uuid.uuid4()),
        "Ticker": ticker,
        "Market": "usa",
        "SecurityType": "Equity",
        "OrderType": order_type,
        "Quantity": quantity,
        "LimitPrice": limit_price,
        "StopPrice": 0,
        "Tag": tag,
    }


def tradedesk_command(
    ticker: str,
    quantity: float,
    tag: str,
    order_type: str = "Market",
    limit_price: float = 0,
    *,
    time_in_force: str = "Day",
    good_til_date: str | None = None,
    outside_rth: bool = False,
) -> dict[str, Any]:
    """tradedesk's order command (execution/contract/messages.py order_command): OrderCommand's fields and the
    order's properties."""
    return {
        **order_command(ticker, quantity, tag, order_type, limit_price),
        "$type": "TradedeskOrderCommand",
        "TimeInForce": time_in_force,
        "GoodTilDate": good_til_date,
        "OutsideRegularTradingHours": outside_rth,
    }


def cancel_command(order_id: int) -> dict[str, Any]:
    """A LEAN CancelOrderCommand."""
    return {
        "$type": "QuantConnect.Commands.CancelOrderCommand, QuantConnect.Common",
        "Id": str(uuid.uuid4()),
        "OrderId": order_id,
    }


def seeded_prices(seed: int, symbol: str, start: float, count: int) -> list[float]:
    """The documented walk: p0 = reference, p *= 1 + gauss(0, 0.001) rounded to cents per step."""
    rng = random.Random(f"{seed}:{symbol}")
    prices, price = [], start
    for _ in range(count):
        price = round(price * (1 + rng.gauss(0, 0.001)), 2)
        prices.append(price)
    return prices


@pytest.fixture
def start_engine(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    """Factory that starts simulator processes; every one is killed when the test ends."""
    started: list[subprocess.Popen[bytes]] = []

    def start(
        workdir: Path | None = None,
        intent: dict[str, Any] | None = None,
        run_id: str = "r-test-1",
        **simulator: Any,
    ) -> Engine:
        workdir = workdir or tmp_path / "engine"
        workdir.mkdir(parents=True, exist_ok=True)
        intent_file = ""
        if intent is not None:
            (workdir / "intents").mkdir(exist_ok=True)
            intent_path = workdir / "intents" / f"{intent['order_intent_id']}.json"
            intent_path.write_text(json.dumps(intent))
            intent_file = str(intent_path)
        sim = {
            "seed": 7,
            "idle-timeout": 30,
            "fill-delay": 0.02,
            "partial-fills": 1,
            "holdings-interval": 60,
            "poll-interval": 0.01,
            "reference-prices": {"AAPL": 190.0},
        }
        sim.update({key.replace("_", "-"): value for key, value in simulator.items()})
        config = {
            "environment": "live-paper",
            "algorithm-type-name": "ManualOrderExecution",
            "algorithm-language": "Python",
            "algorithm-location": "/nonexistent/main.py",
            "live-mode-brokerage": "PaperBrokerage",
            "parameters": {
                "intent-file": intent_file,
                "events-file": str(workdir / "events.jsonl"),
                "run-id": run_id,
            },
            "simulator": sim,
        }
        (workdir / "config.json").write_text(json.dumps(config))
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        with open(workdir / "engine.log", "ab") as log:
            # cwd is the engine's working directory, as the supervisor runs it (and LEAN needs it).
            proc = subprocess.Popen(
                [sys.executable, "-m", "execution.simulator", "--config", str(workdir / "config.json")],
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started.append(proc)
        engine = Engine(workdir=workdir, proc=proc, run_id=run_id)
        engine.wait_for(
            lambda: any(
                line.get("type") == "holdings" and line.get("run_id") == run_id for line in engine.lines()
            ),
            "the start's holdings line",
        )
        return engine

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=5)


def intent(
    tag: str, symbol: str, quantity: float, order_type: str = "MKT", limit_price: float | None = None
) -> dict[str, Any]:
    """An intent file's content in the contract's format."""
    return {
        "order_intent_id": tag,
        "symbol": symbol,
        "quantity": quantity,
        "order_type": order_type,
        "limit_price": limit_price,
        "weight": None,
        "project_id": 3,
        "mode": "paper",
        "created_at": "2026-11-25T19:00:00Z",
    }


# ----------------------------------------------------------------------------------------------------------


def test_intent_at_start_is_submitted_then_filled_with_contract_fields(start_engine: Callable[..., Engine]):
    engine = start_engine(intent=intent("oi_3_1_1", "AAPL", -10))
    events = engine.wait_status("oi_3_1_1", "Filled")

    assert [e["status"] for e in events] == ["Submitted", "Filled"]
    submitted, filled = events
    for event in events:
        assert set(event) == set(EVENT_KEYS)
        assert event["order_id"] == 1 and event["run_id"] == "r-test-1" and event["symbol"] == "AAPL"
        assert TIME_RE.match(event["time"]) and event["fee_currency"] == "USD"
    assert submitted["event_id"] == 1 and submitted["filled"] == 0 and submitted["fill_price"] == 0
    assert submitted["fee"] == 0
    assert filled["event_id"] == 2 and filled["filled"] == 10 and filled["fill_price"] > 0
    assert filled["fee"] == 1.0
    started = engine.lines()[0]
    assert started["type"] == "engine" and started["status"] == "started" and started["engine"] == "simulator"
    assert started["pid"] == engine.proc.pid and started["run_id"] == "r-test-1"
    account = json.loads((engine.workdir / "simulator-account.json").read_text())
    assert (
        account["positions"]["AAPL"]["quantity"] == -10
    )  # a SELL intent is booked short: the side comes from the sign


def test_market_order_fills_at_seeded_price(start_engine: Callable[..., Engine], tmp_path: Path):
    fills = []
    for run in ("a", "b"):
        engine = start_engine(workdir=tmp_path / run, intent=intent("oi_1", "AAPL", 5))
        events = engine.wait_status("oi_1", "Filled")
        engine.send_command(order_command("AAPL", 2, "oi_2"))
        second = engine.wait_status("oi_2", "Filled")
        fills.append([events[-1]["fill_price"], second[-1]["fill_price"]])

    assert fills[0] == fills[1]
    assert fills[0] == seeded_prices(7, "AAPL", 190.0, 2)


def test_unknown_symbol_price_is_derived_from_its_name(start_engine: Callable[..., Engine], tmp_path: Path):
    first = start_engine(workdir=tmp_path / "a", intent=intent("oi_1", "ZZTOP", 1))
    other_seed = start_engine(workdir=tmp_path / "b", intent=intent("oi_1", "ZZTOP", 1), seed=8)
    price_a = first.wait_status("oi_1", "Filled")[-1]["fill_price"]
    price_b = other_seed.wait_status("oi_1", "Filled")[-1]["fill_price"]

    assert 19 < price_a < 510 and 19 < price_b < 510
    assert price_a != price_b  # a different seed walks differently


def test_partial_fills_sum_to_order_quantity(start_engine: Callable[..., Engine]):
    engine = start_engine(intent=intent("oi_p", "MSFT", 10), partial_fills=3)
    events = engine.wait_status("oi_p", "Filled")

    assert [e["status"] for e in events] == ["Submitted", "PartiallyFilled", "PartiallyFilled", "Filled"]
    assert [e["event_id"] for e in events] == [1, 2, 3, 4]
    assert [e["filled"] for e in events[1:]] == [3, 3, 4]
    assert sum(e["filled"] for e in events) == 10
    assert all(e["fee"] == 1.0 for e in events[1:])


def test_limit_buy_fills_at_first_price_at_or_below_limit(start_engine: Callable[..., Engine]):
    walk = seeded_prices(7, "AAPL", 190.0, 40)
    limit = min(walk)  # below the start price: the order has to wait for the walk to come down
    assert limit < 190.0 and walk[0] > limit
    engine = start_engine(intent=intent("oi_l", "AAPL", 4, "LMT", limit))
    events = engine.wait_status("oi_l", "Filled")

    # Only this order reads AAPL prices, one step per check, so it fills at the first crossing price.
    assert events[-1]["fill_price"] == limit
    assert [e["status"] for e in events] == ["Submitted", "Filled"]


def test_limit_orders_fill_only_when_crossed(start_engine: Callable[..., Engine]):
    engine = start_engine()
    assert engine.send_command(order_command("AAPL", 10, "oi_far", "Limit", 100.0))["Success"] is True
    assert engine.send_command(order_command("AAPL", -10, "oi_sell", "Limit", 100.0))["Success"] is True
    sell = engine.wait_status("oi_sell", "Filled")
    time.sleep(0.3)

    assert sell[-1]["fill_price"] >= 100.0  # a sell limit fills at the limit or better
    assert [e["status"] for e in engine.events("oi_far")] == ["Submitted"]


def test_order_command_gets_success_result_and_events(start_engine: Callable[..., Engine]):
    engine = start_engine()
    stray = engine.workdir / ".command-being-written.tmp"
    stray.write_text("{half")
    command = order_command("AAPL", -3, "oi_cmd")
    result = engine.send_command(command)

    assert result["Success"] is True and result["CommandName"] == "OrderCommand"
    assert result["Id"] == command["Id"]
    assert result["$type"] == "QuantConnect.Packets.CommandResultPacket, QuantConnect.Common"
    assert not (engine.workdir / f"command-{command['Id']}.json").exists()
    events = engine.wait_status("oi_cmd", "Filled")
    assert [(e["order_id"], e["event_id"], e["status"]) for e in events] == [
        (1, 1, "Submitted"),
        (1, 2, "Filled"),
    ]
    assert stray.exists()  # only command*.json is LEAN's pattern; hidden temp files are left alone


def test_zero_quantity_command_is_rejected_with_invalid_event(start_engine: Callable[..., Engine]):
    engine = start_engine()
    result = engine.send_command(order_command("AAPL", 0, "oi_zero"))
    events = engine.wait_status("oi_zero", "Invalid")

    assert result["Success"] is False and result["Message"]
    assert events[-1]["message"] == "Order quantity must not be zero"
    assert events[-1]["filled"] == 0 and events[-1]["event_id"] == 1


def test_invalid_symbol_intent_gets_invalid_event(start_engine: Callable[..., Engine]):
    engine = start_engine(intent=intent("oi_bad", "aapl; rm", 1))
    events = engine.wait_status("oi_bad", "Invalid")

    assert [e["status"] for e in events] == ["Invalid"]
    assert "symbol" in events[0]["message"].lower()


def test_a_symbol_outside_the_universe_gets_invalid_like_an_unknown_contract(
    start_engine: Callable[..., Engine], tmp_path: Path
):
    universe = tmp_path / "universe.txt"
    universe.write_text("# test universe\nAAPL\nMSFT  # a comment\n")
    engine = start_engine(universe_file=str(universe))
    refused = engine.send_command(order_command("ZZZZZZ", 1, "oi_unknown"))
    accepted = engine.send_command(order_command("MSFT", 1, "oi_known"))
    events = engine.wait_status("oi_unknown", "Invalid")
    engine.wait_status("oi_known", "Filled")

    assert refused["Success"] is False and accepted["Success"] is True
    assert events[-1]["message"] == "Invalid order: unknown contract ZZZZZZ (no security definition found)"


def test_the_shipped_universe_holds_the_symbols_the_desk_uses():
    from execution.simulator import universe_load

    universe = universe_load(REPO_ROOT / "execution" / "data" / "us_equities.txt")
    assert {"AAPL", "MSFT", "NVDA", "KO", "TSLA", "SPY", "BRK.B"} <= universe and "ZZZZZZ" not in universe


def test_cancel_command_cancels_working_order_only(start_engine: Callable[..., Engine]):
    engine = start_engine()
    engine.send_command(order_command("AAPL", 10, "oi_wait", "Limit", 1.0))
    order_id = engine.wait_status("oi_wait", "Submitted")[0]["order_id"]

    result = engine.send_command(cancel_command(order_id))
    events = engine.wait_status("oi_wait", "Canceled")
    again = engine.send_command(cancel_command(order_id))
    unknown = engine.send_command(cancel_command(99))

    assert result["Success"] is True and result["CommandName"] == "CancelOrderCommand"
    assert [e["status"] for e in events] == ["Submitted", "Canceled"] and events[-1]["event_id"] == 2
    # LEAN answers Success for a cancel of a closed order too (CancelOrderCommand.cs:34-40@24863901), no event.
    assert again["Success"] is True and "already Canceled: nothing canceled" in again["Message"]
    assert unknown["Success"] is False and unknown["Message"]


def test_unparseable_command_file_is_deleted_and_engine_keeps_running(start_engine: Callable[..., Engine]):
    engine = start_engine()
    garbage = engine.workdir / "command-garbage.json"
    garbage.write_text("this is {not json")
    engine.wait_for(lambda: not garbage.exists(), "garbage command deleted")
    with_id = engine.workdir / "command-torn.json"
    with_id.write_text('{"$type": "QuantConnect.Commands.OrderCommand, QuantConnect.Common", "Id": "abc-1", ')
    torn_result = engine.workdir / "result-command-abc-1.json"
    engine.wait_for(torn_result.exists, "result for the torn command")

    assert json.loads(torn_result.read_text())["Success"] is False
    assert not with_id.exists()
    assert engine.proc.poll() is None
    assert engine.send_command(order_command("AAPL", 1, "oi_after"))["Success"] is True
    engine.wait_status("oi_after", "Filled")


def test_torn_last_line_is_closed_before_first_write(start_engine: Callable[..., Engine], tmp_path: Path):
    workdir = tmp_path / "engine"
    workdir.mkdir()
    (workdir / "events.jsonl").write_bytes(b'{"tag": "oi_old", "status": "Fil')
    engine = start_engine(workdir=workdir)

    content = engine.events_file.read_bytes()
    assert content.startswith(b'{"tag": "oi_old", "status": "Fil\n{"type": "engine"')
    assert engine.lines()[0]["status"] == "started"


def test_holdings_reflect_fills_and_survive_restart(start_engine: Callable[..., Engine], tmp_path: Path):
    workdir = tmp_path / "engine"
    first = start_engine(workdir=workdir, intent=intent("oi_h", "AAPL", 10), holdings_interval=0.2)
    assert next(line for line in first.lines() if line.get("type") == "holdings")["holdings"] == []
    fill = first.wait_status("oi_h", "Filled")[-1]

    def holdings_after_fill() -> list[dict[str, Any]]:
        lines = first.lines()
        filled_at = next(i for i, line in enumerate(lines) if line.get("status") == "Filled")
        return [line["holdings"] for line in lines[filled_at:] if line.get("type") == "holdings"]

    after = first.wait_for(holdings_after_fill, "a holdings line after the fill")[0]
    assert after == [{"symbol": "AAPL", "quantity": 10, "avg_price": fill["fill_price"]}]
    first.proc.send_signal(signal.SIGTERM)
    assert first.wait_exit() == 0

    second = start_engine(workdir=workdir, run_id="r-test-2")
    started_holdings = [
        line for line in second.lines() if line.get("run_id") == "r-test-2" and line.get("type") == "holdings"
    ]
    assert started_holdings[0]["holdings"] == after


def test_idle_timeout_writes_stopped_line_and_exits_zero(start_engine: Callable[..., Engine]):
    engine = start_engine(intent=intent("oi_i", "AAPL", 1), idle_timeout=0.4)

    assert engine.wait_exit() == 0
    last = engine.lines()[-1]
    assert last["type"] == "engine" and last["status"] == "stopped" and last["reason"] == "idle"
    assert any(e["status"] == "Filled" for e in engine.events("oi_i"))  # idle only once nothing works


def test_sigterm_writes_stopped_line_and_exits_zero(start_engine: Callable[..., Engine]):
    engine = start_engine()
    engine.proc.send_signal(signal.SIGTERM)

    assert engine.wait_exit() == 0
    last = engine.lines()[-1]
    assert last["type"] == "engine" and last["status"] == "stopped" and last["reason"] == "signal"


def test_sigterm_leaves_working_orders_with_the_simulated_broker(start_engine: Callable[..., Engine]):
    # As IB keeps an account's open orders when LEAN stops: the next run reloads them (test_restart_reload.py).
    engine = start_engine(intent=intent("oi_open", "AAPL", 5, "LMT", 1.0))
    engine.wait_status("oi_open", "Submitted")
    engine.proc.send_signal(signal.SIGTERM)

    assert engine.wait_exit() == 0
    assert [e["status"] for e in engine.events("oi_open")] == ["Submitted"]
    kept = json.loads((engine.workdir / "simulator-orders.json").read_text())["orders"]
    assert [(o["symbol"], o["quantity"], o["limit_price"]) for o in kept] == [("AAPL", "5", 1.0)]


def run_to_exit(workdir: Path, config: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """Run a simulator that is expected to stop by itself right away."""
    (workdir / "config.json").write_text(json.dumps(config))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "execution.simulator", "--config", str(workdir / "config.json")]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def test_bad_config_reports_error_line_and_fails(tmp_path: Path):
    events = tmp_path / "events.jsonl"
    config = {
        "parameters": {"events-file": str(events), "run-id": "r-bad"},
        "simulator": {"partial-fills": "x"},
    }
    done = run_to_exit(tmp_path, config)

    assert done.returncode == 2
    line = json.loads(events.read_text().splitlines()[-1])
    assert line["type"] == "engine" and line["status"] == "error" and "partial-fills" in line["message"]
    assert line["run_id"] == "r-bad" and "cannot load config" in line["message"]


def test_unexpected_failure_exits_one(tmp_path: Path):
    (tmp_path / "events.jsonl").mkdir()  # an events "file" that cannot be written
    config = {"parameters": {"events-file": "events.jsonl", "run-id": "r-crash"}, "simulator": {}}
    done = run_to_exit(tmp_path, config)

    assert done.returncode == 1
    assert "IsADirectoryError" in done.stderr


def test_sigint_writes_final_holdings_and_stopped_line(start_engine: Callable[..., Engine]):
    # LEAN's clean shutdown is SIGINT (Console.CancelKeyPress, Launcher/Program.cs 98 at Lean 24863901).
    engine = start_engine()
    engine.proc.send_signal(signal.SIGINT)

    assert engine.wait_exit() == 0
    last_two = engine.lines()[-2:]
    assert [line["type"] for line in last_two] == ["holdings", "engine"]
    assert last_two[1]["status"] == "stopped" and last_two[1]["signal"] == "SIGINT"


def test_intent_market_order_before_the_open_waits_as_market_on_open(start_engine: Callable[..., Engine]):
    # 08:00 New York: LEAN's MarketOrder would send MarketOnOpen, which IB accepts until 09:28.
    engine = start_engine(
        intent=intent("oi_moo", "AAPL", 3), market_hours="us-equity", clock="2026-11-25T13:00:00Z"
    )
    submitted = engine.wait_status("oi_moo", "Submitted")
    assert submitted[-1]["message"].startswith("MarketOnOpen:")
    # A crossing limit order of LEAN's OrderCommand (regular hours only) rests; one that may trade outside
    # regular hours fills pre-market, while the MarketOnOpen order still waits for the open.
    assert engine.send_command(order_command("AAPL", 1, "oi_rth", "Limit", 10_000))["Success"] is True
    outside = tradedesk_command("AAPL", 1, "oi_lmt", "Limit", 10_000, outside_rth=True)
    assert engine.send_command(outside)["Success"] is True
    engine.wait_status("oi_lmt", "Filled")
    assert [e["status"] for e in engine.events("oi_moo")] == ["Submitted"]
    assert [e["status"] for e in engine.events("oi_rth")] == ["Submitted"]


def test_intent_market_order_just_before_the_open_is_refused(start_engine: Callable[..., Engine]):
    engine = start_engine(
        intent=intent("oi_late", "AAPL", 3), market_hours="us-equity", clock="2026-11-25T14:29:00Z"
    )
    invalid = engine.wait_status("oi_late", "Invalid")
    assert invalid[-1]["message"].startswith("refused:") and "09:28" in invalid[-1]["message"]


def test_command_market_on_open_waits_and_plain_market_fills(start_engine: Callable[..., Engine]):
    engine = start_engine(market_hours="us-equity", clock="2026-11-25T13:00:00Z")
    moo = order_command("AAPL", 2, "oi_cmd_moo", "MarketOnOpen")
    assert engine.send_command(moo)["Success"] is True
    submitted = engine.wait_status("oi_cmd_moo", "Submitted")
    assert submitted[-1]["message"].startswith("MarketOnOpen:")
    # An OrderCommand's Market order is placed as it is (OrderCommand.Run does not convert it).
    assert engine.send_command(order_command("AAPL", 2, "oi_cmd_mkt"))["Success"] is True
    engine.wait_status("oi_cmd_mkt", "Filled")
    assert [e["status"] for e in engine.events("oi_cmd_moo")] == ["Submitted"]
