"""The simulator's order book: its orders, their fills and the broker's working orders across restarts (the
lines they write: lines.py)."""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from execution.contract import market_hours
from execution.simulator.account import Account
from execution.simulator.brackets import Brackets, Leg
from execution.simulator.common import (
    ACCOUNT_FILE,
    BROKER_ORDERS_FILE,
    SUPPORTED_ORDER_TYPES,
    SYMBOL_RE,
    atomic_write_json,
    fee_for,
    json_number,
    log,
    split_quantity,
)
from execution.simulator.config import SimulatorConfig
from execution.simulator.fills import fill_price, trail, trailing_stop_price
from execution.simulator.lines import EventLines
from execution.simulator.market import PriceBook
from execution.simulator.orders import TRIGGERED_TYPES, Order


class OrderBook(EventLines):
    """The engine's state and its orders, writing their lines as EventLines (the loop in loop.py drives them)."""

    def __init__(self, config: SimulatorConfig) -> None:
        """Prepare state; nothing is written until run()."""
        self.config = config
        self.prices = PriceBook(config.seed, config.reference_prices)
        self.account = Account(config.workdir / ACCOUNT_FILE, starting_cash=config.starting_cash)
        # Symbols whose prices the snapshot carries though nothing holds or works them (followed symbols).
        self.followed: set[str] = set(config.follow)
        self.orders: dict[int, Order] = {}
        self.next_broker_id = 1001
        self.subscribed: set[str] = set()  # symbols of AddSecurityCommands (LEAN's subscriptions)
        self.next_order_id = 1
        self.stop_signal: str | None = None
        self.undeletable: set[str] = set()
        self.last_activity = time.monotonic()
        self.next_holdings = 0.0
        self.holdings_snapshots = (
            0  # numbers this run's snapshots, so the parts of a split one belong together
        )
        self.next_prices = 0.0
        self.brackets = Brackets(self)

    def emit(self, order: Order, status: str, **kwargs: Any) -> None:
        """An event of a placed order, with the order's next event id."""
        order.last_event_id += 1
        order.status = status
        self.save_broker_orders()  # before the line: a crash after it never loses a working order
        broker_ids = [str(order.broker_id)] if order.broker_id is not None else []
        if order.order_type == "TrailingStop":
            kwargs.setdefault("stop_price", order.stop_price)
        self.order_event(
            order.order_id,
            order.tag,
            order.symbol,
            status,
            order.last_event_id,
            broker_ids=broker_ids,
            **kwargs,
        )

    # ---- the simulated broker's working orders, across restarts ---------------------------------------

    def save_broker_orders(self) -> None:
        """Replace BROKER_ORDERS_FILE with the working orders and the next broker id."""
        working = [order.broker_record() for order in self.orders.values() if order.working]
        payload = {"next_broker_id": self.next_broker_id, "orders": working}
        atomic_write_json(self.config.workdir / BROKER_ORDERS_FILE, payload)

    def reload_broker_orders(self) -> list[Order]:
        """At start: the broker's working orders become this run's first orders, untagged, as LEAN reloads IB's
        open orders at setup (Engine/Setup/BrokerageSetupHandler.cs:485-518@24863901, rebuilt without the tag:
        the IB plugin never sends it to IB)."""
        path = self.config.workdir / BROKER_ORDERS_FILE
        if not path.exists():
            return []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.next_broker_id = max(self.next_broker_id, int(data.get("next_broker_id") or 0))
            records = list(data.get("orders") or [])
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log(f"broker orders file {path.name} unreadable ({exc}); no orders reloaded")
            return []
        reloaded = []
        for record in records:
            order = Order.from_record(
                record, order_id=self.next_order_id, next_attempt=time.monotonic() + self.config.fill_delay
            )
            self.next_order_id += 1
            self.orders[order.order_id] = order
            reloaded.append(order)
        return reloaded

    # ---- orders ------------------------------------------------------------------------------------

    def place_order(
        self,
        tag: str,
        symbol: Any,
        quantity: Decimal,
        order_type: str,
        limit_price: Decimal | None,
        security_type: str = "Equity",
        submitted_message: str = "",
        stop_price: Decimal | None = None,
        trailing: tuple[Decimal | None, bool] = (None, False),
        trigger_price: Decimal | None = None,
        properties: tuple[str, date | None, bool, str] = ("GTC", None, False, ""),
        bracket: dict[str, Leg] | None = None,
    ) -> tuple[bool, str]:
        """Validate and place an order like LEAN: an order id always, Submitted or Invalid as its event; a
        bracket's entry arms its legs (placed on its fills).

        `trailing` is a trailing stop's (amount, as percent), LEAN's: a percent as its fraction; `properties` is
        (time in force, GTD date, outside RTH, error) as orders.order_properties read them."""
        time_in_force, good_till_date, outside_rth, properties_error = properties
        now = market_hours.clock(self.config.clock)
        order_id = self.next_order_id
        self.next_order_id += 1
        symbol_text = symbol if isinstance(symbol, str) else ("" if symbol is None else str(symbol))
        trailing_amount, as_percent = trailing
        now = market_hours.clock(self.config.clock)
        error = ""
        if not isinstance(symbol, str) or not SYMBOL_RE.fullmatch(symbol):
            error = f"Invalid symbol {symbol_text!r}: expected ^[A-Z][A-Z0-9.]{{0,14}}$"
        elif self.config.universe is not None and symbol not in self.config.universe:
            # IB answers an unknown contract with error 200 ("No security definition has been found").
            error = f"Invalid order: unknown contract {symbol} (no security definition found)"
        elif security_type != "Equity":
            error = f"Security type {security_type} is not supported by the simulator (Equity only)"
        elif quantity == 0:
            error = "Order quantity must not be zero"
        elif order_type not in SUPPORTED_ORDER_TYPES:
            error = f"Order type {order_type} is not supported by the simulator ({', '.join(SUPPORTED_ORDER_TYPES)})"
        elif order_type in ("Limit", "StopLimit", "LimitIfTouched") and (
            limit_price is None or limit_price <= 0
        ):
            error = f"{order_type} order needs a positive limit price, got {limit_price}"
        elif order_type in ("StopMarket", "StopLimit") and (stop_price is None or stop_price <= 0):
            error = f"{order_type} order needs a positive stop price, got {stop_price}"
        elif order_type == "TrailingStop" and (trailing_amount is None or trailing_amount <= 0):
            error = f"TrailingStop order needs a positive trailing amount, got {trailing_amount}"
        elif order_type == "LimitIfTouched" and (trigger_price is None or trigger_price <= 0):
            error = f"LimitIfTouched order needs a positive trigger price, got {trigger_price}"
        elif order_type == "MarketOnClose":
            error = market_hours.moc_refusal(now=now)
        elif properties_error:
            error = properties_error
        elif good_till_date is not None and market_hours.good_till_date_expiry(good_till_date) <= now:
            error = f"GoodTillDate {good_till_date.isoformat()} has passed its close (16:00 New York)"
        if error:
            self.order_event(order_id, tag, symbol_text, "Invalid", 1, message=error)
            log(f"order {order_id} [{tag}] invalid: {error}")
            return False, f"Order {order_id} invalid: {error}"
        order = Order(
            order_id=order_id,
            tag=tag,
            symbol=symbol_text,
            quantity=quantity,
            order_type=order_type,
            limit_price=float(limit_price) if limit_price is not None and "Limit" in order_type else None,
            parts=split_quantity(abs(quantity), self.config.partial_fills),
            next_attempt=time.monotonic() + self.config.fill_delay,
            stop_price=float(stop_price) if stop_price is not None and "Stop" in order_type else None,
            broker_id=self.next_broker_id,
            time_in_force=time_in_force,
            good_till_date=good_till_date,
            # The IB plugin sends outside-RTH only for resting types (InteractiveBrokersBrokerage.cs:3583-3598).
            outside_rth=outside_rth and order_type not in ("Market", "MarketOnOpen"),
        )
        if order_type == "TrailingStop":
            assert trailing_amount is not None
            order.trailing_amount, order.trailing_as_percent = float(trailing_amount), as_percent
            if order.stop_price is None:
                # LEAN's TrailingStopOrder without a stop: from the price now (QCAlgorithm.Trading.cs:585-591).
                order.stop_price = trailing_stop_price(
                    price=self.prices.next_price(symbol_text),
                    amount=order.trailing_amount,
                    as_percent=as_percent,
                    buy=quantity > 0,
                )
        if order_type == "LimitIfTouched":
            order.trigger_price = float(trigger_price) if trigger_price is not None else None
        if order_type == "MarketOnClose":
            order.close_at = market_hours.next_close(now).isoformat()
        order.set_expiry(placed_at=now, hours=self.config.market_hours)
        self.next_broker_id += 1
        self.orders[order_id] = order
        self.brackets.arm(order_id, bracket or {})
        self.emit(order, "Submitted", message=submitted_message)
        log(f"order {order_id} [{tag}] submitted: {order.describe()}")
        return True, f"Order {order_id} submitted: {order.describe()}"

    def cancel_order(
        self, order_id: int, *, message: str = "Canceled by CancelOrderCommand"
    ) -> tuple[bool, str, Decimal]:
        """Cancel a working order of this run (a bracket's entry with its children); an order it does not know
        is refused with a reason.

        An order already closed answers Success as LEAN's does (CancelOrderCommand.cs:34-40@24863901: the cancel
        request is set and the ticket is not Invalid), with no event: the order's events decide, not the result."""
        order = self.orders.get(order_id)
        if order is None:
            return False, f"Order {order_id} is not an order of run {self.config.run_id}", Decimal(0)
        if not order.working:
            return True, f"Order {order_id} is already {order.status}: nothing canceled", order.filled
        self.emit(order, "Canceled", message=message)
        log(f"order {order_id} [{order.tag}] canceled after {json_number(order.filled)} filled")
        self.brackets.on_cancel(order)
        return True, f"Order {order_id} canceled", order.filled

    def update_order(
        self,
        order_id: int,
        quantity: Decimal | None,
        limit: Decimal | None,
        stop: Decimal | None,
        *,
        trigger: Decimal | None = None,
        trailing: Decimal | None = None,
        source: str = "UpdateOrderCommand",
        bracket_resize: bool = False,
    ) -> tuple[bool, str]:
        """Change a working order's quantity / prices like LEAN's UpdateOrder; UpdateSubmitted confirms it.

        As LEAN's Order.ApplyUpdateOrderRequest: a limit only changes an order that has one, a stop likewise, a
        trigger only a limit if touched's (LimitIfTouchedOrder.cs:99-111@24863901) and a trailing amount only a
        trailing stop's, in its unit, its stop staying where it is until the market moves it by the new amount
        (TrailingStopOrder.cs:104-111,155-171); a touched limit if touched is a limit order, its trigger then
        changes nothing (EquityFillModel.LimitIfTouchedFill checks TriggerTouched first: EquityFillModel.cs:81,99).
        The quantity is the signed total and must keep the side and stay above what is filled."""
        order = self.orders.get(order_id)
        if order is None:
            return False, f"Order {order_id} is not an order of run {self.config.run_id}"
        if not order.working:
            return False, f"Order {order_id} is already {order.status}"
        if quantity is not None:
            if quantity == 0 or (quantity > 0) != (order.quantity > 0):
                return False, f"Order {order_id}: quantity {quantity} is zero or of the other side"
            if abs(quantity) <= abs(order.filled):
                return False, f"Order {order_id}: quantity {quantity} is not above the {order.filled} filled"
        prices = (("limit", limit), ("stop", stop), ("trigger", trigger), ("trailing amount", trailing))
        for name, value in prices:
            if value is not None and value <= 0:
                return False, f"Order {order_id}: {name} price {value} must be positive"
        if quantity is not None:
            order.quantity = quantity
            order.parts = split_quantity(abs(quantity) - abs(order.filled), max(len(order.parts), 1))
        if limit is not None and order.limit_price is not None:
            order.limit_price = float(limit)
        if stop is not None and order.stop_price is not None:
            order.stop_price = float(stop)
        if trigger is not None and order.trigger_price is not None:
            order.trigger_price = float(trigger)
        if trailing is not None and order.trailing_amount is not None:
            order.trailing_amount = float(trailing)
        changes = f"quantity {json_number(order.quantity)} limit {order.limit_price} stop {order.stop_price}"
        if order.trigger_price is not None:
            changes += f" trigger {order.trigger_price}"
        if order.trailing_amount is not None:
            changes += (
                f" trailing {order.trailing_amount}{' (fraction)' if order.trailing_as_percent else ''}"
            )
        source = "Bracket resize" if bracket_resize else f"Updated by {source}"
        self.emit(order, "UpdateSubmitted", message=f"{source}: {changes}", bracket_resize=bracket_resize)
        log(f"order {order_id} [{order.tag}] updated: {changes}")
        return True, f"Order {order_id} updated"

    def work_orders(self) -> None:
        """Attempt the fills that are due, each order by its type's fill rule (execution/simulator/fills.py).

        A market on open waits for the open, a market on close for its close; a trailing stop that does not
        fill moves its stop with the market and says so in an event line carrying its new stop."""
        now = time.monotonic()
        market_now = market_hours.clock(self.config.clock)
        for order in list(self.orders.values()):
            if order.working and order.expired(market_now):
                message = order.expiry_message()
                self.emit(order, "Canceled", message=message)
                log(f"order {order.order_id} [{order.tag}] canceled: {message}")
                continue
            if not order.working or now < order.next_attempt:
                continue
            if order.order_type == "MarketOnOpen" and not self.market_open():
                continue  # waits for the next open, as IB holds it
            if order.order_type == "MarketOnClose" and not self.closed_for(order):
                continue  # waits for its close (LEAN's MarketOnCloseFill)
            if order.order_type not in ("Market", "MarketOnOpen", "MarketOnClose") and not order.may_fill(
                now=market_now, hours=self.config.market_hours
            ):
                continue  # rests outside its session (regular, or extended when outside RTH)
            price = self.prices.next_price(order.symbol)
            buy = order.quantity > 0
            was_triggered = order.triggered
            fill = fill_price(order, price)
            if order.triggered and not was_triggered:
                what = (
                    f"trigger {order.trigger_price} touched"
                    if order.trigger_price
                    else f"stop {order.stop_price} triggered"
                )
                log(f"order {order.order_id} [{order.tag}] {what} at {price}")
            if fill is None:
                if order.order_type == "TrailingStop" and trail(order, price):
                    # Its own status, never UpdateSubmitted (which confirms a pending modify in tradedesk).
                    status = "PartiallyFilled" if order.filled else "Submitted"
                    self.emit(order, status, message=f"trailing stop moved to {order.stop_price}")
                if not order.triggered and order.order_type in TRIGGERED_TYPES:
                    order.next_attempt = now + self.config.fill_delay  # a limit is checked at every poll
                continue
            part = order.parts.pop(0)
            order.filled += part if buy else -part
            self.account.apply_fill(order.symbol, part if buy else -part, fill, fee_for(part))
            status = "Filled" if not order.parts else "PartiallyFilled"
            self.emit(order, status, filled=part, fill_price=fill)
            log(f"order {order.order_id} [{order.tag}] {status}: {json_number(part)} {order.symbol} @ {fill}")
            order.next_attempt = now + self.config.fill_delay
            # At once, on the fill's own event: a sibling canceled here is skipped later in this very tick.
            self.brackets.on_fill(order)

    def closed_for(self, order: Order) -> bool:
        """Whether a market on close's close has come (its first price at or after it is the close's)."""
        return market_hours.clock(self.config.clock) >= datetime.fromisoformat(order.close_at)

    def market_open(self) -> bool:
        """Whether the simulated exchange is open now (or at the configured fixed clock)."""
        return market_hours.exchange_open_at(
            now=market_hours.clock(self.config.clock), hours=self.config.market_hours
        )
