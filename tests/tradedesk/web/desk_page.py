"""The live-trade page's addresses, a seeded position, and the ticket and row forms its tests post."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse

from orders.models import OrderStatus, Position, Project
from orders.services import apply_fill_to_order, update_trade_order_status
from tests.factories import TradeOrderFactory

PAGE = reverse("live-trade")
NEW_ORDER = reverse("live-trade-order-new")
HTMX = {"HTTP_HX_REQUEST": "true"}


def seed_position(
    project: Project, symbol: str = "AAPL", quantity: int = 10, price: str = "189.20"
) -> Position:
    """A filled seed order, so the project holds a position."""
    order = TradeOrderFactory(
        project=project,
        symbol=symbol,
        quantity=Decimal(quantity),
        params={"source": "seed", "project_id": project.pk, "mode": project.mode},
    )
    update_trade_order_status(order, OrderStatus.SUBMITTED)
    apply_fill_to_order(order, quantity=quantity, price=price)
    update_trade_order_status(order, OrderStatus.FILLED)
    return Position.objects.get(project=project, mode=project.mode, symbol=symbol)


def ticket(project: Project, **fields: Any) -> dict[str, Any]:
    """A ticket submission."""
    data = {
        "project": project.pk,
        "origin": "ticket",
        "client_order_id": f"oi_test_{fields.pop('key', 'k1')}",
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": "1",
        "order_type": "MKT",
        "limit_price": "",
    }
    data.update(fields)
    return data


def row(project: Project, side: str, quantity: str, key: str, symbol: str = "AAPL") -> dict[str, Any]:
    """A positions row's Buy / Sell."""
    return {
        "project": project.pk,
        "origin": "row",
        "symbol": symbol,
        "side": side,
        "order_type": "MKT",
        "quantity": quantity,
        "client_order_id": key,
    }
