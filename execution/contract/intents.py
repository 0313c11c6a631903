"""The order-intent file: what tradedesk asks the engine to do for one order (contract format)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from execution.contract.files import write_json_atomic
from execution.contract.times import contract_time

if TYPE_CHECKING:  # a type only: the contract imports nothing of the project at run time
    from orders.models import TradeOrder


def json_number(value: Decimal | None) -> int | float | None:
    """A Decimal as a JSON number: an int when integral, else a float."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def bracket_contract(legs: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any] | None:
    """A bracket's children as the engine receives them (intent `bracket`, the order command's `Bracket`):
    `take_profit` {tag, limit_price} and/or `stop_loss` {tag, stop_price}; None for a plain order.

    No quantity: the engine sizes each child to what the entry filled (docs/engine-contract.md section 14)."""
    if not legs:
        return None
    contract: dict[str, Any] = {}
    if "take_profit" in legs:
        leg = legs["take_profit"]
        contract["take_profit"] = {"tag": leg["tag"], "limit_price": json_number(leg["price"])}
    if "stop_loss" in legs:
        leg = legs["stop_loss"]
        contract["stop_loss"] = {"tag": leg["tag"], "stop_price": json_number(leg["price"])}
    return contract or None


def intent_payload(
    order: TradeOrder, *, bracket: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, object]:
    """The intent of an order; quantity is signed (BUY positive, SELL negative); stop_price null but for STP;
    trailing_amount / trailing_as_percent only on TRAIL, trigger_price only on LIT (null / false otherwise);
    time_in_force DAY / GTC / GTD (good_till_date then YYYY-MM-DD, else null) and outside_rth; `bracket` (a
    bracket's entry only) names the children the engine places on its fills."""
    payload: dict[str, object] = {
        "order_intent_id": order.client_order_id,
        "symbol": order.symbol,
        "quantity": json_number(order.signed_quantity),
        "order_type": order.order_type,
        "limit_price": json_number(order.limit_price),
        "stop_price": json_number(order.stop_price),
        "trailing_amount": json_number(order.trailing_amount),
        "trailing_as_percent": order.trailing_as_percent,
        "trigger_price": json_number(order.trigger_price),
        "time_in_force": order.time_in_force,
        "good_till_date": order.good_till_date.isoformat() if order.good_till_date else None,
        "outside_rth": bool(order.outside_rth),
        "weight": None,
        "project_id": order.project_id,
        "mode": order.mode,
        "created_at": contract_time(order.created_at),
    }
    contract = bracket_contract(bracket)
    if contract is not None:
        payload["bracket"] = contract
    return payload


def write_manual_order_intent(
    order: TradeOrder, output_dir: Path, *, bracket: Mapping[str, Mapping[str, Any]] | None = None
) -> Path:
    """Write `<output_dir>/<client_order_id>.json` atomically and return its path."""
    payload = intent_payload(order, bracket=bracket)
    return write_json_atomic(Path(output_dir) / f"{order.client_order_id}.json", payload)
