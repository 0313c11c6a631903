"""The simulator's stop orders: a stop waits for its trigger on the walk, then fills like a market or limit order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.execution.simulator.harness import (  # noqa: F401 (start_engine is a fixture)
    Engine,
    cancel_command,
    intent,
    order_command,
    start_engine,
)


def stop_intent(
    tag: str, quantity: float, order_type: str, stop: float, limit: float | None = None
) -> dict[str, Any]:
    return {**intent(tag, "AAPL", quantity, order_type, limit), "stop_price": stop}


def test_buy_stop_below_the_price_triggers_and_fills_at_the_market(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine(intent=stop_intent("oi_s1", 5, "STP", 150.0))
    events = engine.wait_status("oi_s1", "Filled")
    assert [e["status"] for e in events] == ["Submitted", "Filled"]
    assert events[-1]["filled"] == 5 and events[-1]["fill_price"] >= 150.0


def test_sell_stop_far_below_the_price_stays_working_until_canceled(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine(intent=stop_intent("oi_s2", -5, "STP", 50.0))
    submitted = engine.wait_status("oi_s2", "Submitted")
    # A market order placed after the stop fills: the loop has worked the stop meanwhile, near 190.
    engine.send_command(order_command("AAPL", 1, "oi_m"))
    engine.wait_status("oi_m", "Filled")
    assert [e["status"] for e in engine.events("oi_s2")] == ["Submitted"]
    result = engine.send_command(cancel_command(submitted[-1]["order_id"]))
    assert result["Success"] is True
    assert [e["status"] for e in engine.wait_status("oi_s2", "Canceled")] == ["Submitted", "Canceled"]


def test_stop_limit_command_fills_at_its_limit_or_better_once_triggered(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine()
    command = {**order_command("AAPL", 3, "oi_s3", "StopLimit", 200.0), "StopPrice": 150.0}
    result = engine.send_command(command)
    assert result["Success"] is True, result
    fill = engine.wait_status("oi_s3", "Filled")[-1]
    assert fill["fill_price"] <= 200.0


def test_stop_command_without_a_stop_price_is_invalid(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine()
    result = engine.send_command(order_command("AAPL", 3, "oi_s4", "StopMarket"))
    assert result["Success"] is False and "stop price" in result["Message"]
    assert engine.wait_status("oi_s4", "Invalid")[-1]["message"].startswith("StopMarket order needs")
