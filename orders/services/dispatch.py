"""Dispatch bookkeeping for the engine adapter: claims, releases, records, flags."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, cast

from django.db import connections, models, transaction
from django.db.models import sql
from django.utils import timezone

from orders.models import (
    WORKING_STATUSES,
    BracketRole,
    OrderStatus,
    TradeOrder,
    engine_record_merged,
)
from orders.services.audit import Actor, audit_record
from orders.services.positions import CLOSE_ACTION, close_order_claim
from orders.services.status import update_trade_orders_status
from orders.services.versions import project_versions_bump_for_orders

logger = logging.getLogger("orders")


def trade_order_dispatch_attempts(*, order_id: int) -> int:
    """How many times the order has been claimed for dispatch (0 for an unknown order)."""
    attempts = TradeOrder.objects.filter(pk=order_id).values_list("dispatch_attempts", flat=True).first()
    return attempts or 0


def trade_order_claim_for_dispatch(*, order_id: int, attempt: int | None = None) -> TradeOrder | None:
    """Claim a NEW, never-dispatched order atomically; None when someone else already has it.

    With `attempt`, only as that claim (the order claimed attempt - 1 times before): a task that lost its
    database connection mid-claim retries as the same attempt, so it can never claim twice.
    A closing order is claimed only once the cancels it waits for are final, sized from the position then
    (orders.services.positions.close_order_claim).

    The claim changes nothing the pages show, so it does not bump the project's counter: what the dispatch
    does next does (an engine started, a refusal, a failure, a released claim, the engine's answer). A push
    here would only make every screen fetch an unchanged table while the order is on its way to the engine."""
    now = timezone.now()
    # A plain order is claimed and read back in one statement; a closing one (never matched here) is read and
    # sized first.
    plain = models.Q(params__action__isnull=True) | ~models.Q(params__action=CLOSE_ACTION)
    claimable = TradeOrder.objects.filter(
        plain, pk=order_id, dispatched_at__isnull=True, status=OrderStatus.NEW
    )
    if attempt is not None:
        claimable = claimable.filter(dispatch_attempts=attempt - 1)
    claimed = _update_returning(
        claimable, dispatched_at=now, dispatch_attempts=models.F("dispatch_attempts") + 1, updated_at=now
    )
    if claimed is not None:
        return claimed
    params = TradeOrder.objects.filter(pk=order_id).values_list("params", flat=True).first()
    if isinstance(params, dict) and params.get("action") == CLOSE_ACTION:
        return close_order_claim(order_id=order_id, now=now, attempt=attempt)
    return None


def _update_returning(queryset: models.QuerySet[TradeOrder], **values: Any) -> TradeOrder | None:
    """Update the one order `queryset` matches and return it as the update left it (UPDATE ... RETURNING:
    one statement, so the claim and the claimed row are one answer); None when it matched none."""
    query = cast(sql.UpdateQuery, queryset.query.chain(sql.UpdateQuery))
    query.add_update_values(values)
    alias = queryset.db
    statement, params = query.get_compiler(alias).as_sql()
    quote = connections[alias].ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in TradeOrder._meta.concrete_fields)
    rows = list(TradeOrder.objects.using(alias).raw(f"{statement} RETURNING {columns}", params))
    return rows[0] if rows else None


def trade_order_claim_resume(*, order_id: int, attempt: int) -> TradeOrder | None:
    """The order when it is still held by claim number `attempt` and its hand-over was never recorded.

    A dispatch task whose database went away after claiming retries with its claim's number: a sweep that
    released the claim meanwhile, or another task's newer claim, makes this None."""
    order = (
        TradeOrder.objects.select_related("project")
        .filter(pk=order_id, status=OrderStatus.NEW, dispatched_at__isnull=False, dispatch_attempts=attempt)
        .first()
    )
    if order is None or order.engine_record.handed_over_at:
        return None
    return order


def trade_order_release_claim(*, order_id: int, reason: str) -> bool:
    """Give back a claim for an order that provably never reached the engine, so it is dispatched again."""
    released = TradeOrder.objects.filter(
        pk=order_id, status=OrderStatus.NEW, dispatched_at__isnull=False
    ).update(dispatched_at=None, updated_at=timezone.now())
    if released:
        project_versions_bump_for_orders([order_id])
        logger.warning("dispatch claim released", extra={"order_id": order_id, "reason": reason})
    return bool(released)


def trade_order_record_dispatch(*, order_id: int, record: dict[str, Any], announce: bool = True) -> None:
    """Merge `record` into the order's engine record (where and how it was handed over); a bracket's children
    get the same record (the engine that holds the entry places them), so their cancels and modifies reach it.

    `announce` False leaves the project's counter alone: a command to an engine that was already running
    changes nothing a screen shows (the engine record is not on the page), so no screen fetches its table
    again before the engine's answer, which comes a few milliseconds later and is announced."""
    # In the caller's transaction when there is one (the hand-over records its stage times in the same).
    with transaction.atomic(savepoint=False):
        order = TradeOrder.objects.select_for_update().get(pk=order_id)
        order.params = engine_record_merged(order.params, record)
        children: list[TradeOrder] = []
        if order.bracket_role == BracketRole.ENTRY:  # only an entry has children (its legs)
            children = list(TradeOrder.objects.select_for_update().filter(parent_id=order_id).order_by("id"))
        for child in children:
            child.params = engine_record_merged(child.params, record)
            child.dispatched_at = child.dispatched_at or order.dispatched_at
        if announce:
            order.save(update_fields=["params", "updated_at"])  # post_save bumps the project's counter
            for child in children:
                child.save(update_fields=["params", "dispatched_at", "updated_at"])
            return
        now = timezone.now()  # a queryset update: no post_save, so no bump
        TradeOrder.objects.filter(pk=order_id).update(params=order.params, updated_at=now)
        for child in children:
            TradeOrder.objects.filter(pk=child.pk).update(
                params=child.params, dispatched_at=child.dispatched_at, updated_at=now
            )


def trade_orders_flag(*, order_ids: Iterable[int], flag: str, message: str) -> int:
    """Flag working orders (stale, engine down, command unread) until an engine event clears it."""
    ids = list(order_ids)
    if not ids:
        return 0
    with transaction.atomic():
        flagged = TradeOrder.objects.filter(pk__in=ids, status__in=WORKING_STATUSES).update(
            flag=flag, flag_message=message[:2000], updated_at=timezone.now()
        )
        if flagged:
            project_versions_bump_for_orders(ids)
    return flagged


def trade_order_cancel_before_dispatch(*, order: TradeOrder, actor: Actor | None = None) -> bool:
    """Cancel an order that was never handed to an engine; False when it already was."""
    now = timezone.now()
    with transaction.atomic():
        claimed = TradeOrder.objects.filter(
            pk=order.pk, dispatched_at__isnull=True, status=OrderStatus.NEW
        ).update(dispatched_at=now, updated_at=now)
        if not claimed:
            return False
        update_trade_orders_status([(order, OrderStatus.CANCELED, "canceled before it reached the engine")])
        audit_record(actor=actor, action="order_cancel", project=order.project, order=order)
    order.refresh_from_db()
    return True
