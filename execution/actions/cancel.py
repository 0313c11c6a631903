"""The cancel door: cancel one order (locally if it never left tradedesk, else a request for its engine
host), or each order of a list."""

from execution.dispatch.cancels import CANCEL_REQUESTED, CancelResult, order_cancel_request, orders_cancel

__all__ = ["CANCEL_REQUESTED", "CancelResult", "order_cancel_request", "orders_cancel"]
