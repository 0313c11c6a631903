"""The simulator's fills as a real process: the contract's fields, the seeded walk, partial fills, limits that fill only when crossed (no Django involved)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from execution.contract import EVENT_KEYS
from tests.execution.simulator.harness import (
    TIME_RE,
    Engine,
    intent,
    order_command,
    seeded_prices,
    start_engine,
)

__all__ = ["start_engine"]  # the fixture this module's tests use


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
