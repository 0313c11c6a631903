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

from django.utils import timezone

from orders.errors import OrderValidationError
from orders.models import (
    MONEY_PLACES,
    PRICE_PLACES,
    QTY_PLACES,
    STATUS_RANK,
    TradeOrder,
)
from orders.services.ledger import BatchReport, LedgerEvent, apply_engine_events
from orders.services.validation import quantize

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
