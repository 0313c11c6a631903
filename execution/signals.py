"""post_save of a new manual order -> the execute_manual_order task after commit. Signals only enqueue."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from execution.routing import dispatch_enqueue
from orders.models import TradeOrder


@receiver(post_save, sender=TradeOrder, dispatch_uid="execution.enqueue_manual_order")
def enqueue_manual_order(
    sender: type[TradeOrder], instance: TradeOrder, created: bool, **kwargs: Any
) -> None:
    """Enqueue a newly created manual order once its transaction commits."""
    if created and instance.is_manual:
        order_id, mode = instance.pk, instance.mode
        # On the mode's engine-host queue; a failed publish leaves the order NEW for the sweep.
        transaction.on_commit(lambda: dispatch_enqueue(order_id=order_id, mode=mode), robust=True)
