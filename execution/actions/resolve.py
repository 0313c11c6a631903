"""The resolve door: staff settle an unknown order once its dead run's events file is fully read."""

from __future__ import annotations

from decimal import Decimal

from execution.engine import process as engines
from execution.ingest.events import ingest_file
from orders.errors import Conflict
from orders.models import (
    TradeOrder,
)
from orders.services import (
    Actor,
    order_resolve_record,
    require_resolver,
)


def order_resolve(
    *,
    order: TradeOrder,
    status: str,
    note: str,
    quantity: Decimal | str | None = None,
    price: Decimal | str | None = None,
    actor: Actor | None = None,
) -> TradeOrder:
    """Staff settle an unknown order, once its dead run's events file is fully read (no fill counted twice)."""
    require_resolver(actor=actor)
    if not order.is_unknown:
        raise Conflict("only an unknown order (its engine run died while it was working) can be resolved")
    if engines.engine_holds(order):
        raise Conflict("the engine run that holds this order is running again; cancel the order instead")
    report = ingest_file(engines.engine_folder(order.mode).events)
    if report.pending_bytes:
        raise Conflict("the engine's events file ends in an unfinished line; try again once it is complete")
    order.refresh_from_db()
    return order_resolve_record(
        order=order, status=status, note=note, quantity=quantity, price=price, actor=actor
    )
