"""The LEAN algorithm places a trailing stop, a market on close and a limit if touched with LEAN's own calls
(QCAlgorithm.TrailingStopOrder without a stop, MarketOnCloseOrder, LimitIfTouchedOrder: the stubs' signatures),
from the start intent and from tradedesk's order command, and reports a trailing stop's moves.

LEAN takes a trailing percent as a fraction and the IB plugin sends it as amount x 100, the stop moves without
an order event (the IB plugin's TrailStopPrice update: tests/fixtures/ib/order-types-excerpt.json); LEAN refuses
a MarketOnClose inside its buffer with an error response (tests/fixtures/lean/order-types-excerpt.json)."""

from __future__ import annotations

import types
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from execution.contract import order_command
from tests.execution.lean.fake_lean import (
    FakeSymbol,
    OrderStatus,
    OrderType,
    TimeInForce,
    companion,
    lean,
    make_algorithm,
    order_event,
    read_lines,
    workdir,
    write_intent,
)

__all__ = ["lean", "workdir"]  # fixtures used by this module's tests


PLACING = ("trailing_stop_order", "market_on_close_order", "limit_if_touched_order")


def placed(algo: Any) -> list[tuple[Any, ...]]:
    return [call for call in algo.calls if call[0] in PLACING]


def started(lean: types.ModuleType, workdir: Path, intent: Path | None = None) -> Any:
    algo = make_algorithm(lean, workdir, intent)
    algo.initialize()
    if intent is not None:
        algo.security("AAPL").has_data = True
    algo.on_warmup_finished()
    return algo


def command(**fields: Any) -> dict[str, Any]:
    """A command file exactly as tradedesk's dispatch writes it (execution/contract/messages.py)."""
    base: dict[str, Any] = {
        "command_id": "cmd-1",
        "symbol": "AAPL",
        "quantity": -5,
        "limit_price": None,
        "tag": "oi_9",
    }
    return order_command(**{**base, **fields})


def test_a_trailing_stop_intent_by_percent_is_placed_with_leans_fraction(
    lean: types.ModuleType, workdir: Path
) -> None:
    intent = write_intent(workdir, order_type="TRAIL", trailing_amount=2.5, trailing_as_percent=True)
    algo = started(lean, workdir, intent)
    assert placed(algo) == [("trailing_stop_order", "AAPL", -10, 0.025, True, "oi_3_1_1764000000123")]
    assert [p.time_in_force for p in algo.properties] == [TimeInForce.DAY]


def test_a_trailing_stop_command_by_price_is_placed_as_sent(lean: types.ModuleType, workdir: Path) -> None:
    algo = started(lean, workdir)
    assert (
        algo.run_callback_command(command(order_type="TRAIL", trailing_amount=1.25, time_in_force="GTC"))
        is True
    )
    assert placed(algo) == [("trailing_stop_order", "AAPL", -5, 1.25, False, "oi_9")]
    assert [p.time_in_force for p in algo.properties] == [TimeInForce.GOOD_TIL_CANCELED]


def test_a_limit_if_touched_is_placed_with_its_trigger_and_limit(
    lean: types.ModuleType, workdir: Path
) -> None:
    intent = write_intent(workdir, quantity=3, order_type="LIT", trigger_price=185, limit_price=185.5)
    algo = started(lean, workdir, intent)
    assert placed(algo) == [("limit_if_touched_order", "AAPL", 3, 185, 185.5, "oi_3_1_1764000000123")]
    again = started(lean, workdir)
    assert again.run_callback_command(command(order_type="LIT", trigger_price=190, limit_price=189.5)) is True
    assert placed(again) == [("limit_if_touched_order", "AAPL", -5, 190, 189.5, "oi_9")]


def test_a_market_on_close_is_placed_and_leans_too_late_is_reported_invalid(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = started(lean, workdir)
    assert algo.run_callback_command(command(order_type="MOC")) is True
    assert placed(algo) == [("market_on_close_order", "AAPL", -5, "oi_9")]
    algo.refuse = "MarketOnClose orders must be placed within 00:15:30 before market close."
    assert algo.run_callback_command(command(order_type="MOC", tag="oi_10")) is False
    (line,) = [line for line in read_lines(workdir) if line.get("status") == "Invalid"]
    assert line["tag"] == "oi_10" and line["message"].startswith("MarketOnClose orders must be placed")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"order_type": "TRAIL"}, "trailing_amount"),
        ({"order_type": "TRAIL", "trailing_amount": 100, "trailing_as_percent": True}, "trailing_amount"),
        ({"order_type": "LIT", "limit_price": 180}, "trigger_price"),
        ({"order_type": "LIT", "trigger_price": 180}, "limit_price"),
        ({"order_type": "MOC", "outside_rth": True}, "outside_rth"),
    ],
)
def test_an_intent_without_what_its_type_needs_is_reported_invalid(
    lean: types.ModuleType, workdir: Path, fields: dict[str, Any], reason: str
) -> None:
    algo = started(lean, workdir, write_intent(workdir, **fields))
    assert placed(algo) == []
    (line,) = [line for line in read_lines(workdir) if line.get("status") == "Invalid"]
    assert reason in line["message"]


def test_a_trailing_stops_events_carry_its_current_stop(lean: types.ModuleType, workdir: Path) -> None:
    algo = started(lean, workdir)
    algo.transactions.orders[7] = SimpleNamespace(
        id=7, tag="oi_t", type=OrderType.TRAILING_STOP, stop_price=187.5, broker_id=["1007"], open=True,
        status=OrderStatus.SUBMITTED, symbol=FakeSymbol("AAPL"),
    )  # fmt: skip
    algo.on_order_event(order_event(order_id=7, id=1, status=OrderStatus.SUBMITTED))
    assert read_lines(workdir)[-1]["stop_price"] == 187.5
    algo.transactions.orders[8] = SimpleNamespace(id=8, tag="oi_l", type=OrderType.LIMIT, limit_price=10)
    algo.on_order_event(order_event(order_id=8, id=1))
    assert "stop_price" not in read_lines(workdir)[-1]


def test_a_trailing_stop_that_moved_without_an_event_gets_a_line_once(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.parameters["prices-interval"] = "2"
    algo.initialize()
    order = SimpleNamespace(
        id=7, tag="oi_t", type=OrderType.TRAILING_STOP, stop_price=187.5, broker_id=["1007"], open=True,
        status=OrderStatus.UPDATE_SUBMITTED, symbol=FakeSymbol("AAPL"),
    )  # fmt: skip
    algo.transactions.orders[7] = order
    tick = algo.schedule.every(companion("snapshots").prices_interval("2"))
    tick()
    order.stop_price = 188.25  # IB moved it (OrderUpdateEvent.TrailingStopPrice)
    tick()
    tick()
    moves = [line for line in read_lines(workdir) if line.get("tag") == "oi_t"]
    assert [(m["stop_price"], m["status"]) for m in moves] == [(187.5, "Submitted"), (188.25, "Submitted")]
    assert "event_id" not in moves[-1] and moves[-1]["message"] == "trailing stop moved to 188.25"
    assert moves[-1]["broker_ids"] == ["1007"] and moves[-1]["filled"] == 0


def test_the_algorithm_and_the_contract_turn_a_percent_into_the_same_fraction(lean: types.ModuleType) -> None:
    from execution.contract.messages import lean_trailing_amount

    for amount in (1.1, 2.5, 5, 0.125, 99.99):
        assert companion("intents").lean_trailing_amount(amount, as_percent=True) == lean_trailing_amount(
            amount, as_percent=True
        )
