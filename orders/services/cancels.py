"""Cancel requests as rows: recorded by whoever asks (web, API, admin, HALT), marked sent by the engine host."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from orders.models import WORKING_STATUSES, OrderStatus, TradeOrder
from orders.services.audit import Actor, audit_record
from orders.services.status import update_trade_order_status
from orders.services.versions import project_versions_bump_for_orders


def trade_orders_cancel_pending(*, mode: str | None = None) -> QuerySet[TradeOrder]:
    """Working orders with a cancel requested whose command no engine host has written yet."""
    pending = TradeOrder.objects.filter(
        cancel_requested_at__isnull=False, cancel_sent_at__isnull=True, status__in=WORKING_STATUSES
    )
    return pending.filter(mode=mode) if mode else pending


def order_cancel_record(*, order: TradeOrder, actor: Actor | None = None) -> bool:
    """Record a cancel request (the caller holds the project lock); False when one is already pending."""
    if order.cancel_requested_at is not None and order.cancel_sent_at is None:
        return False
    now = timezone.now()
    with transaction.atomic():
        TradeOrder.objects.filter(pk=order.pk).update(
            cancel_requested_at=now,
            cancel_requested_by=actor.user if actor and getattr(actor.user, "pk", None) else None,
            cancel_sent_at=None,
            updated_at=now,
        )
        project_versions_bump_for_orders([order.pk])
        audit_record(actor=actor, action="order_cancel_requested", project=order.project, order=order)
    order.refresh_from_db()
    return True


def trade_order_cancel_sent(*, order: TradeOrder, requested_at: datetime, command_id: str) -> bool:
    """Mark the request of `requested_at` sent (CANCEL_PENDING until the engine's event); False if it moved on."""
    now = timezone.now()
    with transaction.atomic():
        marked = TradeOrder.objects.filter(
            pk=order.pk, cancel_requested_at=requested_at, cancel_sent_at__isnull=True
        ).update(cancel_sent_at=now, updated_at=now)
        if not marked:
            return False
        update_trade_order_status(order, OrderStatus.CANCEL_PENDING, message="cancel requested")
        audit_record(
            actor=None, action="order_cancel", project=order.project, order=order,
            detail={"command_id": command_id},
        )  # fmt: skip
    return True


def trade_order_cancel_unsent(*, order: TradeOrder, command_id: str, reason: str) -> bool:
    """A sent cancel whose command the engine never read was taken back: the request is pending again.

    The request stays (cancel_requested_at), so the engine host sends it again to the run that holds the
    order; False when the order has no sent cancel any more (it moved on)."""
    now = timezone.now()
    with transaction.atomic():
        marked = TradeOrder.objects.filter(
            pk=order.pk, cancel_sent_at__isnull=False, status__in=WORKING_STATUSES
        ).update(cancel_sent_at=None, updated_at=now)
        if not marked:
            return False
        project_versions_bump_for_orders([order.pk])
        audit_record(
            actor=None, action="order_cancel_unsent", project=order.project, order=order,
            detail={"command_id": command_id, "reason": reason[:500]},
        )  # fmt: skip
    return True
