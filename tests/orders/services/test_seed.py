"""Seeded history (orders/services/seed.py): a filled order of source "seed", opened now or at a given time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from orders.models import OrderStatus, Position, TradeFill
from orders.services import order_seed_filled

pytestmark = pytest.mark.django_db


def test_a_seeded_order_is_filled_opens_its_position_and_is_never_sent(project: Any, user: Any) -> None:
    order = order_seed_filled(
        project=project,
        client_order_id="seed_a",
        symbol="AAPL",
        side="BUY",
        quantity=10,
        price="189.20",
        user=user,
    )
    order.refresh_from_db()
    assert (order.status, order.filled_quantity, order.created_by) == (OrderStatus.FILLED, Decimal(10), user)
    assert order.params["source"] == "seed" and not order.is_manual and order.dispatched_at is None
    position = Position.objects.get(project=project, mode=project.mode, symbol="AAPL")
    assert (position.quantity, position.avg_cost) == (Decimal(10), Decimal("189.20"))


def test_a_seeded_order_opened_earlier_is_submitted_a_second_later_and_filled_a_second_after(
    project: Any,
) -> None:
    opened = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    order = order_seed_filled(
        project=project,
        client_order_id="seed_b",
        symbol="MSFT",
        side="SELL",
        quantity=5,
        price="410.45",
        fee=Decimal(1),
        opened_at=opened,
        event_key="seed-b",
    )
    order.refresh_from_db()
    fill = TradeFill.objects.get(order=order)
    assert order.created_at == opened
    assert fill.filled_at == order.last_status_ts == opened + timedelta(seconds=2)
    assert (fill.fee, fill.event_key) == (Decimal(1), "seed-b")
    assert Position.objects.get(project=project, symbol="MSFT").quantity == Decimal(-5)
