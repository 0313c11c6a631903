"""LEAN's enums the algorithm reads, with LEAN's numbers."""

from __future__ import annotations

import enum


class OrderStatus(enum.IntEnum):
    """LEAN's OrderStatus numbers (Common/Orders/OrderTypes.cs): 4 is skipped."""

    NEW = 0
    SUBMITTED = 1
    PARTIALLY_FILLED = 2
    FILLED = 3
    CANCELED = 5
    NONE = 6
    INVALID = 7
    CANCEL_PENDING = 8
    UPDATE_SUBMITTED = 9


class OrderRequestStatus(enum.IntEnum):
    """LEAN's OrderRequestStatus (Common/Orders/OrderRequestStatus.cs)."""

    UNPROCESSED = 0
    PROCESSING = 1
    PROCESSED = 2
    ERROR = 3


class OrderType(enum.IntEnum):
    """LEAN's OrderType numbers (Common/Orders/OrderTypes.cs)."""

    MARKET = 0
    LIMIT = 1
    STOP_MARKET = 2
    STOP_LIMIT = 3
    MARKET_ON_OPEN = 4
    MARKET_ON_CLOSE = 5
    LIMIT_IF_TOUCHED = 7
    TRAILING_STOP = 11


class MarketHoursState(enum.IntEnum):
    CLOSED = 0
    PRE_MARKET = 1
    MARKET = 2
    POST_MARKET = 3


class Resolution(enum.IntEnum):
    TICK = 0
    SECOND = 1
    MINUTE = 2
    HOUR = 3
    DAILY = 4


class BrokerageMessageType(enum.IntEnum):
    INFORMATION = 0
    WARNING = 1
    ERROR = 2
    RECONNECT = 3
    DISCONNECT = 4
    ACTION_REQUIRED = 5
