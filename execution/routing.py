"""Engine-host queues: every task that touches a mode's engine files or process goes to that mode's queue.

TRADEDESK_ENGINE_QUEUES maps a mode to the queue its engine host's worker consumes; a mode without one uses
Celery's default queue (the single-host default, where one worker sees every engine folder)."""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction

logger = logging.getLogger("execution")

# Tasks are enqueued here by their registered names: execution.tasks imports the dispatch package, so this
# module never imports it back (the names are the ones beat and CELERY_TASK_ROUTES use).
EXECUTE_TASK = "execution.tasks.execute_manual_order"
CANCEL_TASK = "execution.tasks.cancel_order"
ENGINE_START_TASK = "execution.tasks.engine_start"
SUBSCRIBE_TASK = "execution.tasks.symbol_subscribe"
ENGINE_TASKS = frozenset(
    {
        EXECUTE_TASK,
        CANCEL_TASK,
        ENGINE_START_TASK,
        SUBSCRIBE_TASK,
        "execution.tasks.ingest_events",
        "execution.tasks.sweep_orders",
        "execution.tasks.prune_execution_files",
    }
)


def queue_for(mode: str | None) -> str | None:
    """The queue of the host that runs this mode's engine; None for Celery's default queue."""
    if mode is None:
        return None
    queues: dict[str, str] = settings.TRADEDESK_ENGINE_QUEUES
    return queues.get(mode)


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **extra: Any) -> Any:
    """CELERY_TASK_ROUTES: an engine task carrying `mode` goes to that mode's queue."""
    if name not in ENGINE_TASKS or not isinstance(kwargs, dict):
        return None
    queue = queue_for(kwargs.get("mode"))
    return {"queue": queue} if queue else None


def dispatch_enqueue(*, order_id: int, mode: str | None = None, attempt: int | None = None) -> None:
    """Queue the hand-over of an order on its mode's engine host (the sweep retries a failed publish).

    `attempt`: the claim the task is to take, when the caller knows it (a new order: 1); the task then claims
    as that number without reading it first, and a copy of the message delivered after any other claim
    of the order finds its number taken and does nothing."""
    if mode is None:
        # Imported here: Celery imports this module for CELERY_TASK_ROUTES before Django's apps are loaded
        # (`celery call`, a worker's boot), when no model can be imported yet.
        from orders.models import TradeOrder

        mode = TradeOrder.objects.filter(pk=order_id).values_list("mode", flat=True).first()
    try:
        kwargs: dict[str, Any] = {"order_id": order_id, "mode": mode}
        if attempt is not None:
            kwargs["attempt"] = attempt
        current_app.tasks[EXECUTE_TASK].apply_async(kwargs=kwargs)
    except Exception:
        logger.exception("could not enqueue order; the sweep will retry", extra={"order_id": order_id})


def cancel_enqueue_on_commit(*, order_id: int, mode: str) -> None:
    """After commit, queue the sending of a cancel request on the mode's engine host (the sweep sends it
    anyway when the broker is down)."""

    def enqueue() -> None:
        try:
            current_app.tasks[CANCEL_TASK].apply_async(kwargs={"order_id": order_id, "mode": mode})
        except Exception:
            logger.exception("could not enqueue a cancel; the sweep sends it", extra={"order_id": order_id})

    transaction.on_commit(enqueue, robust=True)


def engine_start_enqueue(*, mode: str) -> None:
    """Queue an engine start on the mode's engine host (Start engine from a web host)."""
    current_app.tasks[ENGINE_START_TASK].apply_async(kwargs={"mode": mode})


def subscribe_enqueue(*, mode: str, symbol: str) -> None:
    """Queue a symbol's subscription on the mode's engine host (a ticket's quote: the web never writes it)."""
    current_app.tasks[SUBSCRIBE_TASK].apply_async(kwargs={"mode": mode, "symbol": symbol})
