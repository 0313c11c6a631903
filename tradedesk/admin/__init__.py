"""The Django admin of tradedesk: ModelAdmins for the orders and execution models (registered on import)."""

from tradedesk.admin import events, execution, fills, halts, orders, positions, projects

__all__ = ["events", "execution", "fills", "halts", "orders", "positions", "projects"]
