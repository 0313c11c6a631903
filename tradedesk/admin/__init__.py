"""The Django admin of tradedesk: ModelAdmins for the orders and execution models (registered on import)."""

from tradedesk.admin import execution, orders

__all__ = ["execution", "orders"]
