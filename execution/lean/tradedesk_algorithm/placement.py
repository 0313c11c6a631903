"""Placing an intent's order in LEAN: its order properties, and what LEAN sent of a ticket's updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from AlgorithmImports import (
    InteractiveBrokersOrderProperties,
    OrderRequestStatus,
    TimeInForce,
)

from .intents import Intent


def updates_sent(ticket: Any) -> int:
    """How many updates of the ticket's order LEAN sent on (Processing: its synchronous checks passed;
    Processed: the brokerage call returned; Error ones never left: Common/Orders/OrderRequest.cs:94-104,
    Engine/TransactionHandlers/BrokerageTransactionHandler.cs:476,852@24863901)."""
    if ticket is None:
        return 0
    sent = (OrderRequestStatus.PROCESSING, OrderRequestStatus.PROCESSED)
    return sum(1 for request in ticket.update_requests or () if request.status in sent)


def order_properties(intent: Intent) -> Any:
    """LEAN's InteractiveBrokersOrderProperties of the order (SubmitOrderRequest carries them:
    Common/Orders/SubmitOrderRequest.cs:109,162@24863901): its TimeInForce (Day, GoodTilCanceled or
    GoodTilDate(expiry): Common/Orders/TimeInForce.cs:33,38,43) and OutsideRegularTradingHours
    (InteractiveBrokersOrderProperties.cs:57), which the IB plugin sends as Tif / GoodTillDate / OutsideRth
    (InteractiveBrokersBrokerage.cs:2992-3020,3583-3598@d154917)."""
    properties = InteractiveBrokersOrderProperties()
    if intent.time_in_force == "GTD" and intent.good_till_date is not None:
        expiry = intent.good_till_date
        properties.time_in_force = TimeInForce.GOOD_TIL_DATE(datetime(expiry.year, expiry.month, expiry.day))
    elif intent.time_in_force == "GTC":
        properties.time_in_force = TimeInForce.GOOD_TIL_CANCELED
    else:
        properties.time_in_force = TimeInForce.DAY
    properties.outside_regular_trading_hours = intent.outside_rth
    return properties
