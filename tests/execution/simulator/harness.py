"""The simulator engine as a real process for the tests: its files, the commands tradedesk writes, an intent."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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
