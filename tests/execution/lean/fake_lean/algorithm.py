"""The fake QCAlgorithm, recording every call, and the AlgorithmImports module that carries it."""

from __future__ import annotations

import re
import types
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from tests.execution.lean.fake_lean.enums import (
    BrokerageMessageType,
    MarketHoursState,
    OrderRequestStatus,
    OrderStatus,
    OrderType,
    Resolution,
)
from tests.execution.lean.fake_lean.members import (
    Command,
    FakeDateRules,
    FakePortfolio,
    FakeSchedule,
    FakeSecurity,
    FakeSymbol,
    FakeTicket,
    FakeTimeRules,
    FakeTransactions,
    InteractiveBrokersOrderProperties,
    TimeInForce,
    TradeBar,
    UpdateOrderFields,
)


class QCAlgorithm:
    """Records the calls the algorithm makes; tests set parameters, prices, orders and holdings."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.parameters: dict[str, str] = {}
        self.live_mode = True
        self.is_warming_up = False
        self.securities: dict[FakeSymbol, FakeSecurity] = {}
        self.transactions = FakeTransactions()
        self.portfolio = FakePortfolio()
        self.schedule = FakeSchedule()
        self.date_rules = FakeDateRules()
        self.time_rules = FakeTimeRules()
        self.next_order_id = 1
        self.refuse = ""  # a pre-order-check error the next order gets
        self.settings = SimpleNamespace(seed_initial_prices=False)
        self.utc_time = datetime(2026, 11, 25, 19, 0, 5, 500000)  # LEAN's UtcTime: naive, UTC
        self.daily_closes: dict[str, list[float]] = {}  # completed daily bars' closes per ticker (History)
        self.properties: list[Any] = []  # the order_properties of each order placed, in order
        self.commands: dict[str, type] = {}  # AddCommand's registered command classes by name

    def get_parameter(self, name: str, default_value: str | None = None) -> str | None:
        self.calls.append(("get_parameter", name))
        return self.parameters.get(name, default_value)

    def add_equity(self, ticker: str, resolution: Any = None) -> FakeSecurity:
        self.calls.append(("add_equity", ticker, resolution))
        security = FakeSecurity(FakeSymbol(ticker))
        self.securities[security.symbol] = security
        return security

    def _ticket(
        self, tag: str, kind: OrderType = OrderType.MARKET, properties: Any = None, quantity: Any = 0
    ) -> FakeTicket:
        self.properties.append(properties)
        if self.refuse:
            return FakeTicket(0, self.refuse)
        order_id = self.next_order_id
        self.next_order_id += 1
        # IB's order id becomes the order's BrokerId when the plugin places it (InteractiveBrokersBrokerage.cs
        # 1604-1607 at QuantConnect/Lean.Brokerages.InteractiveBrokers@d154917).
        self.transactions.orders[order_id] = SimpleNamespace(
            id=order_id, tag=tag, type=kind, broker_id=[str(1000 + order_id)], properties=properties
        )
        ticket = FakeTicket(order_id, quantity=quantity)
        self.transactions.tickets[order_id] = ticket
        return ticket

    def add_command(self, command_type: type) -> None:
        """QCAlgorithm.AddCommand(type): the command class LEAN runs for a CallbackCommand of its name."""
        self.calls.append(("add_command", command_type.__name__))
        self.commands[command_type.__name__] = command_type

    def run_callback_command(self, payload: dict[str, Any]) -> bool | None:
        """What LEAN does with a command file whose $type no assembly defines: a CallbackCommand of that Type
        (FileCommandHandler.cs:105,134, BaseCommandHandler.cs:118-148@24863901), run by the registered class
        with the file's keys set on it, snake_case where the class declares that name
        (QCAlgorithm.Python.cs:1917-1928, CommandPythonWrapper.cs:37-67, BasePythonWrapper.cs:250-291)."""
        command_type = self.commands.get(str(payload.get("$type")))
        if command_type is None:
            return None  # "Detected unregistered command type": no result (QCAlgorithm.cs:3627-3634)
        command = command_type()
        for key, value in payload.items():
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
            setattr(command, snake if hasattr(command_type, snake) else key, value)
        return command.run(self)

    def market_order(
        self,
        symbol: FakeSymbol,
        quantity: Any,
        asynchronous: bool = False,
        tag: str = "",
        order_properties: Any = None,
    ) -> Any:
        self.calls.append(("market_order", symbol.value, quantity, asynchronous, tag))
        return self._ticket(tag, properties=order_properties)

    def market_on_open_order(
        self,
        symbol: FakeSymbol,
        quantity: Any,
        asynchronous: bool = False,
        tag: str = "",
        order_properties: Any = None,
    ) -> Any:
        self.calls.append(("market_on_open_order", symbol.value, quantity, asynchronous, tag))
        return self._ticket(tag, OrderType.MARKET_ON_OPEN, order_properties)

    def limit_order(
        self,
        symbol: FakeSymbol,
        quantity: Any,
        limit_price: Any,
        asynchronous: bool = False,
        tag: str = "",
        order_properties: Any = None,
    ) -> Any:
        self.calls.append(("limit_order", symbol.value, quantity, limit_price, tag))
        return self._ticket(tag, OrderType.LIMIT, order_properties, quantity)

    def stop_market_order(
        self,
        symbol: FakeSymbol,
        quantity: Any,
        stop_price: Any,
        asynchronous: bool = False,
        tag: str = "",
        order_properties: Any = None,
    ) -> Any:
        self.calls.append(("stop_market_order", symbol.value, quantity, stop_price, tag))
        return self._ticket(tag, properties=order_properties, quantity=quantity)

    def stop_limit_order(
        self,
        symbol: FakeSymbol,
        quantity: Any,
        stop_price: Any,
        limit_price: Any,
        asynchronous: bool = False,
        tag: str = "",
        order_properties: Any = None,
    ) -> Any:
        self.calls.append(("stop_limit_order", symbol.value, quantity, stop_price, limit_price, tag))
        return self._ticket(tag, properties=order_properties)

    def trailing_stop_order(
        self,
        symbol: FakeSymbol,
        quantity: Any,
        trailing_amount: Any,
        trailing_as_percentage: bool,
        asynchronous: bool = False,
        tag: str = "",
        order_properties: Any = None,
    ) -> Any:
        self.calls.append(
            ("trailing_stop_order", symbol.value, quantity, trailing_amount, trailing_as_percentage, tag)
        )
        return self._ticket(tag, OrderType.TRAILING_STOP, order_properties)

    def market_on_close_order(
        self,
        symbol: FakeSymbol,
        quantity: Any,
        asynchronous: bool = False,
        tag: str = "",
        order_properties: Any = None,
    ) -> Any:
        self.calls.append(("market_on_close_order", symbol.value, quantity, tag))
        return self._ticket(tag, OrderType.MARKET_ON_CLOSE, order_properties)

    def limit_if_touched_order(
        self,
        symbol: FakeSymbol,
        quantity: Any,
        trigger_price: Any,
        limit_price: Any,
        asynchronous: bool = False,
        tag: str = "",
        order_properties: Any = None,
    ) -> Any:
        self.calls.append(("limit_if_touched_order", symbol.value, quantity, trigger_price, limit_price, tag))
        return self._ticket(tag, OrderType.LIMIT_IF_TOUCHED, order_properties)

    def history(self, kind: Any, symbol: FakeSymbol, periods: int, resolution: Any) -> dict[str, list[float]]:
        """QCAlgorithm.History(type, symbol, periods, resolution): the frame's `close` column."""
        self.calls.append(("history", kind.__name__, symbol.value, periods, resolution))
        return {"close": self.daily_closes.get(symbol.value, [])[-periods:]}

    def log(self, message: str) -> None:
        self.calls.append(("log", message))

    def debug(self, message: str) -> None:
        self.calls.append(("debug", message))

    def error(self, message: str) -> None:
        self.calls.append(("error", message))

    # helpers for tests
    def orders_placed(self) -> list[tuple[Any, ...]]:
        placing = (
            "market_order",
            "market_on_open_order",
            "limit_order",
            "stop_market_order",
            "stop_limit_order",
        )
        return [c for c in self.calls if c[0] in placing]

    def security(self, ticker: str) -> FakeSecurity:
        return next(s for sym, s in self.securities.items() if sym.value == ticker)


def fake_algorithm_imports() -> types.ModuleType:
    module = types.ModuleType("AlgorithmImports")
    module.TimeInForce = TimeInForce  # type: ignore[attr-defined]
    module.InteractiveBrokersOrderProperties = InteractiveBrokersOrderProperties  # type: ignore[attr-defined]
    module.Command = Command  # type: ignore[attr-defined]
    module.QCAlgorithm = QCAlgorithm  # type: ignore[attr-defined]
    module.OrderStatus = OrderStatus  # type: ignore[attr-defined]
    module.OrderRequestStatus = OrderRequestStatus  # type: ignore[attr-defined]
    module.Resolution = Resolution  # type: ignore[attr-defined]
    module.BrokerageMessageType = BrokerageMessageType  # type: ignore[attr-defined]
    module.OrderType = OrderType  # type: ignore[attr-defined]
    module.MarketHoursState = MarketHoursState  # type: ignore[attr-defined]
    module.TradeBar = TradeBar  # type: ignore[attr-defined]
    module.UpdateOrderFields = UpdateOrderFields  # type: ignore[attr-defined]
    return module
