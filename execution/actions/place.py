"""The place door: a new order (idempotency, risk, duplicate guard, insert, audit) in one transaction under
the project's lock; its hand-over follows after commit (execution.signals). The plan's name is kept."""

from orders.services import create_trade_order

__all__ = ["create_trade_order"]
