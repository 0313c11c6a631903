"""The place door: a new order (idempotency, risk, duplicate guard, insert, audit) in one transaction under
the project's lock; its hand-over follows after commit (execution.signals). The plan's name is kept."""

from __future__ import annotations

from typing import Any

from execution.dispatch import order_type_refusal
from orders.models import SOURCE_MANUAL
from orders.services import Actor, OrderCreateResult
from orders.services import create_trade_order as create_order_checked


def create_trade_order(
    payload: dict[str, Any],
    *,
    user: Any = None,
    source: str = SOURCE_MANUAL,
    actor: Actor | None = None,
    extra_params: dict[str, Any] | None = None,
) -> OrderCreateResult:
    """The domain's create_trade_order, with the market-hours rule's word on the order's type (a market on
    close past its cut-off is a 422 here, before anything is stored)."""
    return create_order_checked(
        payload,
        user=user,
        source=source,
        actor=actor,
        extra_params=extra_params,
        type_refusal=order_type_refusal,
    )


__all__ = ["create_trade_order"]
