"""Seeded history: filled orders of source "seed" (never sent to an engine) for the demo and the browser tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from orders.models import SOURCE_SEED, OrderStatus, Project, TradeOrder
from orders.services.status import apply_fill_to_order, update_trade_order_status


def order_seed_filled(
    *,
    project: Project,
    client_order_id: str,
    symbol: str,
    side: str,
    quantity: Decimal | int,
    price: Decimal | int | str,
    fee: Decimal | int = 0,
    user: Any = None,
    opened_at: datetime | None = None,
    event_key: str | None = None,
) -> TradeOrder:
    """A seeded order, SUBMITTED and then filled in full; opened at `opened_at` (submitted a second later,
    filled a second after that) or, without it, all now."""
    with transaction.atomic():
        order = TradeOrder.objects.create(
            client_order_id=client_order_id,
            project=project,
            mode=project.mode,
            symbol=symbol,
            side=side,
            quantity=Decimal(quantity),
            params={"source": SOURCE_SEED, "project_id": project.pk, "mode": project.mode},
            created_by=user,
        )
        submitted = filled = None
        if opened_at is not None:
            # created_at is auto_now_add: backdated by an update, before any status time is recorded.
            TradeOrder.objects.filter(pk=order.pk).update(created_at=opened_at)
            submitted, filled = opened_at + timedelta(seconds=1), opened_at + timedelta(seconds=2)
        update_trade_order_status(order, OrderStatus.SUBMITTED, message="seeded", at=submitted)
        apply_fill_to_order(order, quantity=quantity, price=price, fee=fee, at=filled, event_key=event_key)
        update_trade_order_status(order, OrderStatus.FILLED, message="seeded", at=filled)
    return order
