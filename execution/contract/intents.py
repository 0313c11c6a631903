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
    time_in_force DAY / GTC / GTD (good_till_date then YYYY-MM-DD, else null) and outside_rth."""
    return {
        "order_intent_id": order.client_order_id,
        "symbol": order.symbol,
        "quantity": json_number(order.signed_quantity),
        "order_type": order.order_type,
        "limit_price": json_number(order.limit_price),
        "stop_price": json_number(order.stop_price),
        "time_in_force": order.time_in_force,
        "good_till_date": order.good_till_date.isoformat() if order.good_till_date else None,
        "outside_rth": bool(order.outside_rth),
        "weight": None,
        "project_id": order.project_id,
        "mode": order.mode,
        "created_at": contract_time(order.created_at),
    }


def write_manual_order_intent(order: TradeOrder, output_dir: Path) -> Path:
    """Write `<output_dir>/<client_order_id>.json` atomically and return its path."""
    return write_json_atomic(Path(output_dir) / f"{order.client_order_id}.json", intent_payload(order))
