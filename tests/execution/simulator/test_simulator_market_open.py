"""A market order before the open: it waits as MarketOnOpen, is refused just before the open, and an OrderCommand's Market order fills."""

from __future__ import annotations

from collections.abc import Callable

from tests.execution.simulator.harness import Engine, intent, order_command, start_engine, tradedesk_command

__all__ = ["start_engine"]  # the fixture this module's tests use


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
