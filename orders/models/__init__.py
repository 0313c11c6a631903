"""The domain's models (a package: one module per concern), re-exported here: `from orders.models import X`.

`orders.models` imports no other project module (import-linter keeps it so)."""

from orders.models.access import (
    ApiToken,
    AuditLog,
)
from orders.models.choices import (
    CLIENT_ORDER_ID_REGEX,
    CLOSED_STATUSES,
    FLAG_FUTURE_TIME,
    FLAG_OVERFILL,
    LIMIT_PRICE_TYPES,
    MONEY,
    MONEY_PLACES,
    NOTIONAL,
    PRICE,
    PRICE_PLACES,
    QTY,
    QTY_PLACES,
    SOURCE_MANUAL,
    STATUS_RANK,
    STOP_PRICE_TYPES,
    SYMBOL_REGEX,
    UNKNOWN_FLAG,
    WORKING_STATUSES,
    Digits,
    Mode,
    OrderFlag,
    OrderStatus,
    OrderType,
    Side,
    TradingState,
    order_flags,
    order_is_unknown,
)
from orders.models.ledger import (
    ExecutionEvent,
    UnmatchedEvent,
)
from orders.models.preferences import TIME_ZONE_REGEX, TimeZoneChoice
from orders.models.projects import (
    Project,
    ProjectChoice,
    ProjectVersion,
)
from orders.models.trading import (
    Position,
    TradeFill,
    TradeOrder,
)

__all__ = [
    "CLIENT_ORDER_ID_REGEX",
    "CLOSED_STATUSES",
    "FLAG_FUTURE_TIME",
    "FLAG_OVERFILL",
    "LIMIT_PRICE_TYPES",
    "MONEY",
    "MONEY_PLACES",
    "NOTIONAL",
    "PRICE",
    "PRICE_PLACES",
    "QTY",
    "QTY_PLACES",
    "SOURCE_MANUAL",
    "STATUS_RANK",
    "STOP_PRICE_TYPES",
    "SYMBOL_REGEX",
    "TIME_ZONE_REGEX",
    "UNKNOWN_FLAG",
    "WORKING_STATUSES",
    "ApiToken",
    "AuditLog",
    "Digits",
    "ExecutionEvent",
    "Mode",
    "OrderFlag",
    "OrderStatus",
    "OrderType",
    "Position",
    "Project",
    "ProjectChoice",
    "ProjectVersion",
    "Side",
    "TimeZoneChoice",
    "TradeFill",
    "TradeOrder",
    "TradingState",
    "UnmatchedEvent",
    "order_flags",
    "order_is_unknown",
]
