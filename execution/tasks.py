"""Celery tasks: thin wrappers that pass ids and call services; all idempotent."""

from __future__ import annotations

from typing import Any

import structlog
from celery import shared_task

from execution import events, metrics, retention, services


@shared_task(name="execution.tasks.execute_manual_order", acks_late=True, reject_on_worker_lost=True)
def execute_manual_order(order_id: int) -> dict[str, Any]:
    """Hand one manual order to its engine (a second run for the same order does nothing)."""
    # Every log line of the hand-over (and the engine's start line in engine.log) names the order.
    with structlog.contextvars.bound_contextvars(order_id=order_id):
        result = services.order_dispatch(order_id=order_id)
    if result.outcome in ("dispatched", "rejected"):
        # Fresh engines answer within milliseconds; read their first events without waiting for beat.
        ingest_events.apply_async(countdown=0.2, expires=10)
    return {"order_id": result.order_id, "outcome": result.outcome, "detail": result.detail}


@shared_task(name="execution.tasks.ingest_events", acks_late=True, ignore_result=True)
def ingest_events(path: str | None = None) -> dict[str, int]:
    """Ingest new lines of the engines' events files (beat runs this every interval), then send the closing
    orders whose cancels just became final."""
    if path is None:
        metrics.ingest_heartbeat_touch()
    report = events.ingest_execution_events(path)
    services.closes_release(enqueue=lambda order_id: execute_manual_order.delay(order_id))
    return report.as_dict()


@shared_task(name="execution.tasks.sweep_orders", acks_late=True, ignore_result=True)
def sweep_orders() -> dict[str, list[int]]:
    """Re-enqueue orders lost before the engine, flag stale ones, record dead engines."""
    report = services.orders_sweep(enqueue=lambda order_id: execute_manual_order.delay(order_id))
    return {"reenqueued": report.reenqueued, "released": report.released, "flagged": report.flagged}


@shared_task(name="execution.tasks.prune_execution_files", acks_late=True, ignore_result=True)
def prune_execution_files() -> dict[str, int]:
    """Delete engine files of finished orders older than TRADEDESK_RETENTION_DAYS (beat: hourly)."""
    return retention.execution_files_prune().as_dict()
