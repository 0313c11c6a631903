"""Closing positions: one closing order per held symbol, liquidation of a whole project."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from orders.models import (
    WORKING_STATUSES,
    OrderType,
    Position,
    Project,
    Side,
    TradeOrder,
)
from orders.services.audit import Actor, audit_record
from orders.services.orders import create_trade_order


def positions_close(
    *, project: Project, symbols: Iterable[str], user: Any = None, actor: Actor | None = None
) -> tuple[list[TradeOrder], dict[str, str]]:
    """One closing order per symbol for what is held and not already being closed; skips say why."""
    from django.db.models import Sum

    created: list[TradeOrder] = []
    skipped: dict[str, str] = {}
    wanted = sorted({str(symbol).strip().upper() for symbol in symbols})
    positions = {
        p.symbol: p for p in Position.objects.filter(project=project, mode=project.mode, symbol__in=wanted)
    }
    for symbol in wanted:
        position = positions.get(symbol)
        if position is None or position.quantity == 0:
            skipped[symbol] = "no position"
            continue
        side = Side.SELL if position.quantity > 0 else Side.BUY
        # Working orders already closing this position count, so a double click never flips it.
        working = TradeOrder.objects.filter(
            project=project, mode=project.mode, symbol=symbol, side=side, status__in=WORKING_STATUSES
        ).aggregate(q=Sum("quantity"), f=Sum("filled_quantity"))
        pending = (working["q"] or Decimal(0)) - (working["f"] or Decimal(0))
        quantity = abs(position.quantity) - pending
        if quantity <= 0:
            skipped[symbol] = "already being closed"
            continue
        result = create_trade_order(
            {
                "project_id": project.pk,
                "symbol": symbol,
                "side": side,
                "quantity": str(quantity),
                "order_type": OrderType.MKT,
                "confirm": True,
            },
            user=user,
            actor=actor,
            extra_params={"action": "close"},
        )
        created.append(result.order)
    audit_record(
        actor=actor or Actor(user=user),
        action="positions_close",
        project=project,
        detail={"symbols": wanted, "orders": [o.client_order_id for o in created], "skipped": skipped},
    )
    return created, skipped


def positions_liquidate(
    *, project: Project, user: Any = None, actor: Actor | None = None
) -> tuple[list[TradeOrder], dict[str, str]]:
    """Close every non-zero position of the project (one tagged closing order each)."""
    symbols = list(
        Position.objects.filter(project=project, mode=project.mode)
        .exclude(quantity=0)
        .values_list("symbol", flat=True)
    )
    audit_record(
        actor=actor or Actor(user=user), action="liquidate", project=project, detail={"symbols": symbols}
    )
    return positions_close(project=project, symbols=symbols, user=user, actor=actor)
