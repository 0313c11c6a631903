"""The LEAN algorithm's prices.json and account.json: written beside the events file, never as its lines."""

from __future__ import annotations

import json
import types
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from tests.execution.lean.fake_lean import (
    FakeCashBook,
    Resolution,
    companion,
    lean,
    make_algorithm,
    read_lines,
    workdir,
)

__all__ = ["lean", "workdir"]  # fixtures used by this module's tests


def test_prices_file_has_held_open_order_and_subscribed_symbols_and_is_not_an_events_line(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None, run_id="r-7")
    algo.parameters["prices-interval"] = "3"
    algo.initialize()
    for ticker, last, bid, ask in (
        ("AAPL", 190.25, 190.2, 190.3),
        ("MSFT", 410.0, 0.0, 0.0),
        ("TSLA", 1.0, 1, 1),
    ):
        security = algo.add_equity(ticker)
        security.price, security.bid_price, security.ask_price = last, bid, ask
    symbols = {s.value: s for s in algo.securities}
    algo.portfolio.holdings = {
        symbols["AAPL"]: SimpleNamespace(quantity=10.0, average_price=189.2),
        symbols["TSLA"]: SimpleNamespace(quantity=0.0, average_price=0.0),
    }
    algo.transactions.orders[9] = SimpleNamespace(id=9, tag="oi_9", symbol=symbols["MSFT"], open=True)
    lines_before = (workdir / "events.jsonl").read_bytes()

    algo.schedule.every(timedelta(seconds=3))()

    snapshot = json.loads((workdir / "prices.json").read_text())
    assert snapshot == {
        "run_id": "r-7",
        "time": "2026-11-25T19:00:05.500Z",
        "prices": [
            {"symbol": "AAPL", "last": 190.25, "bid": 190.2, "ask": 190.3},
            {"symbol": "MSFT", "last": 410, "bid": None, "ask": None},
            # Flat, no open order: priced because it is subscribed (an AddSecurityCommand, a ticket's quote).
            {"symbol": "TSLA", "last": 1, "bid": 1, "ask": 1},
        ],
    }
    assert (workdir / "events.jsonl").read_bytes() == lines_before
    assert not [p for p in workdir.iterdir() if p.name.startswith(".prices.json")]


def test_prices_interval_parameter_is_at_least_a_second(lean: types.ModuleType) -> None:
    assert companion("snapshots").prices_interval("5") == timedelta(seconds=5)
    assert companion("snapshots").prices_interval("0.2") == timedelta(seconds=1)
    assert companion("snapshots").prices_interval(None) == timedelta(seconds=2)
    assert companion("snapshots").prices_interval("soon") == timedelta(seconds=2)
    assert companion("snapshots").prices_interval("nan") == timedelta(seconds=2)


def test_prices_snapshot_leaves_out_symbols_without_a_price(lean: types.ModuleType) -> None:
    snapshot = companion("snapshots").prices_snapshot(
        run_id="r", quotes=[("B", 0, 1, 1), ("A", float("nan"), 1, 1), ("C", 2.5, None, 2.6)], time=None
    )
    assert snapshot["prices"] == [{"symbol": "C", "last": 2.5, "bid": None, "ask": 2.6}]


def test_the_account_file_is_leans_portfolio_beside_the_prices_and_not_an_events_line(
    lean: types.ModuleType, workdir: Path
) -> None:
    # Names from Common/Securities/SecurityPortfolioManager.cs@24863901deffa9ec7985e21ef8fbdb0258efb9e4:
    # CashBook (77), TotalUnrealizedProfit (418), TotalPortfolioValue (430), TotalMarginUsed (562),
    # MarginRemaining (580); CashBook.AccountCurrency (CashBook.cs:45), Cash.Amount (Cash.cs:110).
    algo = make_algorithm(lean, workdir, None, run_id="r-8")
    algo.parameters["prices-interval"] = "2"
    algo.initialize()
    portfolio = algo.portfolio
    portfolio.cash_book = FakeCashBook(
        USD=SimpleNamespace(amount=98_107.504), EUR=SimpleNamespace(amount=12.5)
    )
    portfolio.total_portfolio_value = 100_010.004
    portfolio.margin_remaining = 99_058.75
    portfolio.total_margin_used = 951.25
    portfolio.total_unrealized_profit = 10.5
    lines_before = (workdir / "events.jsonl").read_bytes()

    algo.schedule.every(timedelta(seconds=2))()

    assert json.loads((workdir / "account.json").read_text()) == {
        "run_id": "r-8",
        "time": "2026-11-25T19:00:05.500Z",
        "currency": "USD",
        "cash": [{"currency": "EUR", "amount": 12.5}, {"currency": "USD", "amount": 98107.5}],
        "net_liquidation": 100010,
        "total_margin_used": 951.25,
        "buying_power": 99058.75,
        "unrealized_pnl": 10.5,
    }
    assert (workdir / "events.jsonl").read_bytes() == lines_before
    assert not [p for p in workdir.iterdir() if p.name.startswith(".account.json")]


def test_an_account_lean_cannot_value_is_an_error_line_and_no_file(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    algo.portfolio.total_portfolio_value = float("nan")
    algo.schedule.every(timedelta(seconds=2))()
    assert not (workdir / "account.json").exists()
    errors = [line for line in read_lines(workdir) if line.get("status") == "error"]
    assert errors and errors[-1]["message"].startswith("account: ValueError")


def test_held_symbols_carry_the_previous_close_from_one_daily_history_request_a_day(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.parameters["prices-interval"] = "2"
    algo.initialize()
    aapl = algo.add_equity("AAPL")
    aapl.price, aapl.bid_price, aapl.ask_price = 190.25, 190.2, 190.3
    amd = algo.add_equity("AMD")
    amd.price, amd.bid_price, amd.ask_price = 120.0, 119.9, 120.1
    algo.portfolio.holdings = {aapl.symbol: SimpleNamespace(quantity=10.0, average_price=189.2)}
    algo.daily_closes = {"AAPL": [187.5, 188.75], "AMD": [119.0]}
    tick = algo.schedule.every(timedelta(seconds=2))
    tick()
    tick()
    quotes = {q["symbol"]: q for q in json.loads((workdir / "prices.json").read_text())["prices"]}
    assert quotes["AAPL"]["previous_close"] == 188.75
    assert "previous_close" not in quotes["AMD"]  # subscribed, not held: no history asked
    asked = [call for call in algo.calls if call[0] == "history"]
    assert asked == [("history", "TradeBar", "AAPL", 1, Resolution.DAILY)]  # once for the exchange date
    aapl.local_time = datetime(2026, 11, 26, 9, 31)
    tick()
    assert len([call for call in algo.calls if call[0] == "history"]) == 2


def test_last_close_of_a_frame(lean: types.ModuleType) -> None:
    assert companion("snapshots").last_close({"close": [1.5, 2.5]}) == 2.5
    assert companion("snapshots").last_close({"close": []}) is None
    assert companion("snapshots").last_close({}) is None
    assert companion("snapshots").last_close({"close": [float("nan")]}) is None
