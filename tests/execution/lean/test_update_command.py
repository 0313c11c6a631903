"""The LEAN algorithm's TradedeskUpdateCommand: a modify's trigger and trailing amount reach LEAN's order.

LEAN's UpdateOrderCommand builds its UpdateOrderFields from Quantity, LimitPrice, StopPrice and Tag only
(Common/Commands/UpdateOrderCommand.cs:57-65@24863901), though the fields have TriggerPrice and TrailingAmount
(Common/Orders/UpdateOrderFields.cs:38-46), which LimitIfTouchedOrder and TrailingStopOrder apply
(LimitIfTouchedOrder.cs:99-111, TrailingStopOrder.cs:104-111); the IB plugin sends the updated order again under
its IB id (InteractiveBrokersBrokerage.cs:472-499,1611-1615,3050-3076@d154917). Excerpts:
tests/fixtures/lean/update-order-types-excerpt.json, tests/fixtures/ib/update-order-types-excerpt.json.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from execution.contract import UPDATE_COMMAND_TYPE, update_command
from tests.execution.lean.fake_lean import (
    FakeTicket,
    OrderRequestStatus,
    OrderStatus,
    lean,
    make_algorithm,
    order_event,
    read_lines,
    workdir,
)

__all__ = ["lean", "workdir"]  # fixtures used by this module's tests

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def started(lean: types.ModuleType, workdir: Path) -> Any:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    algo.on_warmup_finished()
    return algo


def working(algo: Any, order_id: int, kind: Any) -> FakeTicket:
    """A working order of this run and its ticket."""
    algo.transactions.orders[order_id] = SimpleNamespace(id=order_id, tag=f"oi_{order_id}", type=kind)
    ticket = FakeTicket(order_id, quantity=-5)
    algo.transactions.tickets[order_id] = ticket
    return ticket


def command(**fields: Any) -> dict[str, Any]:
    """An update command file exactly as tradedesk's modify writes it (execution/contract/messages.py)."""
    base: dict[str, Any] = {"command_id": "cmd-u", "engine_order_id": 7, "quantity": None, "limit_price": None,
                            "stop_price": None}  # fmt: skip
    return update_command(**{**base, **fields})


def excerpt(name: str, path: str, lines: str) -> str:
    found = [
        e
        for e in json.loads((FIXTURES / name).read_text())["excerpts"]
        if (e["path"], e["lines"]) == (path, lines)
    ]
    assert len(found) == 1
    return "\n".join(found[0]["text"])


def test_leans_update_command_cannot_carry_a_trigger_or_a_trailing_amount() -> None:
    lean_excerpts = "lean/update-order-types-excerpt.json"
    run = excerpt(lean_excerpts, "Common/Commands/UpdateOrderCommand.cs", "57-69")
    assert "StopPrice = StopPrice," in run and "TriggerPrice" not in run and "TrailingAmount" not in run
    fields = excerpt(lean_excerpts, "Common/Orders/UpdateOrderFields.cs", "38-46")
    assert "public decimal? TriggerPrice" in fields and "public decimal? TrailingAmount" in fields
    assert "TrailingAmount = request.TrailingAmount.Value;" in excerpt(
        lean_excerpts, "Common/Orders/TrailingStopOrder.cs", "104-111"
    )
    assert "TriggerPrice = request.TriggerPrice.Value;" in excerpt(
        lean_excerpts, "Common/Orders/LimitIfTouchedOrder.cs", "99-111"
    )
    plugin = "QuantConnect.InteractiveBrokersBrokerage/InteractiveBrokersBrokerage.cs"
    assert "IBPlaceOrder(order, false);" in excerpt("ib/update-order-types-excerpt.json", plugin, "472-499")
    trailing = excerpt("ib/update-order-types-excerpt.json", plugin, "3050-3062")
    assert "ibOrder.AuxPrice = NormalizePriceToBrokerage(trailingStopOrder.TrailingAmount" in trailing
    touched = excerpt("ib/update-order-types-excerpt.json", plugin, "3072-3076")
    assert "ibOrder.AuxPrice = NormalizePriceToBrokerage(limitIfTouchedOrder.TriggerPrice" in touched


def test_the_algorithm_registers_its_update_command(lean: types.ModuleType, workdir: Path) -> None:
    algo = started(lean, workdir)
    assert ("add_command", UPDATE_COMMAND_TYPE) in algo.calls
    assert command()["$type"] == UPDATE_COMMAND_TYPE == "TradedeskUpdateCommand"


def test_a_trailing_amount_in_percent_reaches_leans_ticket_as_its_fraction(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = started(lean, workdir)
    ticket = working(algo, 7, lean.OrderType.TRAILING_STOP)

    assert algo.run_callback_command(command(trailing_amount=2.5, trailing_as_percent=True)) is True

    (request,) = ticket.update_requests
    assert (request.trailing_amount, request.trigger_price, request.quantity) == (0.025, None, None)
    assert (request.limit_price, request.stop_price, request.tag) == (None, None, None)


def test_a_trigger_limit_and_quantity_reach_leans_ticket_in_one_update(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = started(lean, workdir)
    ticket = working(algo, 7, lean.OrderType.LIMIT_IF_TOUCHED)

    assert algo.run_callback_command(command(quantity=-6, limit_price=186.5, trigger_price=185.25)) is True

    (request,) = ticket.update_requests
    assert (request.quantity, request.limit_price, request.trigger_price) == (-6.0, 186.5, 185.25)
    assert request.trailing_amount is None


def test_the_update_is_counted_so_the_brokers_refusal_of_it_is_marked(
    lean: types.ModuleType, workdir: Path
) -> None:
    # IB answers a refused modify with Invalid for the order (section 6): the algorithm counts this update.
    algo = started(lean, workdir)
    working(algo, 7, lean.OrderType.TRAILING_STOP)
    algo.run_callback_command(command(trailing_amount=1))

    algo.on_order_event(order_event(order_id=7, id=2, status=OrderStatus.INVALID, message="IB error 104"))

    line = read_lines(workdir)[-1]
    assert (line["status"], line.get("update_refused")) == ("Invalid", True)


def test_an_update_lean_refuses_or_of_an_unknown_order_answers_success_false(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = started(lean, workdir)
    ticket = working(algo, 7, lean.OrderType.LIMIT_IF_TOUCHED)
    ticket.update_error = "Unable to update order with id 7 in status Filled"

    assert algo.run_callback_command(command(trigger_price=185)) is False
    assert ticket.update_requests[0].status == OrderRequestStatus.ERROR
    assert algo.run_callback_command(command(engine_order_id=99, trigger_price=185)) is False
    assert ("error", "tradedesk: update command: no order 99 in this run") in algo.calls
