"""Orders to engines: the hand-over (handover), cancels across hosts (cancels) and the sweep (sweep).

The engine-host queues are execution.routing, beside the tasks (Celery imports it before Django is ready).
The interfaces reach all of this through execution.actions."""

from execution.dispatch.availability import engine_down_reason
from execution.dispatch.cancels import (
    CANCEL_REQUESTED,
    UNKNOWN_OUTCOME,
    CancelResult,
    cancels_send_pending,
    close_cancels_request,
    order_cancel_request,
    order_cancel_send,
    orders_cancel,
    orders_cancel_working,
)
from execution.dispatch.handover import DispatchResult, market_route, order_dispatch, order_type_refusal
from execution.dispatch.sweep import SweepReport, closes_release, engines_check, orders_sweep

__all__ = [
    "CANCEL_REQUESTED",
    "UNKNOWN_OUTCOME",
    "CancelResult",
    "DispatchResult",
    "SweepReport",
    "cancels_send_pending",
    "close_cancels_request",
    "closes_release",
    "engine_down_reason",
    "engines_check",
    "market_route",
    "order_cancel_request",
    "order_cancel_send",
    "order_dispatch",
    "order_type_refusal",
    "orders_cancel",
    "orders_cancel_working",
    "orders_sweep",
]
