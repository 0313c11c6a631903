"""When a working order of the simulator fills, and at what price: the fill models of LEAN it follows.

Read in QuantConnect/Lean at 24863901 (Common/Orders/Fills/FillModel.cs): a stop triggers when the price
reaches it and then fills as a market (StopMarket) or limit (StopLimit) order; a trailing stop fills like a stop
and, while it does not, ratchets its stop towards the market (TrailingStopFill 406-470 with
TrailingStopOrder.TryUpdateStopPrice, Common/Orders/TrailingStopOrder.cs:155-171); a limit if touched becomes
a limit order once the price touches its trigger (LimitIfTouchedFill 576-660: a buy at or below the trigger, a
sell at or above it); a market on close fills at the first price at or after the close that follows the order
(MarketOnCloseFill 800-844). Standard library only: the simulator process imports it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class Working(Protocol):
    """What the fill rules read and change of an order (execution.simulator.orders.Order)."""

    quantity: Decimal  # signed: BUY positive
    order_type: str
    limit_price: float | None
    stop_price: float | None
    trailing_amount: float | None
    trailing_as_percent: bool
    trigger_price: float | None
    triggered: bool


def is_buy(order: Working) -> bool:
    """A buy (positive signed quantity)."""
    return order.quantity > 0


def trailing_stop_price(*, price: float, amount: float, as_percent: bool, buy: bool) -> float:
    """LEAN's TrailingStopOrder.CalculateStopPrice (TrailingStopOrder.cs:181-194): `amount` is LEAN's (a
    percent as its fraction), a buy stop above the price, a sell stop below it; on the cent."""
    distance = price * amount if as_percent else amount
    return round(price + distance if buy else price - distance, 2)


def trail(order: Working, price: float) -> bool:
    """Move a trailing stop's stop towards `price` when the market moved away from it by more than the trailing
    amount (TryUpdateStopPrice); True when it moved."""
    if order.stop_price is None or order.trailing_amount is None:
        return False
    buy = is_buy(order)
    distance = order.stop_price - price if buy else price - order.stop_price
    reference = price * order.trailing_amount if order.trailing_as_percent else order.trailing_amount
    if distance <= reference:
        return False
    updated = trailing_stop_price(
        price=price, amount=order.trailing_amount, as_percent=order.trailing_as_percent, buy=buy
    )
    if updated == order.stop_price:
        return False
    order.stop_price = updated
    return True


def fill_price(order: Working, price: float) -> float | None:
    """The price `order` fills at when the market is at `price`, or None while it waits (it may change the
    order: a stop's trigger, a trailing stop's stop, a limit if touched's touch)."""
    buy = is_buy(order)
    if order.order_type == "LimitIfTouched" and not order.triggered:
        assert order.trigger_price is not None
        if not (price <= order.trigger_price if buy else price >= order.trigger_price):
            return None
        order.triggered = True
    if order.order_type in ("StopMarket", "StopLimit", "TrailingStop") and not order.triggered:
        assert order.stop_price is not None
        if not (price >= order.stop_price if buy else price <= order.stop_price):
            return None
        order.triggered = True
    if order.limit_price is not None:
        crossed = price <= order.limit_price if buy else price >= order.limit_price
        if not crossed:
            return None
        # At the limit or better: the market price is already on the good side of the limit.
        return min(price, order.limit_price) if buy else max(price, order.limit_price)
    return price
