"""What QCAlgorithm's members hand the algorithm (securities, tickets, transactions, portfolio, schedule)
and AlgorithmImports' order-property and command types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from tests.execution.lean.fake_lean.enums import MarketHoursState, OrderRequestStatus


class FakeSymbol:
    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Symbol({self.value})"


NY_SESSION = (timedelta(hours=9, minutes=30), timedelta(hours=16))


class FakeExchangeHours:
    def __init__(self) -> None:
        self.session: tuple[timedelta, timedelta] | None = NY_SESSION

    def get_market_hours(self, local: datetime) -> SimpleNamespace:
        segments = []
        if self.session is not None:
            start, end = self.session
            segments = [
                SimpleNamespace(start=timedelta(hours=4), end=start, state=MarketHoursState.PRE_MARKET),
                SimpleNamespace(start=start, end=end, state=MarketHoursState.MARKET),
            ]
        return SimpleNamespace(segments=segments)


class FakeSecurity:
    def __init__(self, symbol: FakeSymbol) -> None:
        self.symbol = symbol
        self.has_data = False
        self.exchange = SimpleNamespace(exchange_open=True, hours=FakeExchangeHours())
        self.local_time = datetime(2026, 11, 25, 11, 0)  # a Wednesday, New York time

    def close_market(
        self, local_time: datetime, session: tuple[timedelta, timedelta] | None = NY_SESSION
    ) -> None:
        """The exchange is closed at `local_time`; `session` is that day's regular session."""
        self.exchange.exchange_open = False
        self.exchange.hours.session = session
        self.local_time = local_time
        self.price = 0.0
        self.bid_price = 0.0
        self.ask_price = 0.0


class FakeResponse:
    def __init__(self, error: str = "") -> None:
        self.is_error = bool(error)
        self.is_success = not error
        self.error_message = error


class FakeTicket:
    def __init__(self, order_id: int, error: str = "", quantity: Any = 0) -> None:
        self.order_id = order_id
        self._response = FakeResponse(error)
        self.quantity = quantity
        self.quantity_filled = 0.0  # tests set it as LEAN's fills arrive
        self.update_requests: list[Any] = []
        self.canceled: list[str] = []
        self.update_error = ""  # the error LEAN's synchronous checks answer the next updates with

    def get_most_recent_order_response(self) -> FakeResponse:
        return self._response

    def update(self, fields: Any) -> FakeResponse:
        """OrderTicket.Update: an UpdateOrderRequest LEAN processes (the quantity is the new signed total), or
        one its checks refuse (Error: BrokerageTransactionHandler.cs:441-473@24863901)."""
        status = OrderRequestStatus.ERROR if self.update_error else OrderRequestStatus.PROCESSED
        self.update_requests.append(SimpleNamespace(status=status, **vars(fields)))
        if not self.update_error and fields.quantity is not None:
            self.quantity = fields.quantity
        return FakeResponse(self.update_error)

    def cancel(self, tag: str = "") -> FakeResponse:
        """OrderTicket.Cancel(tag)."""
        self.canceled.append(tag)
        return FakeResponse()


class UpdateOrderFields:
    """LEAN's UpdateOrderFields: None leaves a field as it is."""

    def __init__(self) -> None:
        self.quantity: Any = None
        self.limit_price: Any = None
        self.stop_price: Any = None
        self.trigger_price: Any = None
        self.trailing_amount: Any = None
        self.tag: Any = None


class FakeTransactions:
    def __init__(self) -> None:
        self.orders: dict[int, Any] = {}
        self.tickets: dict[int, Any] = {}
        self.fail: Exception | None = None

    def get_order_ticket(self, order_id: int) -> Any:
        """Transactions.GetOrderTicket: null when LEAN has no ticket for the id."""
        return self.tickets.get(order_id)

    def request_update(self, order_id: int, status: OrderRequestStatus) -> None:
        """An UpdateOrderRequest on the order's ticket, as LEAN's UpdateOrderCommand leaves it."""
        ticket = self.tickets.setdefault(order_id, SimpleNamespace(update_requests=[]))
        ticket.update_requests.append(SimpleNamespace(status=status))

    def get_order_by_id(self, order_id: int) -> Any:
        if self.fail is not None:
            raise self.fail
        return self.orders.get(order_id)

    def get_open_orders(self) -> list[Any]:
        return [order for order in self.orders.values() if getattr(order, "open", False)]


class FakeCashBook(dict[str, Any]):
    """LEAN's CashBook: currency -> Cash (with .amount), and the account currency."""

    account_currency = "USD"


class FakePortfolio:
    """LEAN's SecurityPortfolioManager: holdings by symbol, the cash book and the account totals."""

    def __init__(self) -> None:
        self.holdings: dict[FakeSymbol, Any] = {}
        self.cash_book = FakeCashBook(USD=SimpleNamespace(amount=100000.0))
        self.total_portfolio_value = 100000.0
        self.margin_remaining = 100000.0
        self.total_margin_used = 0.0
        self.total_unrealized_profit = 0.0

    def items(self) -> list[tuple[FakeSymbol, Any]]:
        return list(self.holdings.items())


class TradeBar:
    """LEAN's TradeBar type (the algorithm only passes it to History)."""


class FakeSchedule:
    def __init__(self) -> None:
        self.events: list[tuple[Any, Any, Callable[[], Any]]] = []

    def on(self, date_rule: Any, time_rule: Any, callback: Callable[[], Any]) -> None:
        self.events.append((date_rule, time_rule, callback))

    def every(self, interval: timedelta) -> Callable[[], Any]:
        """The callback scheduled every `interval`."""
        matches = [cb for _, rule, cb in self.events if rule == ("every", interval)]
        assert len(matches) == 1, self.events
        return matches[0]


class FakeDateRules:
    def every_day(self) -> str:
        return "every_day"


class FakeTimeRules:
    def every(self, interval: timedelta) -> tuple[str, timedelta]:
        return ("every", interval)


class TimeInForce:
    """LEAN's TimeInForce instances (Common/Orders/TimeInForce.cs:33,38,43@24863901), named for the asserts."""

    GOOD_TIL_CANCELED = ("GoodTilCanceled",)
    DAY = ("Day",)

    @staticmethod
    def GOOD_TIL_DATE(expiry: datetime) -> tuple[str, datetime]:
        return ("GoodTilDate", expiry)


class InteractiveBrokersOrderProperties:
    """LEAN's InteractiveBrokersOrderProperties: an OrderProperties (TimeInForce GTC by default:
    Common/Orders/OrderProperties.cs:40-43) with OutsideRegularTradingHours (false by default: :57)."""

    def __init__(self) -> None:
        self.time_in_force: Any = TimeInForce.GOOD_TIL_CANCELED
        self.outside_regular_trading_hours = False


class Command:
    """LEAN's Command base class (Common/Commands/Command.cs:32)."""
