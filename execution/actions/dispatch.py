"""The dispatch door: hand a claimed order to its engine exactly once (the execute_manual_order task)."""

from execution.dispatch.handover import DispatchResult, order_dispatch

__all__ = ["DispatchResult", "order_dispatch"]
