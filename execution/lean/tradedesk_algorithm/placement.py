"""Placing an intent's order in LEAN: its order properties, the call per order type, the market-hours route, and
what LEAN sent of a ticket's updates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from AlgorithmImports import (
    InteractiveBrokersOrderProperties,
    MarketHoursState,
    OrderRequestStatus,
    TimeInForce,
)

from . import market_hours
from .intents import Intent

if TYPE_CHECKING:
    from AlgorithmImports import OrderTicket, QCAlgorithm, Symbol


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


def submit_order(
    algorithm: QCAlgorithm, symbol: Symbol, intent: Intent, route: str, *, properties: Any
) -> OrderTicket:
    """Submit the intent's order with its own order properties (never LEAN's DefaultOrderProperties, GTC)."""
    tag = intent.tag
    if intent.order_type == "LMT":
        assert intent.limit_price is not None  # parse_intent guarantees it
        return algorithm.limit_order(
            symbol, intent.quantity, intent.limit_price, tag=tag, order_properties=properties
        )
    if intent.order_type == "STP":
        assert intent.stop_price is not None
        return algorithm.stop_market_order(
            symbol, intent.quantity, intent.stop_price, tag=tag, order_properties=properties
        )
    if intent.order_type == "STP LMT":
        assert intent.stop_price is not None and intent.limit_price is not None
        return algorithm.stop_limit_order(
            symbol,
            intent.quantity,
            intent.stop_price,
            intent.limit_price,
            tag=tag,
            order_properties=properties,
        )
    if intent.order_type == "TRAIL":
        assert intent.trailing_amount is not None
        # No stop price: LEAN starts it from the security's price (QCAlgorithm.Trading.cs:585-591@24863901).
        return algorithm.trailing_stop_order(
            symbol,
            intent.quantity,
            intent.trailing_amount,
            intent.trailing_as_percent,
            tag=tag,
            order_properties=properties,
        )
    if intent.order_type == "LIT":
        assert intent.trigger_price is not None and intent.limit_price is not None
        return algorithm.limit_if_touched_order(
            symbol,
            intent.quantity,
            intent.trigger_price,
            intent.limit_price,
            tag=tag,
            order_properties=properties,
        )
    if intent.order_type == "MOC":
        # LEAN refuses it inside its buffer before the close (QCAlgorithm.Trading.cs:1215-1232): an error
        # response, which the algorithm's ticket check reports as the order's Invalid line.
        return algorithm.market_on_close_order(symbol, intent.quantity, tag=tag, order_properties=properties)
    if route == market_hours.MARKET_ON_OPEN:
        return algorithm.market_on_open_order(
            symbol, intent.quantity, asynchronous=True, tag=tag, order_properties=properties
        )
    return algorithm.market_order(
        symbol, intent.quantity, asynchronous=True, tag=tag, order_properties=properties
    )


def market_route(algorithm: QCAlgorithm, symbol: Symbol) -> tuple[str, str]:
    """The rule for a market order now, from LEAN's own exchange hours (holidays and early closes too)."""
    exchange = algorithm.securities[symbol].exchange
    if exchange.exchange_open:
        return market_hours.MARKET, ""
    local = algorithm.securities[symbol].local_time
    session = None
    for segment in exchange.hours.get_market_hours(local).segments:
        if segment.state == MarketHoursState.MARKET:
            session = (segment.start, segment.end)
            break
    local_time = timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
    return market_hours.market_order_route(exchange_open=False, local_time=local_time, session=session)
