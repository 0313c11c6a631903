"""The simulator honours tradedesk's update command (and LEAN's UpdateOrderCommand, which lacks the trigger and the
trailing amount): a working order changes and reports UpdateSubmitted."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from execution.contract import order_command as contract_order_command
from execution.engine import process as engines
from tests.execution.simulator.harness import (  # noqa: F401 (start_engine is a fixture)
    Engine,
    cancel_command,
    order_command,
    start_engine,
)


def update(order_id: int, **fields: float | None) -> dict[str, object]:
    """The update command tradedesk writes (execution.engine.process.update_command)."""
    return engines.update_command(
        command_id=str(uuid.uuid4()),
        engine_order_id=order_id,
        quantity=fields.get("quantity"),
        limit_price=fields.get("limit_price"),
        stop_price=fields.get("stop_price"),
        trigger_price=fields.get("trigger_price"),
        trailing_amount=fields.get("trailing_amount"),
        trailing_as_percent=bool(fields.get("trailing_as_percent")),
    )


def test_a_limit_moved_through_the_market_confirms_then_fills_at_the_new_limit(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine()
    engine.send_command(order_command("AAPL", 4, "oi_u1", "Limit", 1.0))
    order_id = engine.wait_status("oi_u1", "Submitted")[0]["order_id"]

    result = engine.send_command(update(order_id, quantity=6, limit_price=500.0))
    events = engine.wait_status("oi_u1", "Filled")

    assert result["Success"] is True and result["CommandName"] == "TradedeskUpdateCommand"
    assert [e["status"] for e in events] == ["Submitted", "UpdateSubmitted", "Filled"]
    assert events[1]["message"].startswith("Updated by TradedeskUpdateCommand: quantity 6 limit 500.0")
    assert events[-1]["filled"] == 6 and events[-1]["fill_price"] <= 500.0


def test_an_update_of_a_closed_unknown_or_wrong_side_order_is_refused(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine()
    engine.send_command(order_command("AAPL", 4, "oi_u2", "Limit", 1.0))
    order_id = engine.wait_status("oi_u2", "Submitted")[0]["order_id"]

    other_side = engine.send_command(update(order_id, quantity=-4))
    engine.send_command(cancel_command(order_id))
    engine.wait_status("oi_u2", "Canceled")
    closed = engine.send_command(update(order_id, limit_price=2.0))
    unknown = engine.send_command(update(99, limit_price=2.0))

    assert other_side["Success"] is False and "other side" in other_side["Message"]
    assert closed["Success"] is False and "Canceled" in closed["Message"]
    assert unknown["Success"] is False and unknown["Message"]
    assert [e["status"] for e in engine.events("oi_u2")] == ["Submitted", "Canceled"]


def test_leans_own_update_command_still_changes_a_working_order(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    # A file of the command tradedesk sent before its own (an engine folder may still hold one).
    engine = start_engine()
    engine.send_command(order_command("AAPL", 4, "oi_u3", "Limit", 1.0))
    order_id = engine.wait_status("oi_u3", "Submitted")[0]["order_id"]
    lean = {
        **update(order_id, limit_price=2.0),
        "$type": "QuantConnect.Commands.UpdateOrderCommand, QuantConnect.Common",
    }
    del lean["TriggerPrice"], lean["TrailingAmount"]

    result = engine.send_command(lean)

    assert result["Success"] is True and result["CommandName"] == "UpdateOrderCommand"
    confirmed = engine.wait_status("oi_u3", "UpdateSubmitted")[-1]
    assert confirmed["message"].startswith("Updated by UpdateOrderCommand: quantity 4 limit 2.0")


def test_a_trailing_stops_percent_reaches_the_simulator_as_leans_fraction(
    start_engine: Callable[..., Engine],  # noqa: F811
) -> None:
    engine = start_engine()
    command = contract_order_command(
        command_id=str(uuid.uuid4()), symbol="AAPL", quantity=-2, order_type="TRAIL", limit_price=None,
        tag="oi_u4", trailing_amount=0.5, trailing_as_percent=True,
    )  # fmt: skip
    engine.send_command(command)
    order_id = engine.wait_status("oi_u4", "Submitted")[0]["order_id"]

    result = engine.send_command(update(order_id, trailing_amount=2.5, trailing_as_percent=True))

    assert result["Success"] is True
    confirmed = engine.wait_status("oi_u4", "UpdateSubmitted")[-1]
    assert "trailing 0.025 (fraction)" in confirmed["message"]
