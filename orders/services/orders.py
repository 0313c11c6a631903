"""Creating orders (idempotent on client_order_id) and reviewing them."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.errors import Conflict, EngineDown, OrderValidationError
from orders.models import (
    SOURCE_MANUAL,
    BracketRole,
    BracketState,
    OrderType,
    Project,
    TradeOrder,
)
from orders.services.audit import Actor, audit_record
from orders.services.brackets import BracketLegs, bracket_children_create, bracket_legs_resolve
from orders.services.projects import (
    project_default_for,
    project_for_user,
    project_lock,
    require_live_permission,
)
from orders.services.risk import check_new_order
from orders.services.stages import order_stages_start
from orders.services.validation import CleanOrder, clean_order_payload, order_lots_and_ticks_check

# Why an order type cannot be placed now ("" when it can): the market-hours rule, from the engine side.
TypeRefusal = Callable[..., str]


@dataclass(frozen=True)
class OrderCreateResult:
    """What create_trade_order did: the order and whether it is new."""

    order: TradeOrder
    created: bool


# mode -> why no engine will take an order of that mode now, or "" (the execution layer supplies it:
# execution.dispatch.engine_down_reason).
EngineGate = Callable[[str], str]


def order_engine_down_check(*, mode: str, engine_down: EngineGate | None) -> None:
    """The one engine-down rule of new orders, closes and liquidations: refused (nothing stored) with the reason."""
    reason = engine_down(mode) if engine_down is not None else ""
    if reason:
        raise EngineDown(reason)


def client_order_id_new(*, project_id: Any, user_id: Any) -> str:
    """A fresh idempotency key: oi_<project>_<user>_<ms>_<random> (matches CLIENT_ORDER_ID_REGEX)."""
    return f"oi_{project_id or 0}_{user_id or 0}_{int(time.time() * 1000)}_{secrets.token_hex(3)}"


def _same_order(order: TradeOrder, clean: CleanOrder, project: Project) -> bool:
    return (
        order.project_id == project.pk
        and order.symbol == clean.symbol
        and order.side == clean.side
        and order.quantity == clean.quantity
        and order.order_type == clean.order_type
        and order.limit_price == clean.limit_price
        and (order.stop_price == clean.stop_price or order.order_type == OrderType.TRAIL)
        and order.trailing_amount == clean.trailing_amount
        and order.trailing_as_percent == clean.trailing_as_percent
        and order.trigger_price == clean.trigger_price
        and order.time_in_force == clean.time_in_force
        and order.good_till_date == clean.good_till_date
        and order.outside_rth == clean.outside_rth
        and (order.bracket_role == BracketRole.ENTRY) == clean.is_bracket
    )


def _replay_or_conflict(*, existing: TradeOrder, clean: CleanOrder, project: Project) -> OrderCreateResult:
    if _same_order(existing, clean, project):
        return OrderCreateResult(order=existing, created=False)
    raise Conflict(f"client_order_id {existing.client_order_id} was already used for a different order")


def create_trade_order(
    payload: dict[str, Any],
    *,
    user: Any = None,
    source: str = SOURCE_MANUAL,
    actor: Actor | None = None,
    extra_params: dict[str, Any] | None = None,
    type_refusal: TypeRefusal | None = None,
    engine_down: EngineGate | None = None,
    project: Project | None = None,
) -> OrderCreateResult:
    """Create an order, idempotent on client_order_id; the signal hands manual orders to the engine.

    Lookup, checks, insert and audit run in one transaction under the project lock, so parallel requests
    (a double click, a retried POST) are decided one after the other. `type_refusal` is the engine side's
    word on whether the order's type can be placed now (the place door passes the market-hours rule).
    `project` is the payload's project as the caller already read it for `user` (project_for_user): not
    read again (the lock reads it anyway)."""
    clean = clean_order_payload(payload)
    if clean.project_id is None:
        project = project_default_for(user=user)
    elif project is None or project.pk != clean.project_id:
        project = project_for_user(user=user, project_id=clean.project_id)
    with transaction.atomic():
        locked = project_lock(project_id=project.pk)
        return order_create_locked(
            project=locked,
            clean=clean,
            user=user,
            source=source,
            actor=actor,
            extra_params=extra_params,
            type_refusal=type_refusal,
            engine_down=engine_down,
        )


def order_create_locked(
    *,
    project: Project,
    clean: CleanOrder,
    user: Any,
    source: str = SOURCE_MANUAL,
    actor: Actor | None = None,
    extra_params: dict[str, Any] | None = None,
    closing: bool = False,
    type_refusal: TypeRefusal | None = None,
    engine_down: EngineGate | None = None,
) -> OrderCreateResult:
    """Create an order in the caller's transaction, which holds the project lock (project_lock)."""
    if clean.mode is not None and clean.mode != project.mode:
        raise OrderValidationError(
            f"mode {clean.mode} differs from the project's mode {project.mode}",
            errors={"mode": f"the project trades in {project.mode} mode"},
        )
    if not closing:
        # Closing reduces risk: open to every member; anything else on LIVE needs orders.trade_live.
        require_live_permission(user=user, project=project)
    # A replay is answered before any risk check: the order exists, nothing new is placed.
    if clean.client_order_id is not None:
        existing = TradeOrder.objects.filter(client_order_id=clean.client_order_id).first()
        if existing is not None:
            return _replay_or_conflict(existing=existing, clean=clean, project=project)
    # Refused here rather than accepted and turned FAILED by the dispatch a moment later.
    order_engine_down_check(mode=project.mode, engine_down=engine_down)

    refusal = type_refusal(order_type=clean.order_type) if type_refusal is not None else ""
    if refusal:
        raise OrderValidationError(refusal, errors={"order_type": refusal})
    if not closing:
        # A close is sized from the position, which may hold a fraction (a split, a transfer): it must flatten.
        order_lots_and_ticks_check(clean)
    legs = BracketLegs(take_profit=None, stop_loss=None)
    if clean.is_bracket:
        if closing:
            raise OrderValidationError("a closing order takes no bracket")
        legs = bracket_legs_resolve(project=project, clean=clean)
    check_new_order(project=project, user=user, clean=clean, closing=closing)

    client_order_id = clean.client_order_id or client_order_id_new(
        project_id=project.pk, user_id=getattr(user, "pk", None)
    )
    params: dict[str, Any] = {"source": source, "project_id": project.pk, "mode": project.mode}
    params.update(extra_params or {})
    created_by = user if getattr(user, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            order = TradeOrder.objects.create(
                client_order_id=client_order_id,
                project=project,
                mode=project.mode,
                symbol=clean.symbol,
                side=clean.side,
                quantity=clean.quantity,
                order_type=clean.order_type,
                limit_price=clean.limit_price,
                stop_price=clean.stop_price,
                trailing_amount=clean.trailing_amount,
                trailing_as_percent=clean.trailing_as_percent,
                trigger_price=clean.trigger_price,
                time_in_force=clean.time_in_force,
                good_till_date=clean.good_till_date,
                outside_rth=clean.outside_rth,
                params=params,
                created_by=created_by,
                bracket_role=BracketRole.ENTRY if legs.any else "",
                bracket_state=BracketState.OPEN if legs.any else "",
            )
            children = bracket_children_create(entry=order, legs=legs) if legs.any else []
            order_stages_start(order_id=order.pk, clicked=clean.clicked_at, committed=order.created_at)
    except IntegrityError:
        # The same client_order_id was committed meanwhile by a request for another project.
        existing = TradeOrder.objects.filter(client_order_id=client_order_id).first()
        if existing is None:
            raise
        return _replay_or_conflict(existing=existing, clean=clean, project=project)
    audit_record(
        actor=actor or Actor(user=user),
        action="order_create",
        project=project,
        order=order,
        detail={
            "client_order_id": client_order_id,
            "symbol": clean.symbol,
            "side": clean.side,
            "quantity": str(clean.quantity),
            "order_type": clean.order_type,
            "limit_price": None if clean.limit_price is None else str(clean.limit_price),
            "stop_price": None if clean.stop_price is None else str(clean.stop_price),
            **_type_detail(clean),
            "time_in_force": clean.time_in_force,
            "good_till_date": None if clean.good_till_date is None else clean.good_till_date.isoformat(),
            "outside_rth": clean.outside_rth,
            "source": source,
            **({"action": str(params["action"])} if "action" in params else {}),
            **(
                {"bracket": {child.bracket_role: child.client_order_id for child in children}}
                if children
                else {}
            ),
        },
    )
    return OrderCreateResult(order=order, created=True)


def _type_detail(clean: CleanOrder) -> dict[str, Any]:
    """The audit's fields of a trailing stop (amount, percent) and a limit if touched (trigger): only theirs."""
    if clean.order_type == OrderType.TRAIL:
        return {
            "trailing_amount": str(clean.trailing_amount),
            "trailing_as_percent": clean.trailing_as_percent,
        }
    if clean.order_type == OrderType.LIT:
        return {"trigger_price": str(clean.trigger_price)}
    return {}


def trade_order_mark_reviewed(*, order: TradeOrder, user: Any, note: str = "") -> TradeOrder:
    """Record a desk lead's review of an order; the audit keeps the reviewer and the note as written then."""
    with transaction.atomic():
        order.reviewed_by = user
        order.reviewed_at = timezone.now()
        order.review_note = note
        order.save(update_fields=["reviewed_by", "reviewed_at", "review_note", "updated_at"])
        audit_record(
            actor=Actor(user=user, channel="admin"),
            action="review",
            project=order.project,
            order=order,
            detail={"reviewer": getattr(user, "username", "") or "", "note": note},
        )
    return order
