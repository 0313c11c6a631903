"""Celery tasks: thin wrappers that pass ids (and the mode, which routes them to its engine host's queue) and
call the doors (execution.actions); all idempotent. Task names are stable: beat and routing use them."""

from __future__ import annotations

from typing import Any

import structlog
from celery import Task, shared_task
from django.db import close_old_connections

from execution import actions, metrics, routing
from execution.dispatch import cancels
from execution.dispatch.bracket_legs import bracket_legs_send
from execution.engine.state import MODES
from orders.services import small_tables_analyze


def _enqueue(order_id: int) -> None:
    routing.dispatch_enqueue(order_id=order_id)


# Seconds before each retry of a dispatch whose database went away (about 30 s in all: a PostgreSQL restart);
# past them the order stays claimed and NEW, and the sweep releases and sends it.
DISPATCH_RETRY_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0)


@shared_task(
    bind=True,
    name="execution.tasks.execute_manual_order",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=len(DISPATCH_RETRY_DELAYS),
)
def execute_manual_order(
    self: Task,
    order_id: int,
    mode: str | None = None,
    resume_attempt: int | None = None,
    attempt: int | None = None,
) -> dict[str, Any]:
    """Hand one manual order to its engine (a second run for the same order does nothing); retried with a
    short backoff when the database goes away, as the same claim (`resume_attempt`). `attempt`: the claim to
    take, when the enqueue knew it (routing.dispatch_enqueue)."""
    # Every log line of the hand-over (and the engine's start line in engine.log) names the order.
    try:
        with structlog.contextvars.bound_contextvars(order_id=order_id):
            result = actions.order_dispatch(order_id=order_id, resume_attempt=resume_attempt, attempt=attempt)
    except actions.DispatchInterrupted as exc:
        raise _dispatch_retry(self, exc, order_id=order_id, mode=mode, attempt=exc.attempt) from exc
    except actions.DATABASE_GONE as exc:  # before any claim: a fresh claim on the retry
        raise _dispatch_retry(self, exc, order_id=order_id, mode=mode, attempt=resume_attempt) from exc
    # No ingest is scheduled here: the engine host's ingest watcher reads the engine's answer as it is
    # written (beat's ingest where no watcher runs).
    return {"order_id": result.order_id, "outcome": result.outcome, "detail": result.detail}


def _dispatch_retry(
    task: Task, exc: Exception, *, order_id: int, mode: str | None, attempt: int | None
) -> Exception:
    """The Retry that sends the dispatch again after the next delay (the broken connection dropped first)."""
    close_old_connections()
    retries = int(task.request.retries or 0)
    delay = DISPATCH_RETRY_DELAYS[min(retries, len(DISPATCH_RETRY_DELAYS) - 1)]
    kwargs = {"order_id": order_id, "mode": mode, "resume_attempt": attempt}
    retry: Exception = task.retry(kwargs=kwargs, countdown=delay, exc=exc)
    return retry


@shared_task(name="execution.tasks.cancel_order", acks_late=True, ignore_result=True)
def cancel_order(order_id: int, mode: str | None = None) -> str:
    """Write the CancelOrderCommand of an order's pending cancel request (on its engine host)."""
    with structlog.contextvars.bound_contextvars(order_id=order_id):
        return cancels.order_cancel_send(order_id=order_id)


@shared_task(name="execution.tasks.ingest_events", acks_late=True, ignore_result=True)
def ingest_events(path: str | None = None, mode: str | None = None) -> dict[str, int]:
    """Ingest new lines of the engines' events files (of one mode when given; beat runs this every interval),
    then send pending cancels, the closing orders whose cancels just became final and the bracket legs tradedesk
    holds."""
    if path is None:
        metrics.ingest_heartbeat_touch()
    report = actions.ingest_execution_events(path, mode=mode)
    cancels.cancels_send_pending(mode=mode)
    actions.closes_release(enqueue=_enqueue, mode=mode)
    bracket_legs_send(enqueue=_enqueue, mode=mode)
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


@shared_task(name="execution.tasks.symbol_subscribe", acks_late=True, ignore_result=True)
def symbol_subscribe(mode: str, symbol: str) -> str:
    """Subscribe the mode's running engine to a symbol (a ticket's quote), on the engine host; idempotent."""
    return actions.symbol_subscribe(mode=mode, symbol=symbol)


@shared_task(name="execution.tasks.sample_pnl", ignore_result=True)
def sample_pnl() -> dict[str, int]:
    """Every project's P&L and open positions' last prices now (the page's chart); prunes old samples."""
    return actions.pnl_sample_all()
