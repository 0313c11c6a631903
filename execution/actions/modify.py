"""Modify on the engine side: tradedesk's update command to the run that holds the order, and its answer."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from execution.contract import COMMAND_REFUSED, command_refusal
from execution.contract.intents import json_number
from execution.engine import process as engines
from orders.errors import Conflict
from orders.models import Side, TradeOrder
from orders.services import (
    Actor,
    order_modify_clear,
    order_modify_record,
    order_modify_refusal,
    order_modify_reject,
)

# The refused update's flag is cleared by staff through the same door (no engine is asked).
__all__ = ["order_modify", "order_modify_clear"]

logger = logging.getLogger("execution")
# LEAN's result of a refused UpdateOrderCommand gives no reason (execution.contract.command_refusal).
UPDATE_REFUSED_SEE_LOG = "the update was refused by the engine, see engine.log"


def _signed(order: TradeOrder, quantity: Decimal | None) -> int | float | None:
    if quantity is None:
        return None
    return json_number(quantity if order.side == Side.BUY else -quantity)


def order_modify(
    *,
    order: TradeOrder,
    quantity: Any = None,
    limit_price: Any = None,
    stop_price: Any = None,
    trigger_price: Any = None,
    trailing_amount: Any = None,
    user: Any,
    actor: Actor | None = None,
) -> TradeOrder:
    """Modify a working order: checked and stored as pending, then a TradedeskUpdateCommand to its engine
    (LEAN's UpdateOrderCommand fields plus a trigger and a trailing amount: execution.contract.update_command).

    The engine's refusal (Success false) or a run that died unread drops the pending values and raises
    Conflict with the reason; the values become the order's with the engine's UpdateSubmitted event (a true
    Success is only LEAN's synchronous check, never final)."""
    # The order's own refusal (final, unknown, unsent...) says more than "its run has ended"; both are
    # checked again under the lock by order_modify.
    refusal = order_modify_refusal(order)
    if refusal is not None:
        raise Conflict(refusal)
    if order.engine_record.sent and not engines.engine_holds(order):
        raise Conflict("the engine run that holds this order is no longer running: it cannot be modified")
    request = order_modify_record(
        order=order,
        quantity=quantity,
        limit_price=limit_price,
        stop_price=stop_price,
        trigger_price=trigger_price,
        trailing_amount=trailing_amount,
        user=user,
        actor=actor,
    )
    locked = request.order
    assert locked.ib_order_id is not None  # order_modify refuses an order the engine has not acknowledged
    command = engines.update_command(
        command_id=engines.command_id_for(f"{locked.client_order_id}:update:{timezone.now().timestamp()}"),
        engine_order_id=locked.ib_order_id,
        quantity=_signed(locked, request.quantity),
        limit_price=json_number(request.limit_price),
        stop_price=json_number(request.stop_price),
        trigger_price=json_number(request.trigger_price),
        trailing_amount=json_number(request.trailing_amount),
        trailing_as_percent=locked.trailing_as_percent,
    )
    try:
        engines.send_command(locked.mode, command)
    except Exception as exc:
        order_modify_reject(order=locked, message=f"could not send the update: {exc}", actor=actor)
        raise Conflict(f"the update could not be sent to the engine: {exc}") from exc
    result = engines.wait_command_result(
        locked.mode, command["Id"], timeout=settings.TRADEDESK_COMMAND_RESULT_TIMEOUT
    )
    unread = result is None and not engines.running_engine(locked.mode)
    if unread and engines.retract_command(locked.mode, command["Id"]):
        order_modify_reject(order=locked, message="the engine stopped before reading the update", actor=actor)
        raise Conflict("the engine stopped before reading the update: the order is unchanged")
    refusal = command_refusal(result)
    if refusal is not None:
        order_modify_reject(order=locked, message=refusal, actor=actor)
        if refusal == COMMAND_REFUSED:
            raise Conflict(UPDATE_REFUSED_SEE_LOG)
        raise Conflict(f"the engine refused the update: {refusal}")
    # A true Success means only that LEAN's synchronous checks passed: the values stay pending until the
    # engine's UpdateSubmitted (or its refusal) arrives.
    locked.refresh_from_db()
    return locked
