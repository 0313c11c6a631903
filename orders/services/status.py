"""Status changes and fills that tradedesk records itself, as events through the same ledger."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from orders.errors import Conflict, Forbidden, OrderValidationError
from orders.models import (
    MONEY_PLACES,
    PRICE_PLACES,
    QTY_PLACES,
    STATUS_RANK,
    OrderStatus,
    TradeOrder,
)
from orders.services.audit import Actor, audit_record
from orders.services.ledger import BatchReport, LedgerEvent, apply_engine_events
from orders.services.projects import project_lock
from orders.services.validation import decimal_input, quantize

logger = logging.getLogger("orders")


def _recorded_key(payload: dict[str, Any]) -> str:
    """The key of an event tradedesk records: the SHA-256 of its JSON, which carries a random nonce."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _tradedesk_event(order: TradeOrder, status: str, message: str, at: datetime | None) -> LedgerEvent:
    at = at or timezone.now()
    payload = {
        "tag": order.client_order_id,
        "status": status,
        "origin": "tradedesk",
        "time": at.isoformat(),
        "message": message,
        "nonce": uuid.uuid4().hex,
    }
    return LedgerEvent(
        key=_recorded_key(payload),
        tag=order.client_order_id,
        status=status,
        payload=payload,
        origin="tradedesk",
        target=status,
        time=at,
        message=message,
    )


@dataclass(frozen=True)
class StatusChange:
    """The outcome of a requested status change."""

    order: TradeOrder
    applied: bool
    previous: str


def update_trade_orders_status(
    changes: Iterable[tuple[TradeOrder, str, str]], *, at: datetime | None = None, source: str = "tradedesk"
) -> BatchReport:
    """Batch form of update_trade_order_status: (order, status, message) triples, one transaction."""
    events = []
    for order, status, message in changes:
        if status not in STATUS_RANK:
            raise ValueError(f"unknown order status {status!r}")
        events.append(_tradedesk_event(order, status, message, at))
    return apply_engine_events(events, source=source)


def update_trade_order_status(
    order: TradeOrder, status: str, *, message: str = "", at: datetime | None = None
) -> StatusChange:
    """Move an order to `status` if the contract's rank allows; a refused move is recorded, not raised."""
    previous = TradeOrder.objects.values_list("status", flat=True).get(pk=order.pk)
    update_trade_orders_status([(order, status, message)], at=at)
    order.refresh_from_db()
    applied = order.status == status and (previous != status or order.status_message == message)
    if not applied:
        logger.warning(
            "status transition refused",
            extra={"order": order.client_order_id, "from": previous, "to": status},
        )
    return StatusChange(order=order, applied=applied, previous=previous)


def apply_fills_to_orders(fills: Iterable[dict[str, Any]], *, source: str = "tradedesk") -> BatchReport:
    """Batch form of apply_fill_to_order: dicts with order, quantity, price, fee, at, event_key."""
    events = []
    for fill in fills:
        order: TradeOrder = fill["order"]
        quantity = quantize(Decimal(str(fill["quantity"])), QTY_PLACES)
        price = quantize(Decimal(str(fill["price"])), PRICE_PLACES)
        fee = quantize(Decimal(str(fill.get("fee", 0))), MONEY_PLACES)
        if quantity <= 0 or price < 0 or fee < 0:
            raise OrderValidationError("a fill needs quantity > 0, price >= 0 and fee >= 0")
        at = fill.get("at") or timezone.now()
        payload = {
            "tag": order.client_order_id,
            "status": "Fill",
            "origin": "tradedesk",
            "filled": str(quantity),
            "fill_price": str(price),
            "fee": str(fee),
            "time": at.isoformat(),
        }
        key = fill.get("event_key") or _recorded_key({**payload, "nonce": uuid.uuid4().hex})
        events.append(
            LedgerEvent(
                key=key,
                tag=order.client_order_id,
                status="Fill",
                payload=payload,
                origin="tradedesk",
                time=at,
                filled=quantity,
                fill_price=price,
                fee=fee,
            )
        )
    return apply_engine_events(events, source=source)


def apply_fill_to_order(
    order: TradeOrder,
    *,
    quantity: Decimal | int | str,
    price: Decimal | int | str,
    fee: Decimal | int | str = 0,
    at: datetime | None = None,
    event_key: str | None = None,
) -> TradeOrder:
    """Record one fill: the order's filled quantity, average price, fees and position move together."""
    apply_fills_to_orders(
        [{"order": order, "quantity": quantity, "price": price, "fee": fee, "at": at, "event_key": event_key}]
    )
    order.refresh_from_db()
    return order


RESOLVABLE = (OrderStatus.CANCELED, OrderStatus.FILLED)


def require_resolver(*, actor: Actor | None) -> None:
    """Forbidden unless the actor is staff: settling an unknown order is an operator's act."""
    user = actor.user if actor else None
    if user is None or not getattr(user, "is_staff", False):
        raise Forbidden("resolving an order needs a staff account")


def order_resolve_record(
    *,
    order: TradeOrder,
    status: str,
    note: str,
    quantity: Decimal | int | str | None = None,
    price: Decimal | int | str | None = None,
    actor: Actor | None = None,
) -> TradeOrder:
    """Staff settle an unknown order (its engine run died) with what the broker reports, audited.

    `quantity` is the order's total filled quantity at the broker; the part tradedesk has not recorded is
    booked as one fill at `price`. The caller (execution.actions.order_resolve) first makes sure the dead
    run's events file is fully read, so no fill is counted twice."""
    require_resolver(actor=actor)
    if status not in RESOLVABLE:
        raise OrderValidationError(
            "status must be CANCELED or FILLED", errors={"status": "CANCELED or FILLED"}
        )
    note = (note or "").strip()
    if not note:
        raise OrderValidationError(
            "a note is required", errors={"note": "required: what the broker reported"}
        )
    with transaction.atomic():
        project_lock(project_id=order.project_id)
        locked = TradeOrder.objects.select_for_update().get(pk=order.pk)
        if not locked.is_unknown:
            raise Conflict("only an unknown order (its engine run died while it was working) can be resolved")
        missing = Decimal(0)
        if quantity is not None:
            total = decimal_input(quantity, field_name="quantity", places=QTY_PLACES)
            if total < locked.filled_quantity:
                raise OrderValidationError(
                    f"the broker quantity is below the {locked.filled_quantity} already recorded",
                    errors={"quantity": f"at least {locked.filled_quantity}"},
                )
            missing = total - locked.filled_quantity
        elif status == OrderStatus.FILLED:
            raise OrderValidationError("FILLED needs the broker's quantity", errors={"quantity": "required"})
        if missing > 0:
            if price is None or decimal_input(price, field_name="price", places=PRICE_PLACES) <= 0:
                raise OrderValidationError(
                    "a fill needs the broker's price", errors={"price": "required, > 0"}
                )
            apply_fills_to_orders([{"order": locked, "quantity": missing, "price": price}], source="resolve")
        update_trade_orders_status([(locked, status, f"resolved by staff: {note}")], source="resolve")
        TradeOrder.objects.filter(pk=locked.pk).update(flag="", flag_message="", updated_at=timezone.now())
        audit_record(
            actor=actor,
            action="order_resolve",
            project=locked.project,
            order=locked,
            detail={"status": status, "quantity": None if quantity is None else str(quantity),
                    "price": None if price is None else str(price), "note": note},
        )  # fmt: skip
    order.refresh_from_db()
    return order
