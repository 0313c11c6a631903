"""The LEAN algorithm places every order with its own InteractiveBrokersOrderProperties: time in force and
outside-RTH, from the start intent and from tradedesk's order command alike.

LEAN's OrderCommand submits with the algorithm's DefaultOrderProperties, GoodTilCanceled
(Common/Commands/OrderCommand.cs:79, Algorithm/QCAlgorithm.cs:202, Common/Orders/OrderProperties.cs:40-43
@24863901), so the algorithm registers TradedeskOrderCommand (AddCommand: Algorithm/QCAlgorithm.Python.cs:
1917-1928), which LEAN runs for a command file of that $type (FileCommandHandler.cs:134-139,
BaseCommandHandler.cs:138-148, QCAlgorithm.cs:3609-3634); excerpts in tests/fixtures/lean/time-in-force-excerpt.json.
"""

from __future__ import annotations

import types
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from execution.contract import order_command
from tests.execution.lean.fake_lean import (
    TimeInForce,
    lean,
    make_algorithm,
    read_lines,
    workdir,
    write_intent,
)

__all__ = ["lean", "workdir"]  # fixtures used by this module's tests


def started(lean: types.ModuleType, workdir: Path, intent: Path | None = None) -> Any:
    algo = make_algorithm(lean, workdir, intent)
    algo.initialize()
    if intent is not None:
        algo.security("AAPL").has_data = True
    algo.on_warmup_finished()
    return algo


def properties(algo: Any) -> list[tuple[Any, bool]]:
    return [(p.time_in_force, p.outside_regular_trading_hours) for p in algo.properties]


def invalid_lines(workdir: Path) -> list[dict[str, Any]]:
    return [line for line in read_lines(workdir) if line.get("status") == "Invalid"]


def command(**fields: Any) -> dict[str, Any]:
    """A command file exactly as tradedesk's dispatch writes it (execution/contract/messages.py)."""
    base: dict[str, Any] = {
        "command_id": "cmd-1",
        "symbol": "AAPL",
        "quantity": 5,
        "order_type": "LMT",
        "limit_price": 189.5,
        "tag": "oi_3_5_1",
    }
    return order_command(**{**base, **fields})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, (TimeInForce.DAY, False)),  # an intent written before time in force: tradedesk's DAY
        ({"time_in_force": "GTC", "outside_rth": True}, (TimeInForce.GOOD_TIL_CANCELED, True)),
        (
            {"time_in_force": "GTD", "good_till_date": "2030-01-02"},
            (TimeInForce.GOOD_TIL_DATE(datetime(2030, 1, 2)), False),
        ),
    ],
)
def test_the_start_intent_is_placed_with_its_time_in_force_and_outside_rth(
    lean: types.ModuleType, workdir: Path, fields: dict[str, Any], expected: tuple[Any, bool]
) -> None:
    intent = write_intent(
        workdir, order_intent_id="oi_3_4_1", quantity=5, order_type="LMT", limit_price=189.5, **fields
    )
    algo = started(lean, workdir, intent)
    assert algo.orders_placed() == [("limit_order", "AAPL", 5, 189.5, "oi_3_4_1")]
    assert properties(algo) == [expected]


def test_an_intent_market_order_outside_rth_is_refused_as_invalid(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = started(lean, workdir, write_intent(workdir, order_intent_id="oi_3_4_2", outside_rth=True))
    assert algo.orders_placed() == []
    (line,) = invalid_lines(workdir)
    assert line["tag"] == "oi_3_4_2" and "outside_rth" in line["message"]


def test_the_algorithm_registers_its_order_command(lean: types.ModuleType, workdir: Path) -> None:
    algo = started(lean, workdir)
    assert ("add_command", "TradedeskOrderCommand") in algo.calls


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, (TimeInForce.DAY, False)),
        ({"time_in_force": "GTC", "outside_rth": True}, (TimeInForce.GOOD_TIL_CANCELED, True)),
        (
            {"time_in_force": "GTD", "good_till_date": "2030-01-02", "outside_rth": True},
            (TimeInForce.GOOD_TIL_DATE(datetime(2030, 1, 2)), True),
        ),
    ],
)
def test_an_order_command_is_placed_with_its_properties_and_succeeds(
    lean: types.ModuleType, workdir: Path, fields: dict[str, Any], expected: tuple[Any, bool]
) -> None:
    algo = started(lean, workdir)
    assert algo.run_callback_command(command(**fields)) is True
    assert algo.orders_placed() == [("limit_order", "AAPL", 5, 189.5, "oi_3_5_1")]
    assert properties(algo) == [expected]
    assert ("add_equity", "AAPL", lean.Resolution.SECOND) in algo.calls  # subscribed for the order


def test_a_market_on_open_command_and_a_stop_limit_keep_their_time_in_force(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = started(lean, workdir)
    moo = command(order_type="MarketOnOpen", limit_price=None, tag="oi_moo")
    stop_limit = command(
        order_type="STP LMT", stop_price=190, time_in_force="GTC", outside_rth=True, tag="oi_sl"
    )
    assert algo.run_callback_command(moo) is True
    assert algo.run_callback_command(stop_limit) is True
    assert algo.orders_placed() == [
        ("market_on_open_order", "AAPL", 5, True, "oi_moo"),
        ("stop_limit_order", "AAPL", 5, 190, 189.5, "oi_sl"),
    ]
    assert properties(algo) == [(TimeInForce.DAY, False), (TimeInForce.GOOD_TIL_CANCELED, True)]


def test_a_command_lean_refuses_answers_false_with_the_orders_invalid_line(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = started(lean, workdir)
    algo.refuse = "There is no data for this symbol yet"
    assert algo.run_callback_command(command()) is False
    (line,) = invalid_lines(workdir)
    assert line["tag"] == "oi_3_5_1" and line["message"] == "There is no data for this symbol yet"


def test_a_command_with_a_time_in_force_ib_does_not_take_is_refused(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = started(lean, workdir)
    payload = {**command(), "TimeInForce": "ImmediateOrCancel"}
    assert algo.run_callback_command(payload) is False
    assert algo.orders_placed() == []
    (line,) = invalid_lines(workdir)
    assert line["tag"] == "oi_3_5_1" and "time_in_force" in line["message"]


def test_a_gtd_command_without_its_date_is_refused(lean: types.ModuleType, workdir: Path) -> None:
    algo = started(lean, workdir)
    assert (
        algo.run_callback_command({**command(), "TimeInForce": "GoodTilDate", "GoodTilDate": None}) is False
    )
    assert algo.orders_placed() == [] and invalid_lines(workdir)[0]["tag"] == "oi_3_5_1"


def test_an_order_command_before_the_algorithm_registered_one_has_no_result(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None)
    assert algo.run_callback_command(command()) is None  # LEAN logs "unregistered command type"
