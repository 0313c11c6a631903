"""The order-intent file: what tradedesk asks the engine to do for one order (contract format)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from execution.contract.files import write_json_atomic
from execution.contract.times import contract_time

if TYPE_CHECKING:  # a type only: the contract imports nothing of the project at run time
    from orders.models import TradeOrder


def json_number(value: Decimal | None) -> int | float | None:
    """A Decimal as a JSON number: an int when integral, else a float."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def intent_payload(order: TradeOrder) -> dict[str, object]:
    """The intent of an order; quantity is signed (BUY positive, SELL negative); stop_price null but for STP;
    trailing_amount / trailing_as_percent only on TRAIL, trigger_price only on LIT (null / false otherwise)."""
    return {
        "order_intent_id": order.client_order_id,
        "symbol": order.symbol,
        "quantity": json_number(order.signed_quantity),
        "order_type": order.order_type,
        "limit_price": json_number(order.limit_price),
        "stop_price": json_number(order.stop_price),
        "trailing_amount": json_number(order.trailing_amount),
        "trailing_as_percent": order.trailing_as_percent,
        "trigger_price": json_number(order.trigger_price),
        "weight": None,
        "project_id": order.project_id,
        "mode": order.mode,
        "created_at": contract_time(order.created_at),
    }


def write_manual_order_intent(order: TradeOrder, output_dir: Path) -> Path:
    """Write `<output_dir>/<client_order_id>.json` atomically and return its path."""
    return write_json_atomic(Path(output_dir) / f"{order.client_order_id}.json", intent_payload(order))
