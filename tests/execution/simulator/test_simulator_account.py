"""The simulator's cash book and its account snapshot (account.json beside prices.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from execution.contract import market_hours
from execution.simulator.account import Account
from tests.execution.simulator.harness import Engine, intent, start_engine  # noqa: F401 (fixture)
from tests.waiting import wait_for


def test_every_fill_and_fee_moves_the_cash(tmp_path: Path) -> None:
    account = Account(tmp_path / "simulator-account.json", starting_cash=Decimal(50000))
    account.apply_fill("AAPL", Decimal(10), 190.0, 1.0)  # buy 10 @ 190, fee 1
    assert account.cash == {"USD": Decimal("48099.0")}
    account.apply_fill("AAPL", Decimal(-4), 195.5, 1.0)  # sell 4 @ 195.5, fee 1
    assert account.cash == {"USD": Decimal("48880.0")}

    snapshot = account.snapshot(run_id="r", time="2026-11-25T19:00:00.000Z", prices={"AAPL": 200.0})
    # 6 AAPL at 200: holdings 1,200; margin half of it (equity leverage 2); unrealised (200 - 190) * 6.
    assert snapshot == {
        "run_id": "r",
        "time": "2026-11-25T19:00:00.000Z",
        "currency": "USD",
        "cash": [{"currency": "USD", "amount": 48880}],
        "net_liquidation": 50080,
        "total_margin_used": 600,
        "buying_power": 49480,
        "unrealized_pnl": 60,
    }


def test_a_short_sale_adds_cash_and_takes_margin(tmp_path: Path) -> None:
    account = Account(tmp_path / "a.json", starting_cash=Decimal(1000))
    account.apply_fill("MSFT", Decimal(-2), 400.0, 1.0)
    snapshot = account.snapshot(run_id="r", time="t", prices={"MSFT": 410.0})
    assert snapshot["cash"] == [{"currency": "USD", "amount": 1799}]
    assert snapshot["net_liquidation"] == 979  # 1,799 - 820
    assert snapshot["unrealized_pnl"] == -20
    assert snapshot["total_margin_used"] == 410 and snapshot["buying_power"] == 569


def test_cash_survives_a_restart_and_an_older_file_starts_with_the_configured_cash(tmp_path: Path) -> None:
    path = tmp_path / "simulator-account.json"
    account = Account(path, starting_cash=Decimal(1000))
    account.apply_fill("AAPL", Decimal(1), 100.0, 1.0)
    again = Account(path, starting_cash=Decimal(5))
    again.load()
    assert again.cash == {"USD": Decimal(899)} and again.positions["AAPL"]["quantity"] == 1

    path.write_text(json.dumps({"AAPL": {"quantity": 3, "avg_price": 10}}))  # an older simulator's file
    old = Account(path, starting_cash=Decimal(700))
    old.load()
    assert old.positions == {"AAPL": {"quantity": Decimal(3), "avg_price": Decimal(10)}}
    assert old.cash == {"USD": Decimal(700)}


def test_a_new_session_makes_the_last_prices_the_previous_closes(tmp_path: Path) -> None:
    account = Account(tmp_path / "a.json")
    monday = market_hours.session_day(datetime(2026, 11, 23, 20, 0, tzinfo=UTC)).isoformat()
    assert account.roll_session(monday, {"AAPL": 190.0}) is True
    assert account.previous_close == {}  # the first session seen: no close known yet
    assert account.roll_session(monday, {"AAPL": 191.0}) is False
    tuesday = market_hours.session_day(datetime(2026, 11, 24, 14, 31, tzinfo=UTC)).isoformat()
    assert account.roll_session(tuesday, {"AAPL": 192.5}) is True
    assert account.previous_close == {"AAPL": Decimal("192.5")}


def test_the_engine_writes_the_account_beside_the_prices_after_a_fill(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine(
        intent=intent("oi_1", "AAPL", 5), prices_interval=0.05, starting_cash=20000, follow=["MSFT"]
    )
    filled = engine.wait_status("oi_1", "Filled")[-1]
    path = engine.workdir / "account.json"

    def account_after_fill() -> Any:
        data = json.loads(path.read_text()) if path.exists() else {}
        return data if data.get("cash") and data["cash"][0]["amount"] < 20000 else None

    data = wait_for(account_after_fill, timeout=10)
    assert data, "no account.json after the fill"
    cash = Decimal(20000) - 5 * Decimal(str(filled["fill_price"])) - Decimal(str(filled["fee"]))
    assert data["cash"] == [{"currency": "USD", "amount": float(cash.quantize(Decimal("0.01")))}]
    assert data["run_id"] == "r-test-1" and data["currency"] == "USD"
    prices = {q["symbol"]: q for q in json.loads((engine.workdir / "prices.json").read_text())["prices"]}
    assert set(prices) == {"AAPL", "MSFT"}  # the held symbol and the followed one
    assert prices["AAPL"]["previous_close"] == 190  # the walk's start until a session has ended
    assert abs(Decimal(str(data["net_liquidation"])) - Decimal(str(data["buying_power"]))) > 0
    assert all("cash" not in line for line in engine.lines())
