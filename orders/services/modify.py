"""Modifying a working order: the request (checked like a new order), the engine's answer, the ledger's settle.

A modify never changes the order's quantity or prices by itself: the requested values wait in the order's
`update_*` columns (`update_pending`) until the engine confirms them with an UpdateSubmitted event; an engine
that refuses the update, or an order that closes first, drops them (docs/engine-contract.md section 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.errors import Conflict, Forbidden, OrderValidationError
from orders.models import (
    LIMIT_PRICE_TYPES,
    MAX_TRAILING_PERCENT,
    QTY_PLACES,
    STOP_PRICE_TYPES,
    TRAILING_TYPES,
    TRIGGER_PRICE_TYPES,
    OrderStatus,
    TradeOrder,
)
from orders.services.audit import Actor, audit_record
from orders.services.projects import project_lock, require_live_permission
from orders.services.risk import check_new_order
from orders.services.validation import CleanOrder, _clean_price, decimal_input, order_lots_and_ticks_check

# LEAN's status name of the event that confirms an update (IB plugin InteractiveBrokersBrokerage.cs 2429).
UPDATE_CONFIRMED_STATUS = "UpdateSubmitted"
# The messages of the OrderEvent LEAN emits when an accepted update fails later (QuantConnect/Lean@24863901
# Engine/TransactionHandlers/BrokerageTransactionHandler.cs HandleUpdateOrderRequest): the update is dropped.
UPDATE_FAILED_MESSAGES = (
    "Brokerage failed to update order",
    "BrokerageModel declared unable to update order",
)
CLEAR_REASON_MAX = 500
_UPDATE_FIELDS = (
    "update_pending",
    "update_quantity",
    "update_limit_price",
    "update_stop_price",
    "update_trailing_amount",
    "update_trigger_price",
    "update_requested_at",
    "updated_at",
)


@dataclass(frozen=True)
class ModifyRequest:
    """A stored modify: the order and the values asked for (None: unchanged)."""

    order: TradeOrder
    quantity: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    trigger_price: Decimal | None = None
    trailing_amount: Decimal | None = None  # in the order's unit: a percent for a percent trailing stop


@dataclass(frozen=True)
class _Values:
    """The cleaned values of a modify (None: unchanged)."""

    quantity: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trigger_price: Decimal | None = None
    trailing_amount: Decimal | None = None


def order_modify_refusal(order: TradeOrder) -> str | None:
    """Why this order cannot be modified now, or None (the text is a SERVICE_REASONS key of the page)."""
    if order.status == OrderStatus.HELD:
        return "a bracket's leg is sent when its entry fills: it can be modified then"
    if order.status not in (OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED):
        if order.status == OrderStatus.CANCEL_PENDING:
            return "a cancel is pending for this order: it cannot be modified"
        return f"order is {order.status} and cannot be modified"
    if order.is_unknown:
        return "the engine run that held this order is down: it cannot be modified until staff resolve it"
    if not order.engine_record.sent or order.dispatched_at is None:
        return "the order has not been sent to an engine yet; try again in a moment"
    if order.ib_order_id is None:
        return "the engine has not acknowledged this order yet; try again in a moment"
    if order.update_pending:
        return "an update of this order is already pending"
    if order.overfilled:
        return "the order is overfilled: it cannot be modified"
    return None


def _clean_values(
    order: TradeOrder,
    *,
    quantity: Any,
    limit_price: Any,
    stop_price: Any,
    trigger_price: Any,
    trailing_amount: Any,
) -> _Values:
    """The requested values, validated like a new order's (the order's type decides which prices it has).

    A trigger changes only a limit if touched's and a trailing amount only a trailing stop's (in its own unit:
    whether it trails by a percent cannot change, LEAN's UpdateOrderFields has no such field:
    Common/Orders/UpdateOrderFields.cs:21-52@24863901); a trailing stop's stop is the engine's."""
    errors: dict[str, str] = {}
    new_quantity: Decimal | None = None
    if quantity not in (None, "") and order.parent_id is not None:
        errors["quantity"] = "a bracket leg's quantity follows its entry's fills: change its price only"
    elif quantity not in (None, ""):
        try:
            new_quantity = decimal_input(quantity, field_name="quantity", places=QTY_PLACES)
        except OrderValidationError as exc:
            errors.update(exc.errors)
        else:
            if new_quantity <= 0:
                errors["quantity"] = "must be greater than 0"
            elif new_quantity <= order.filled_quantity:
                errors["quantity"] = (
                    f"must be more than the {order.filled_quantity.normalize():f} already filled"
                )
    new_limit = _price(order, limit_price, "limit_price", LIMIT_PRICE_TYPES, errors)
    new_stop = _price(order, stop_price, "stop_price", STOP_PRICE_TYPES, errors)
    new_trigger = _price(order, trigger_price, "trigger_price", TRIGGER_PRICE_TYPES, errors)
    new_trailing = _price(order, trailing_amount, "trailing_amount", TRAILING_TYPES, errors)
    if new_trailing is not None and order.trailing_as_percent and new_trailing >= MAX_TRAILING_PERCENT:
        # A sell stop at price * (1 - 100 %) is zero (Common/Orders/TrailingStopOrder.cs:184-189@24863901).
        errors["trailing_amount"] = f"a trailing percent must be below {MAX_TRAILING_PERCENT}"
    values = _Values()
    if not errors:
        values = _Values(
            quantity=None if new_quantity == order.quantity else new_quantity,
            limit_price=None if new_limit == order.limit_price else new_limit,
            stop_price=None if new_stop == order.stop_price else new_stop,
            trigger_price=None if new_trigger == order.trigger_price else new_trigger,
            trailing_amount=None if new_trailing == order.trailing_amount else new_trailing,
        )
        if values == _Values():
            errors["quantity"] = "nothing to change: give a new quantity or price"
    if errors:
        first = next(iter(errors.items()))
        raise OrderValidationError(f"{first[0]}: {first[1]}", errors=errors)
    return values


# Why a price field does not apply to the order's type (the new order's own reasons, validation.py).
_NOT_OF_TYPE = {
    "limit_price": "only a limit order has a limit price",
    "stop_price": "only a stop order has a stop price",
    "trigger_price": "only a limit-if-touched order has a trigger price",
    "trailing_amount": "only a trailing stop has a trailing amount",
}


def _price(
    order: TradeOrder, raw: Any, field: str, types: frozenset[str], errors: dict[str, str]
) -> Decimal | None:
    """One requested price, or None when not given; a field the order's type does not have is an error."""
    if raw in (None, ""):
        return None
    if order.order_type not in types:
        errors[field] = _NOT_OF_TYPE[field]
        return None
    return _clean_price(raw, field_name=field, errors=errors)


def _off_tick(changed: CleanOrder, values: _Values) -> None:
    """Refuse a changed price off the tick as a new order's (order_lots_and_ticks_check), naming only the fields
    this modify changes: an order placed before a rule keeps what it had."""
    asked = {name for name, value in vars(values).items() if value is not None}
    try:
        order_lots_and_ticks_check(changed)
    except OrderValidationError as exc:
        errors = {name: reason for name, reason in exc.errors.items() if name in asked}
        if errors:
            first = next(iter(errors.items()))
            raise OrderValidationError(f"{first[0]}: {first[1]}", errors=errors) from None


def order_modify_record(
    *,
    order: TradeOrder,
    quantity: Any = None,
    limit_price: Any = None,
    stop_price: Any = None,
    trigger_price: Any = None,
    trailing_amount: Any = None,
    user: Any,
    actor: Actor | None = None,
) -> ModifyRequest:
    """Check and store a modify of a working order (project lock, then the order): the engine confirms it."""
    with transaction.atomic():
        project = project_lock(project_id=order.project_id)
        locked = TradeOrder.objects.select_for_update().get(pk=order.pk)
        refusal = order_modify_refusal(locked)
        if refusal is not None:
            raise Conflict(refusal)
        values = _clean_values(
            locked,
            quantity=quantity,
            limit_price=limit_price,
            stop_price=stop_price,
            trigger_price=trigger_price,
            trailing_amount=trailing_amount,
        )
        if values.quantity is not None and values.quantity > locked.quantity:
            # A bigger order adds risk; a smaller one or a new price is open to every member.
            require_live_permission(user=user, project=project)
        changed = CleanOrder(
            symbol=locked.symbol,
            side=locked.side,
            quantity=_or(values.quantity, locked.quantity),
            order_type=locked.order_type,
            limit_price=_or(values.limit_price, locked.limit_price),
            client_order_id=locked.client_order_id,
            project_id=project.pk,
            mode=locked.mode,
            confirm=True,
            stop_price=_or(values.stop_price, locked.stop_price),
            trailing_amount=_or(values.trailing_amount, locked.trailing_amount),
            trailing_as_percent=locked.trailing_as_percent,
            trigger_price=_or(values.trigger_price, locked.trigger_price),
        )
        _off_tick(changed, values)
        check_new_order(project=project, user=None, clean=changed, exclude_order_id=locked.pk)
        locked.update_pending = True
        locked.update_requested_at = timezone.now()
        locked.update_quantity, locked.update_limit_price = values.quantity, values.limit_price
        locked.update_stop_price, locked.update_trigger_price = values.stop_price, values.trigger_price
        locked.update_trailing_amount = values.trailing_amount
        locked.save(update_fields=list(_UPDATE_FIELDS))
        audit_record(
            actor=actor or Actor(user=user), action="order_modify", project=project, order=locked,
            detail={name: _text(value) for name, value in vars(values).items()},
        )  # fmt: skip
    return ModifyRequest(
        order=locked,
        quantity=values.quantity,
        limit_price=values.limit_price,
        stop_price=values.stop_price,
        trigger_price=values.trigger_price,
        trailing_amount=values.trailing_amount,
    )


def _or(value: Decimal | None, current: Any) -> Any:
    return value if value is not None else current


def order_modify_reject(*, order: TradeOrder, message: str, actor: Actor | None = None) -> TradeOrder:
    """Drop the pending modify the engine refused (the order itself stays as it is) and audit why."""
    with transaction.atomic():
        project_lock(project_id=order.project_id)
        locked = TradeOrder.objects.select_for_update().get(pk=order.pk)
        if locked.update_pending:
            locked.update_pending = False
            _drop_pending(locked)
        audit_record(
            actor=actor, action="order_modify_rejected", project=locked.project, order=locked,
            detail={"message": message[:500]},
        )  # fmt: skip
    return locked


def order_modify_clear(*, order: TradeOrder, reason: str, actor: Actor | None) -> TradeOrder:
    """Staff drop an unanswered update or resolve a refused one (the order keeps its values), with the reason.

    The engine may still hold the command: if it applies it later, its UpdateSubmitted no longer changes the
    order here, so the reason should say what the broker shows."""
    user = actor.user if actor else None
    if user is None or not getattr(user, "is_staff", False):
        raise Forbidden("clearing a pending update needs a staff account")
    reason = (reason or "").strip()
    if not reason or len(reason) > CLEAR_REASON_MAX:
        problem = "required" if not reason else f"at most {CLEAR_REASON_MAX} characters"
        raise OrderValidationError(f"reason: {problem}", errors={"reason": problem})
    with transaction.atomic():
        project = project_lock(project_id=order.project_id)
        locked = TradeOrder.objects.select_for_update().get(pk=order.pk)
        if not locked.update_pending and not locked.update_refused:
            raise Conflict("no update is pending for this order")
        requested_at = locked.update_requested_at
        detail = {
            "reason": reason,
            "requested_at": requested_at.isoformat() if requested_at else None,
            "quantity": _text(locked.update_quantity),
            "limit_price": _text(locked.update_limit_price),
            "stop_price": _text(locked.update_stop_price),
            "trigger_price": _text(locked.update_trigger_price),
            "trailing_amount": _text(locked.update_trailing_amount),
            "update_refused": locked.update_refused,
            "refused_message": locked.update_refused_message[:500],
        }
        if locked.update_refused:
            locked.update_refused, locked.update_refused_message = False, ""
            locked.save(update_fields=["update_refused", "update_refused_message", "updated_at"])
        _drop_pending(locked)
        audit_record(actor=actor, action="order_update_cleared", project=project, order=locked, detail=detail)
    return locked


def _drop_pending(order: TradeOrder) -> None:
    order.update_pending = False
    order.update_quantity = order.update_limit_price = order.update_stop_price = None
    order.update_trigger_price = order.update_trailing_amount = None
    order.update_requested_at = None
    order.save(update_fields=list(_UPDATE_FIELDS))


def orders_settle_updates(*, confirmed: dict[int, int], dropped: dict[int, int], now: Any = None) -> set[int]:
    """The ledger's step, set-based: apply the pending values of confirmed orders, drop those of the others.

    `confirmed`/`dropped` map order id -> project id; runs in the ingest's transaction with the orders locked.
    Returns the projects whose orders changed (one UPDATE per non-empty set, no SELECT)."""
    now = now or timezone.now()
    projects: set[int] = set()
    clear = {"update_pending": False, "update_quantity": None, "update_limit_price": None,
             "update_stop_price": None, "update_trigger_price": None, "update_trailing_amount": None,
             "update_requested_at": None, "updated_at": now}  # fmt: skip
    if confirmed:
        applied = TradeOrder.objects.filter(pk__in=confirmed, update_pending=True).update(
            quantity=Coalesce(F("update_quantity"), F("quantity")),
            limit_price=Coalesce(F("update_limit_price"), F("limit_price")),
            stop_price=Coalesce(F("update_stop_price"), F("stop_price")),
            trigger_price=Coalesce(F("update_trigger_price"), F("trigger_price")),
            trailing_amount=Coalesce(F("update_trailing_amount"), F("trailing_amount")),
            **clear,
        )
        if applied:
            projects.update(confirmed.values())
    rest = {pk: project for pk, project in dropped.items() if pk not in confirmed}
    if rest and TradeOrder.objects.filter(pk__in=rest, update_pending=True).update(**clear):
        projects.update(rest.values())
    return projects


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
