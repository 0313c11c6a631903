"""post_save of a new manual order -> the execute_manual_order task after commit; a committed change of a
project's counter or of the access counter -> a push message. Signals only enqueue."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from execution.push import access_changed as publish_access_changed
from execution.push import project_versions_changed as publish_versions_changed
from execution.routing import dispatch_enqueue
from orders.models import TradeOrder
from orders.services import access_changed, project_versions_changed

# After each committed change of a project's counter: announce it to the pages' streams (Redis pub/sub).
project_versions_changed.connect(publish_versions_changed, dispatch_uid="execution.push_versions")
# After each committed change of who may see what: the streams re-check their access at once.
access_changed.connect(publish_access_changed, dispatch_uid="execution.push_access")


@receiver(post_save, sender=TradeOrder, dispatch_uid="execution.enqueue_manual_order")
def enqueue_manual_order(
    sender: type[TradeOrder], instance: TradeOrder, created: bool, **kwargs: Any
) -> None:
    """Enqueue a newly created manual order once its transaction commits."""
    if created and instance.is_manual:
        order_id, mode, attempt = instance.pk, instance.mode, instance.dispatch_attempts + 1
        # On the mode's engine-host queue, as the order's first claim; a failed publish leaves the order NEW
        # for the sweep.
        transaction.on_commit(
            lambda: dispatch_enqueue(order_id=order_id, mode=mode, attempt=attempt), robust=True
        )
