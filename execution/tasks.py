"""Celery tasks: thin wrappers that pass ids (and the mode, which routes them to its engine host's queue) and
call the doors (execution.actions); all idempotent. Task names are stable: beat and routing use them."""

from __future__ import annotations

from typing import Any

import structlog
from celery import shared_task

from execution import actions, metrics, routing
from execution.dispatch import cancels
from execution.engine.state import MODES
from orders.services.maintenance import small_tables_analyze


def _enqueue(order_id: int) -> None:
    routing.dispatch_enqueue(order_id=order_id)


@shared_task(name="execution.tasks.execute_manual_order", acks_late=True, reject_on_worker_lost=True)
def execute_manual_order(order_id: int, mode: str | None = None) -> dict[str, Any]:
    """Hand one manual order to its engine (a second run for the same order does nothing)."""
    # Every log line of the hand-over (and the engine's start line in engine.log) names the order.
    with structlog.contextvars.bound_contextvars(order_id=order_id):
        result = actions.order_dispatch(order_id=order_id)
    if result.outcome in ("dispatched", "rejected"):
        # Fresh engines answer within milliseconds; read their first events without waiting for beat.
        ingest_events.apply_async(kwargs={"mode": mode} if mode else {}, countdown=0.2, expires=10)
    return {"order_id": result.order_id, "outcome": result.outcome, "detail": result.detail}


@shared_task(name="execution.tasks.cancel_order", acks_late=True, ignore_result=True)
def cancel_order(order_id: int, mode: str | None = None) -> str:
    """Write the CancelOrderCommand of an order's pending cancel request (on its engine host)."""
    with structlog.contextvars.bound_contextvars(order_id=order_id):
        return cancels.order_cancel_send(order_id=order_id)


@shared_task(name="execution.tasks.ingest_events", acks_late=True, ignore_result=True)
def ingest_events(path: str | None = None, mode: str | None = None) -> dict[str, int]:
    """Ingest new lines of the engines' events files (of one mode when given; beat runs this every interval),
    then send pending cancels and the closing orders whose cancels just became final."""
    if path is None:
        metrics.ingest_heartbeat_touch()
    report = actions.ingest_execution_events(path, mode=mode)
    cancels.cancels_send_pending(mode=mode)
    actions.closes_release(enqueue=_enqueue, mode=mode)
    return report.as_dict()


@shared_task(name="execution.tasks.sweep_orders", acks_late=True, ignore_result=True)
def sweep_orders(mode: str | None = None) -> dict[str, list[int]]:
    """Re-enqueue orders lost before the engine, send pending cancel requests, flag stale ones, record dead
    engines (of one mode when given: the sweep reads that engine host's files)."""
    report = actions.orders_sweep(enqueue=_enqueue, mode=mode)
    sent = cancels.cancels_send_pending(mode=mode)
    return {
        "reenqueued": report.reenqueued,
        "released": report.released,
        "flagged": report.flagged,
        "cancels_sent": sent,
    }


@shared_task(name="execution.tasks.analyze_small_tables", ignore_result=True)
def analyze_small_tables() -> list[str]:
    """Statistics for the tables a desk has few rows in, which autovacuum never analyzes (beat: hourly)."""
    return small_tables_analyze()


@shared_task(name="execution.tasks.prune_execution_files", acks_late=True, ignore_result=True)
def prune_execution_files(mode: str | None = None) -> dict[str, int]:
    """Delete engine files of finished orders older than TRADEDESK_RETENTION_DAYS (beat: hourly)."""
    return actions.execution_files_prune(modes=[mode] if mode else MODES).as_dict()


@shared_task(name="execution.tasks.engine_start", acks_late=True, ignore_result=True)
def engine_start(mode: str) -> str:
    """Start the mode's engine on its host (staff's Start engine from a web host); a no-op when it runs."""
    return actions.engine_start(mode).state
