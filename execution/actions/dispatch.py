"""The dispatch door: hand a claimed order to its engine exactly once (the execute_manual_order task)."""

from execution.dispatch.handover import DATABASE_GONE, DispatchInterrupted, DispatchResult, order_dispatch

__all__ = ["DATABASE_GONE", "DispatchInterrupted", "DispatchResult", "order_dispatch"]
