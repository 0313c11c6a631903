"""post_save of a new manual order -> the execute_manual_order task after commit. Signals only enqueue."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from orders.models import TradeOrder

logger = logging.getLogger("execution")


def _enqueue(order_id: int) -> None:
    from execution.tasks import execute_manual_order

    try:
        execute_manual_order.delay(order_id)
    except Exception:
        # The order stays NEW; the sweep enqueues it again once the broker is back.
        logger.exception("could not enqueue order; the sweep will retry", extra={"order_id": order_id})


@receiver(post_save, sender=TradeOrder, dispatch_uid="execution.enqueue_manual_order")
def enqueue_manual_order(
    sender: type[TradeOrder], instance: TradeOrder, created: bool, **kwargs: Any
) -> None:
    """Enqueue a newly created manual order once its transaction commits."""
    if created and instance.is_manual:
        order_id = instance.pk
        transaction.on_commit(lambda: _enqueue(order_id), robust=True)
