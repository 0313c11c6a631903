"""The place door: a new order (idempotency, the engine-down rule, risk, duplicate guard, insert, audit) in one
transaction under the project's lock; its hand-over follows after commit (execution.signals). The plan's name
is kept."""

from __future__ import annotations

from typing import Any

from execution.dispatch import order_type_refusal
from execution.dispatch.availability import engine_down_reason
from orders.models import SOURCE_MANUAL, Project
from orders.services import Actor, OrderCreateResult
from orders.services import create_trade_order as order_create

__all__ = ["create_trade_order"]


def create_trade_order(
    payload: dict[str, Any],
    *,
    user: Any = None,
    source: str = SOURCE_MANUAL,
    actor: Actor | None = None,
    extra_params: dict[str, Any] | None = None,
    project: Project | None = None,
) -> OrderCreateResult:
    """Create an order (orders.services.create_trade_order), refused with 422 engine_down while the mode's
    engine is known to be down and will not be started for it, and with the market-hours rule's word on its
    type (a market on close past its cut-off is a 422, before anything is stored). `project`: the payload's
    project as the caller read it for `user`, not read again."""
    return order_create(
        payload,
        user=user,
        source=source,
        actor=actor,
        extra_params=extra_params,
        engine_down=engine_down_reason,
        type_refusal=order_type_refusal,
        project=project,
    )
