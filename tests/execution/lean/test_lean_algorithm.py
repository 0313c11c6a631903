"""The LEAN algorithm against a recorder standing in for the QCAlgorithm members it uses.

LEAN cannot run here (no .NET) and quantconnect-stubs has no runtime code, so a fake `AlgorithmImports`
module is put into sys.modules before the algorithm is imported. Its QCAlgorithm records every call.

LEAN facts the tests hold the algorithm to, read in QuantConnect/Lean at
24863901deffa9ec7985e21ef8fbdb0258efb9e4: settings.seed_initial_prices is off by default
(Common/AlgorithmSettings.cs 200) and orders without data are refused (Algorithm/QCAlgorithm.Trading.cs
1150); MarketOrder turns a closed-market equity order into MarketOnOpen (QCAlgorithm.Trading.cs 245-258);
IB takes MarketOnOpen only until two minutes before the open (Common/Brokerages/
InteractiveBrokersBrokerageModel.cs 352-355); LEAN reads IB's holdings only at setup
(Engine/Setup/BrokerageSetupHandler.cs 420) and OnWarmupFinished runs right after it even without warm-up
(Engine/AlgorithmManager.cs 711); on SIGINT the loop ends and OnEndOfAlgorithm runs (AlgorithmManager.cs 616).
"""

from __future__ import annotations

import enum
import importlib
import json
import math
import os
import re
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from execution.contract import EVENT_KEYS

MODULE = "execution.lean.manual_order_execution"
REPO_ROOT = Path(__file__).resolve().parents[3]


# ---------------------------------------------------------------------------------------------------------
# The stand-in for LEAN's AlgorithmImports
# ---------------------------------------------------------------------------------------------------------


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

    def get_most_recent_order_response(self) -> FakeResponse:
        return self._response

    def update(self, fields: Any) -> FakeResponse:
        """OrderTicket.Update: an UpdateOrderRequest LEAN processes (the quantity is the new signed total)."""
        self.update_requests.append(
            SimpleNamespace(status=OrderRequestStatus.PROCESSED, quantity=fields.quantity)
        )
        self.quantity = fields.quantity
        return FakeResponse()

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


@pytest.fixture
def lean(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """The algorithm module, imported against the fake AlgorithmImports."""
    monkeypatch.setitem(sys.modules, "AlgorithmImports", fake_algorithm_imports())
    sys.modules.pop(MODULE, None)
    module = importlib.import_module(MODULE)
    yield module
    sys.modules.pop(MODULE, None)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "engines" / "paper"
    (folder / "intents").mkdir(parents=True)
    return folder


def write_intent(workdir: Path, **fields: Any) -> Path:
    intent = {
        "order_intent_id": "oi_3_1_1764000000123",
        "symbol": "AAPL",
        "quantity": -10,
        "order_type": "MKT",
        "limit_price": None,
        "weight": None,
        "project_id": 3,
        "mode": "paper",
        "created_at": "2026-11-25T19:00:00Z",
        **fields,
    }
    path = workdir / "intents" / f"{intent['order_intent_id']}.json"
    path.write_text(json.dumps(intent), encoding="utf-8")
    return path


def make_algorithm(lean: types.ModuleType, workdir: Path, intent: Path | None, run_id: str = "r-1") -> Any:
    algo = lean.ManualOrderExecution()
    algo.parameters = {
        "intent-file": str(intent) if intent else "",
        "events-file": str(workdir / "events.jsonl"),
        "run-id": run_id,
    }
    return algo


def read_lines(workdir: Path) -> list[dict[str, Any]]:
    raw = (workdir / "events.jsonl").read_bytes()
    assert raw.endswith(b"\n")
    return [json.loads(line) for line in raw.split(b"\n")[:-1]]


def order_event(**fields: Any) -> SimpleNamespace:
    base: dict[str, Any] = {
        "order_id": 1,
        "id": 1,
        "symbol": FakeSymbol("AAPL"),
        "utc_time": datetime(2026, 11, 25, 19, 0, 1, 250000),  # LEAN's UtcTime: naive, UTC
        "status": OrderStatus.SUBMITTED,
        "order_fee": SimpleNamespace(value=SimpleNamespace(amount=0.0, currency="USD")),
        "fill_price": 0.0,
        "fill_quantity": 0.0,
        "message": "",
    }
    base.update(fields)
    return SimpleNamespace(**base)


# ---------------------------------------------------------------------------------------------------------
# Intent -> order
# ---------------------------------------------------------------------------------------------------------


def test_initialize_reads_its_six_parameters(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    asked = {c[1] for c in algo.calls if c[0] == "get_parameter"}
    assert asked == {
        "intent-file",
        "intents-folder",
        "events-file",
        "run-id",
        "prices-interval",
        "max-line-bytes",
    }


def test_market_sell_is_placed_with_negative_quantity_and_the_tag(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir, quantity=-10))
    algo.initialize()
    assert ("add_equity", "AAPL", Resolution.SECOND) in algo.calls
    assert algo.orders_placed() == []  # LEAN refuses orders before the first price: none yet

    algo.security("AAPL").has_data = True
    algo.on_data(None)
    algo.on_data(None)

    assert algo.orders_placed() == [("market_order", "AAPL", -10, True, "oi_3_1_1764000000123")]


def test_limit_buy_is_placed_with_its_limit_and_the_tag(lean: types.ModuleType, workdir: Path) -> None:
    intent = write_intent(
        workdir, order_intent_id="oi_3_2_1", quantity=5, order_type="LMT", limit_price=189.5
    )
    algo = make_algorithm(lean, workdir, intent)
    algo.initialize()
    algo.security("AAPL").has_data = True
    algo.on_warmup_finished()

    assert algo.orders_placed() == [("limit_order", "AAPL", 5, 189.5, "oi_3_2_1")]


def test_no_order_while_warming_up_or_without_a_price(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    algo.on_data(None)
    algo.schedule.every(timedelta(minutes=1))()
    assert algo.orders_placed() == []

    algo.security("AAPL").has_data = True
    algo.is_warming_up = True
    algo.on_data(None)
    assert algo.orders_placed() == []

    algo.is_warming_up = False
    algo.schedule.every(timedelta(minutes=1))()  # the minute callback also places a waiting order
    assert len(algo.orders_placed()) == 1


def test_order_refused_by_leans_pre_order_checks_is_reported_invalid(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    algo.refuse = "There is no data for this symbol yet"
    algo.security("AAPL").has_data = True
    algo.on_data(None)

    invalid = [line for line in read_lines(workdir) if line.get("tag")]
    assert len(invalid) == 1
    line = invalid[0]
    assert list(line) == list(EVENT_KEYS)
    assert line["tag"] == "oi_3_1_1764000000123"
    assert line["status"] == "Invalid"
    assert (line["order_id"], line["event_id"], line["run_id"]) == (0, 0, "r-1")
    assert line["message"] == "There is no data for this symbol yet"
    assert line["filled"] == 0


def test_an_exception_while_placing_is_reported_invalid(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("brokerage not ready")

    algo.market_order = explode
    algo.security("AAPL").has_data = True
    algo.on_data(None)
    algo.on_data(None)

    events = [line for line in read_lines(workdir) if line.get("tag")]
    assert [(e["status"], e["message"]) for e in events] == [("Invalid", "RuntimeError: brokerage not ready")]


def test_an_intent_that_cannot_be_placed_is_reported_invalid_without_an_order(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir, quantity=0))
    algo.initialize()

    assert algo.orders_placed() == []
    events = [line for line in read_lines(workdir) if line.get("tag")]
    assert [(e["tag"], e["status"]) for e in events] == [("oi_3_1_1764000000123", "Invalid")]
    assert "zero" in events[0]["message"]


def test_an_unreadable_intent_is_an_engine_error_line(lean: types.ModuleType, workdir: Path) -> None:
    intent = workdir / "intents" / "broken.json"
    intent.write_text("{not json", encoding="utf-8")
    algo = make_algorithm(lean, workdir, intent)
    algo.initialize()

    lines = read_lines(workdir)
    errors = [line for line in lines if line.get("type") == "engine" and line["status"] == "error"]
    assert len(errors) == 1
    assert "unreadable" in errors[0]["message"]
    assert not any("tag" in line for line in lines)


def test_engine_without_an_intent_just_starts(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    assert algo.orders_placed() == []
    assert [line["status"] for line in read_lines(workdir)] == ["started"]


# ---------------------------------------------------------------------------------------------------------
# Order events -> contract lines
# ---------------------------------------------------------------------------------------------------------


def test_a_partial_fill_of_a_sell_is_exactly_the_contract_line(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir), run_id="r-20261125T190000-1a2b")
    algo.initialize()
    algo.security("AAPL").has_data = True
    algo.on_data(None)

    algo.on_order_event(
        order_event(
            order_id=1,
            id=3,
            status=OrderStatus.PARTIALLY_FILLED,
            fill_quantity=-4.0,  # LEAN's FillQuantity is signed: a sell fills negative
            fill_price=189.31,
            order_fee=SimpleNamespace(value=SimpleNamespace(amount=1.0, currency="USD")),
        )
    )

    line = read_lines(workdir)[-1]
    assert line == {
        "tag": "oi_3_1_1764000000123",
        "status": "PartiallyFilled",
        "order_id": 1,
        "event_id": 3,
        "run_id": "r-20261125T190000-1a2b",
        "symbol": "AAPL",
        "time": "2026-11-25T19:00:01.250Z",
        "filled": 4,
        "fill_price": 189.31,
        "fee": 1,
        "fee_currency": "USD",
        "message": "",
        "broker_ids": ["1001"],  # Order.BrokerId: looked up on the order (not on the OrderEvent)
    }
    assert list(line) == list(EVENT_KEYS)


def test_an_order_placed_from_an_order_command_reports_its_own_tag(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    # LEAN placed this order itself from command-<uuid>.json; the algorithm only sees its events.
    algo.transactions.orders[7] = SimpleNamespace(id=7, tag="oi_4_9_1764000000999")
    algo.on_order_event(
        order_event(
            order_id=7,
            id=2,
            symbol=FakeSymbol("MSFT"),
            status=OrderStatus.FILLED,
            fill_quantity=3,
            fill_price=410.5,
            message="filled at IB",
        )
    )
    line = read_lines(workdir)[-1]
    assert (line["tag"], line["status"], line["order_id"], line["event_id"]) == (
        "oi_4_9_1764000000999",
        "Filled",
        7,
        2,
    )
    assert (line["symbol"], line["filled"], line["fill_price"], line["message"]) == (
        "MSFT",
        3,
        410.5,
        "filled at IB",
    )


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (OrderStatus.NEW, "New"),
        (OrderStatus.SUBMITTED, "Submitted"),
        (OrderStatus.PARTIALLY_FILLED, "PartiallyFilled"),
        (OrderStatus.FILLED, "Filled"),
        (OrderStatus.CANCELED, "Canceled"),
        (OrderStatus.NONE, "None"),
        (OrderStatus.INVALID, "Invalid"),
        (OrderStatus.CANCEL_PENDING, "CancelPending"),
        (OrderStatus.UPDATE_SUBMITTED, "UpdateSubmitted"),
        (5, "Canceled"),  # a bare number still becomes its name
        (4, "OrderStatus4"),  # a number LEAN does not use is never written as a number
        ("Expired", "Expired"),  # an unknown name is reported as it is
    ],
)
def test_status_is_written_as_leans_name(
    lean: types.ModuleType, workdir: Path, status: Any, name: str
) -> None:
    assert lean.status_name(status) == name
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    algo.on_order_event(order_event(status=status))
    assert read_lines(workdir)[-1]["status"] == name


def test_event_line_leaves_out_numbers_it_cannot_write_honestly(lean: types.ModuleType) -> None:
    line = lean.event_line(
        tag="t",
        status="Filled",
        order_id=1,
        event_id=1,
        run_id="r",
        symbol="AAPL",
        time=None,
        fill_quantity=2,
        fill_price=math.nan,
        fee=-0.35,
        fee_currency="USD",
        message="",
    )
    assert "fill_price" not in line
    assert "fee" not in line
    assert line["filled"] == 2
    lean.encode_line(line)  # no NaN can reach the file


def test_times_are_utc_with_milliseconds_and_z(lean: types.ModuleType) -> None:
    assert lean.utc_iso(datetime(2026, 11, 25, 19, 0, 1, 999999)) == "2026-11-25T19:00:01.999Z"
    aware = datetime(2026, 11, 25, 20, 0, 1, 5000, tzinfo=UTC)
    assert lean.utc_iso(aware) == "2026-11-25T20:00:01.005Z"


# ---------------------------------------------------------------------------------------------------------
# Events file: torn lines, engine lines, holdings
# ---------------------------------------------------------------------------------------------------------


def test_a_torn_last_line_is_closed_before_the_first_write(lean: types.ModuleType, workdir: Path) -> None:
    events = workdir / "events.jsonl"
    torn = b'{"tag": "oi_old", "status": "Fil'
    events.write_bytes(b'{"type": "engine", "status": "started", "run_id": "r-0"}\n' + torn)

    algo = make_algorithm(lean, workdir, None)
    algo.initialize()

    raw = events.read_bytes().split(b"\n")
    assert raw[1] == torn  # the torn line is closed off as one bad line ...
    assert json.loads(raw[2])["status"] == "started"  # ... and never swallows this run's first line
    assert raw[-1] == b""


@pytest.mark.parametrize(
    ("content", "closed"),
    [(None, False), (b"", False), (b'{"a": 1}\n', False), (b'{"a": 1}\n{"b"', True), (b'{"a": 1}', True)],
)
def test_close_torn_line(lean: types.ModuleType, tmp_path: Path, content: bytes | None, closed: bool) -> None:
    path = tmp_path / "events.jsonl"
    if content is not None:
        path.write_bytes(content)
    assert lean.close_torn_line(path) is closed
    if content is not None:
        assert path.read_bytes() == content + (b"\n" if closed else b"")
    else:
        assert not path.exists()


def test_started_and_stopped_lines(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir), run_id="r-7")
    algo.initialize()
    algo.on_end_of_algorithm()

    lines = read_lines(workdir)
    first, last = lines[0], lines[-1]
    assert (first["type"], first["status"], first["run_id"], first["engine"]) == (
        "engine",
        "started",
        "r-7",
        "lean",
    )
    assert (last["type"], last["status"], last["run_id"]) == ("engine", "stopped", "r-7")
    assert "tag" not in first and "tag" not in last
    assert lines[-2]["type"] == "holdings"  # a last holdings line before stopping


def test_holdings_line_at_start_and_every_minute(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None, run_id="r-9")
    algo.initialize()
    algo.portfolio.holdings = {
        FakeSymbol("TSLA"): SimpleNamespace(quantity=-3.0, average_price=200.5),
        FakeSymbol("AAPL"): SimpleNamespace(quantity=10.0, average_price=189.2),
        FakeSymbol("MSFT"): SimpleNamespace(quantity=0.0, average_price=0.0),
    }
    algo.on_warmup_finished()  # LEAN has loaded IB's holdings: the start line
    algo.schedule.every(timedelta(minutes=1))()

    holdings = [line for line in read_lines(workdir) if line.get("type") == "holdings"]
    assert len(holdings) == 2
    # The line after setup is IB's holdings as LEAN loaded them; later ones are LEAN's own fills since.
    assert [line["source"] for line in holdings] == ["broker", "lean"]
    for line in holdings:
        assert set(line) == {"type", "run_id", "time", "holdings", "source"}
        assert line["run_id"] == "r-9"
        assert line["holdings"] == [
            {"symbol": "AAPL", "quantity": 10, "avg_price": 189.2},
            {"symbol": "TSLA", "quantity": -3, "avg_price": 200.5},
        ]
    date_rule, _, _ = algo.schedule.events[0]
    assert date_rule == "every_day"


def test_handler_errors_become_error_lines_and_never_raise(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    algo.transactions.fail = RuntimeError("boom")
    algo.on_order_event(order_event())
    algo.on_brokerage_message(
        SimpleNamespace(type=BrokerageMessageType.INFORMATION, code="2104", message="farm OK")
    )
    algo.on_brokerage_message(SimpleNamespace(type=BrokerageMessageType.ERROR, code="1100", message="lost"))
    algo.on_brokerage_disconnect()
    algo.on_brokerage_reconnect()

    engine = [(line["status"], line.get("message", "")) for line in read_lines(workdir)[1:]]
    assert engine == [
        ("error", "on_order_event: RuntimeError: boom"),
        ("error", "brokerage 1100: lost"),
        ("error", "brokerage disconnected"),
        ("reconnected", ""),
    ]
    assert ("error", "tradedesk: brokerage 1100: lost") in algo.calls


def test_not_live_mode_is_reported(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.live_mode = False
    algo.initialize()
    assert any(
        line["status"] == "error" and "live mode" in line["message"] for line in read_lines(workdir)[1:]
    )


def test_every_line_is_one_json_object_ending_in_a_newline(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    algo.security("AAPL").has_data = True
    algo.on_data(None)
    for event_id in (1, 2):
        algo.on_order_event(order_event(id=event_id))
    algo.on_end_of_algorithm()
    raw = (workdir / "events.jsonl").read_bytes()
    assert raw.count(b"\n") == len(read_lines(workdir)) == 5


# ---------------------------------------------------------------------------------------------------------
# Subscriptions for OrderCommand orders
# ---------------------------------------------------------------------------------------------------------


def test_symbols_of_new_intents_are_subscribed(lean: types.ModuleType, workdir: Path) -> None:
    write_intent(workdir, order_intent_id="oi_old", symbol="MSFT")
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    assert [c[1] for c in algo.calls if c[0] == "add_equity"] == ["AAPL", "MSFT"]

    # An order handed over as a command: tradedesk writes its intent first, the scan subscribes it.
    write_intent(workdir, order_intent_id="oi_new", symbol="TSLA")
    (workdir / "intents" / ".oi_tmp.json.tmp").write_text("{}")
    algo.schedule.every(timedelta(seconds=5))()
    algo.schedule.every(timedelta(seconds=5))()
    assert [c[1] for c in algo.calls if c[0] == "add_equity"] == ["AAPL", "MSFT", "TSLA"]


def test_intent_symbols_skips_bad_files(lean: types.ModuleType, tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"symbol": "AAPL"}))
    (tmp_path / "b.json").write_text(json.dumps({"symbol": "not a symbol"}))
    (tmp_path / "c.json").write_text("[1, 2]")
    seen: set[str] = set()
    assert lean.intent_symbols(tmp_path, seen) == ["AAPL"]
    assert lean.intent_symbols(tmp_path, seen) == []
    assert lean.intent_symbols(tmp_path / "missing", set()) == []


# ---------------------------------------------------------------------------------------------------------
# The algorithm stays out of tradedesk's own imports
# ---------------------------------------------------------------------------------------------------------


def test_tradedesk_never_imports_the_algorithm() -> None:
    code = (
        "import django, sys; django.setup(); "
        "import execution.engine.config, execution.engine.process, execution.dispatch.handover, execution.tasks, execution.ingest.events; "
        "assert 'AlgorithmImports' not in sys.modules and '" + MODULE + "' not in sys.modules"
    )
    env = {"DJANGO_SETTINGS_MODULE": "tradedesk.settings", "PATH": "/usr/bin:/bin"}
    env.update({k: v for k, v in os.environ.items() if k in ("DATABASE_URL", "CELERY_BROKER_URL", "HOME")})
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------------------
# Prices and market hours
# ---------------------------------------------------------------------------------------------------------


def test_initial_prices_are_seeded(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    assert algo.settings.seed_initial_prices is True


def _closed_market_order(lean: types.ModuleType, workdir: Path, local: datetime, session: Any) -> Any:
    algo = make_algorithm(lean, workdir, write_intent(workdir, quantity=7))
    algo.initialize()
    security = algo.security("AAPL")
    security.has_data = True
    security.close_market(local, session)
    algo.on_data(None)
    return algo


def test_market_order_before_the_open_becomes_market_on_open(lean: types.ModuleType, workdir: Path) -> None:
    algo = _closed_market_order(lean, workdir, datetime(2026, 11, 25, 8, 0), NY_SESSION)
    assert algo.orders_placed() == [("market_on_open_order", "AAPL", 7, True, "oi_3_1_1764000000123")]

    algo.on_order_event(order_event(order_id=1, id=1, status=OrderStatus.SUBMITTED))
    line = read_lines(workdir)[-1]
    assert (line["status"], line["message"]) == ("Submitted", lean.MOO_MESSAGE)  # the order shows which


def test_market_order_on_a_day_without_a_session_becomes_market_on_open(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = _closed_market_order(lean, workdir, datetime(2026, 11, 28, 12, 0), None)  # a Saturday
    assert [c[0] for c in algo.orders_placed()] == ["market_on_open_order"]


def test_market_order_in_the_two_minutes_before_the_open_is_refused(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = _closed_market_order(lean, workdir, datetime(2026, 11, 25, 9, 29), NY_SESSION)
    assert algo.orders_placed() == []
    events = [line for line in read_lines(workdir) if line.get("tag")]
    assert [(e["status"], e["order_id"], e["event_id"]) for e in events] == [("Invalid", 0, 0)]
    assert events[0]["message"].startswith("refused:") and "09:28" in events[0]["message"]


def test_market_order_while_open_stays_a_market_order(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir))
    algo.initialize()
    algo.security("AAPL").has_data = True
    algo.on_data(None)
    assert [c[0] for c in algo.orders_placed()] == ["market_order"]
    algo.on_order_event(order_event(order_id=1, id=1, status=OrderStatus.SUBMITTED))
    assert read_lines(workdir)[-1]["message"] == ""


def test_the_algorithm_never_appends_through_a_symlinked_events_file(
    lean: types.ModuleType, tmp_path: Path
) -> None:
    target = tmp_path / "victim"
    target.write_bytes(b"precious\n")
    os.symlink(target, tmp_path / "events.jsonl")
    with pytest.raises(OSError):
        lean.append_line(tmp_path / "events.jsonl", {"type": "engine", "status": "started"})
    assert target.read_bytes() == b"precious\n"


# ---------------------------------------------------------------------------------------------------------
# Stop orders and the prices snapshot
# ---------------------------------------------------------------------------------------------------------


def place_on_first_price(lean: types.ModuleType, workdir: Path, **intent: Any) -> Any:
    algo = make_algorithm(lean, workdir, write_intent(workdir, **intent))
    algo.initialize()
    algo.security("AAPL").has_data = True
    algo.on_data(None)
    return algo


def test_stop_sell_is_placed_as_a_stop_market_order_with_its_stop(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = place_on_first_price(lean, workdir, order_type="STP", stop_price=180.5)
    assert algo.orders_placed() == [("stop_market_order", "AAPL", -10, 180.5, "oi_3_1_1764000000123")]


def test_stop_limit_buy_is_placed_with_stop_and_limit(lean: types.ModuleType, workdir: Path) -> None:
    algo = place_on_first_price(
        lean, workdir, quantity=5, order_type="STP LMT", stop_price=195, limit_price=196.25
    )
    assert algo.orders_placed() == [("stop_limit_order", "AAPL", 5, 195, 196.25, "oi_3_1_1764000000123")]


@pytest.mark.parametrize(
    "fields",
    [
        {"order_type": "STP", "stop_price": None},
        {"order_type": "STP", "stop_price": 0},
        {"order_type": "STP LMT", "stop_price": 195, "limit_price": None},
        {"order_type": "STP LMT", "stop_price": True, "limit_price": 196},
    ],
)
def test_a_stop_intent_without_its_prices_is_reported_invalid(
    lean: types.ModuleType, workdir: Path, fields: dict[str, Any]
) -> None:
    algo = make_algorithm(lean, workdir, write_intent(workdir, **fields))
    algo.initialize()
    assert algo.orders_placed() == []
    invalid = [line for line in read_lines(workdir) if line.get("status") == "Invalid"]
    assert len(invalid) == 1 and "price" in invalid[0]["message"]


def test_prices_file_has_held_open_order_and_subscribed_symbols_and_is_not_an_events_line(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None, run_id="r-7")
    algo.parameters["prices-interval"] = "3"
    algo.initialize()
    for ticker, last, bid, ask in (
        ("AAPL", 190.25, 190.2, 190.3),
        ("MSFT", 410.0, 0.0, 0.0),
        ("TSLA", 1.0, 1, 1),
    ):
        security = algo.add_equity(ticker)
        security.price, security.bid_price, security.ask_price = last, bid, ask
    symbols = {s.value: s for s in algo.securities}
    algo.portfolio.holdings = {
        symbols["AAPL"]: SimpleNamespace(quantity=10.0, average_price=189.2),
        symbols["TSLA"]: SimpleNamespace(quantity=0.0, average_price=0.0),
    }
    algo.transactions.orders[9] = SimpleNamespace(id=9, tag="oi_9", symbol=symbols["MSFT"], open=True)
    lines_before = (workdir / "events.jsonl").read_bytes()

    algo.schedule.every(timedelta(seconds=3))()

    snapshot = json.loads((workdir / "prices.json").read_text())
    assert snapshot == {
        "run_id": "r-7",
        "time": "2026-11-25T19:00:05.500Z",
        "prices": [
            {"symbol": "AAPL", "last": 190.25, "bid": 190.2, "ask": 190.3},
            {"symbol": "MSFT", "last": 410, "bid": None, "ask": None},
            # Flat, no open order: priced because it is subscribed (an AddSecurityCommand, a ticket's quote).
            {"symbol": "TSLA", "last": 1, "bid": 1, "ask": 1},
        ],
    }
    assert (workdir / "events.jsonl").read_bytes() == lines_before
    assert not [p for p in workdir.iterdir() if p.name.startswith(".prices.json")]


def test_prices_interval_parameter_is_at_least_a_second(lean: types.ModuleType) -> None:
    assert lean.prices_interval("5") == timedelta(seconds=5)
    assert lean.prices_interval("0.2") == timedelta(seconds=1)
    assert lean.prices_interval(None) == timedelta(seconds=2)
    assert lean.prices_interval("soon") == timedelta(seconds=2)
    assert lean.prices_interval("nan") == timedelta(seconds=2)


def test_prices_snapshot_leaves_out_symbols_without_a_price(lean: types.ModuleType) -> None:
    snapshot = lean.prices_snapshot(
        run_id="r", quotes=[("B", 0, 1, 1), ("A", float("nan"), 1, 1), ("C", 2.5, None, 2.6)], time=None
    )
    assert snapshot["prices"] == [{"symbol": "C", "last": 2.5, "bid": None, "ask": 2.6}]


def test_an_update_of_a_working_order_is_reported_as_update_submitted_with_its_tag(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    # LEAN ran the UpdateOrderCommand itself (Transactions.UpdateOrder); the algorithm sees the order events.
    algo.transactions.orders[7] = SimpleNamespace(id=7, tag="oi_4_9_1764000000999")
    algo.on_order_event(order_event(order_id=7, id=2, status=OrderStatus.UPDATE_SUBMITTED))
    algo.on_order_event(order_event(order_id=7, id=3, message="Brokerage failed to update order"))
    confirmed, failed = read_lines(workdir)[-2:]
    assert (confirmed["tag"], confirmed["status"], confirmed["order_id"], confirmed["event_id"]) == (
        "oi_4_9_1764000000999",
        "UpdateSubmitted",
        7,
        2,
    )
    assert confirmed["filled"] == 0
    # The ingest drops the pending update on this message (orders.services.modify.UPDATE_FAILED_MESSAGES).
    assert (failed["status"], failed["message"]) == ("Submitted", "Brokerage failed to update order")


def test_the_account_file_is_leans_portfolio_beside_the_prices_and_not_an_events_line(
    lean: types.ModuleType, workdir: Path
) -> None:
    # Names from Common/Securities/SecurityPortfolioManager.cs@24863901deffa9ec7985e21ef8fbdb0258efb9e4:
    # CashBook (77), TotalUnrealizedProfit (418), TotalPortfolioValue (430), TotalMarginUsed (562),
    # MarginRemaining (580); CashBook.AccountCurrency (CashBook.cs:45), Cash.Amount (Cash.cs:110).
    algo = make_algorithm(lean, workdir, None, run_id="r-8")
    algo.parameters["prices-interval"] = "2"
    algo.initialize()
    portfolio = algo.portfolio
    portfolio.cash_book = FakeCashBook(
        USD=SimpleNamespace(amount=98_107.504), EUR=SimpleNamespace(amount=12.5)
    )
    portfolio.total_portfolio_value = 100_010.004
    portfolio.margin_remaining = 99_058.75
    portfolio.total_margin_used = 951.25
    portfolio.total_unrealized_profit = 10.5
    lines_before = (workdir / "events.jsonl").read_bytes()

    algo.schedule.every(timedelta(seconds=2))()

    assert json.loads((workdir / "account.json").read_text()) == {
        "run_id": "r-8",
        "time": "2026-11-25T19:00:05.500Z",
        "currency": "USD",
        "cash": [{"currency": "EUR", "amount": 12.5}, {"currency": "USD", "amount": 98107.5}],
        "net_liquidation": 100010,
        "total_margin_used": 951.25,
        "buying_power": 99058.75,
        "unrealized_pnl": 10.5,
    }
    assert (workdir / "events.jsonl").read_bytes() == lines_before
    assert not [p for p in workdir.iterdir() if p.name.startswith(".account.json")]


def test_an_account_lean_cannot_value_is_an_error_line_and_no_file(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    algo.portfolio.total_portfolio_value = float("nan")
    algo.schedule.every(timedelta(seconds=2))()
    assert not (workdir / "account.json").exists()
    errors = [line for line in read_lines(workdir) if line.get("status") == "error"]
    assert errors and errors[-1]["message"].startswith("account: ValueError")


def test_held_symbols_carry_the_previous_close_from_one_daily_history_request_a_day(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.parameters["prices-interval"] = "2"
    algo.initialize()
    aapl = algo.add_equity("AAPL")
    aapl.price, aapl.bid_price, aapl.ask_price = 190.25, 190.2, 190.3
    amd = algo.add_equity("AMD")
    amd.price, amd.bid_price, amd.ask_price = 120.0, 119.9, 120.1
    algo.portfolio.holdings = {aapl.symbol: SimpleNamespace(quantity=10.0, average_price=189.2)}
    algo.daily_closes = {"AAPL": [187.5, 188.75], "AMD": [119.0]}
    tick = algo.schedule.every(timedelta(seconds=2))
    tick()
    tick()
    quotes = {q["symbol"]: q for q in json.loads((workdir / "prices.json").read_text())["prices"]}
    assert quotes["AAPL"]["previous_close"] == 188.75
    assert "previous_close" not in quotes["AMD"]  # subscribed, not held: no history asked
    asked = [call for call in algo.calls if call[0] == "history"]
    assert asked == [("history", "TradeBar", "AAPL", 1, Resolution.DAILY)]  # once for the exchange date
    aapl.local_time = datetime(2026, 11, 26, 9, 31)
    tick()
    assert len([call for call in algo.calls if call[0] == "history"]) == 2


def test_last_close_of_a_frame(lean: types.ModuleType) -> None:
    assert lean.last_close({"close": [1.5, 2.5]}) == 2.5
    assert lean.last_close({"close": []}) is None
    assert lean.last_close({}) is None
    assert lean.last_close({"close": [float("nan")]}) is None


# ---------------------------------------------------------------------------------------------------------
# A modify IB refuses (issue 21 item 4)
# ---------------------------------------------------------------------------------------------------------

IB_REFUSED = REPO_ROOT / "tests" / "fixtures" / "ib" / "refused-update-excerpt.json"
LEAN_UPDATES = REPO_ROOT / "tests" / "fixtures" / "lean" / "update-request-excerpt.json"


def _excerpt(path: Path, lines: str) -> str:
    found = [e for e in json.loads(path.read_text())["excerpts"] if e["lines"] == lines]
    assert len(found) == 1
    return "\n".join(found[0]["text"])


def test_ib_invalidates_the_order_itself_when_a_modify_fails() -> None:
    """The facts the mark rests on (IB plugin InteractiveBrokersBrokerage.cs@d154917, kept as a fixture)."""
    codes = _excerpt(IB_REFUSED, "5896-5904")
    for code in ("104, // Can't modify a filled order", " 105,", " 110,", " 201,"):
        assert code in codes
    handle_error = _excerpt(IB_REFUSED, "2232-2260")
    assert "if (InvalidatingCodes.Contains(errorCode)" in handle_error
    assert "var orders = _orderProvider.GetOrdersByBrokerageId(requestId);" in handle_error
    assert "Status = OrderStatus.Invalid," in handle_error  # for the order, whatever the request was
    update = _excerpt(IB_REFUSED, "472-499")
    assert "_orderUpdates[order.Id] = order.Id;" in update and "IBPlaceOrder(order, false);" in update
    statuses = _excerpt(IB_REFUSED, "2404-2431")
    assert "Status = isUpdate ? OrderStatus.UpdateSubmitted : status" in statuses
    # LEAN: an update that passed its synchronous checks is Processing, then Processed; an error is Error.
    assert "OrderRequestStatus.Processing" in _excerpt(LEAN_UPDATES, "474-478")
    assert "request.SetResponse(response, OrderRequestStatus.Processed);" in _excerpt(LEAN_UPDATES, "851-852")
    assert "Status = response.IsError ? OrderRequestStatus.Error : status;" in _excerpt(
        LEAN_UPDATES, "94-104"
    )


def _working_order(lean: types.ModuleType, workdir: Path) -> Any:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    algo.transactions.orders[7] = SimpleNamespace(id=7, tag="oi_4_9_1764000000999", broker_id=["1007"])
    algo.on_order_event(order_event(order_id=7, id=1, status=OrderStatus.SUBMITTED))
    return algo


def test_an_invalid_while_an_update_is_in_flight_is_marked_as_a_refused_update(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = _working_order(lean, workdir)
    algo.transactions.request_update(7, OrderRequestStatus.PROCESSED)
    algo.on_order_event(
        order_event(order_id=7, id=2, status=OrderStatus.INVALID, message="110 - The price does not conform")
    )
    refused = read_lines(workdir)[-1]
    assert (refused["status"], refused["message"], refused["update_refused"]) == (
        "Invalid",
        "110 - The price does not conform",
        True,
    )
    assert list(refused) == [*EVENT_KEYS, "update_refused"]
    # The update is answered: a later Invalid (IB rejecting the order itself) is not marked.
    algo.on_order_event(order_event(order_id=7, id=3, status=OrderStatus.INVALID, message="201 - rejected"))
    assert "update_refused" not in read_lines(workdir)[-1]


def test_a_confirmed_update_leaves_no_update_in_flight(lean: types.ModuleType, workdir: Path) -> None:
    algo = _working_order(lean, workdir)
    algo.transactions.request_update(7, OrderRequestStatus.PROCESSING)  # the brokerage call has not returned
    algo.on_order_event(order_event(order_id=7, id=2, status=OrderStatus.UPDATE_SUBMITTED))
    algo.on_order_event(order_event(order_id=7, id=3, status=OrderStatus.INVALID, message="201 - rejected"))
    assert [("update_refused" in line) for line in read_lines(workdir)[-2:]] == [False, False]
    # A second update, then IB refuses it: marked.
    algo.transactions.request_update(7, OrderRequestStatus.PROCESSING)
    algo.on_order_event(order_event(order_id=7, id=4, status=OrderStatus.INVALID, message="105 - bad modify"))
    assert read_lines(workdir)[-1]["update_refused"] is True


@pytest.mark.parametrize("request_status", [None, OrderRequestStatus.ERROR, OrderRequestStatus.UNPROCESSED])
def test_an_invalid_without_an_update_sent_is_not_marked(
    lean: types.ModuleType, workdir: Path, request_status: Any
) -> None:
    algo = _working_order(lean, workdir)
    if request_status is not None:
        algo.transactions.request_update(7, request_status)  # refused by LEAN itself, or never sent
    algo.on_order_event(order_event(order_id=7, id=2, status=OrderStatus.INVALID, message="201 - rejected"))
    line = read_lines(workdir)[-1]
    assert line["status"] == "Invalid" and "update_refused" not in line


def test_the_algorithm_and_the_contract_name_the_mark_alike(lean: types.ModuleType) -> None:
    from execution.contract import UPDATE_REFUSED_KEY, UPDATE_REFUSED_STATUS

    assert lean.UPDATE_REFUSED_KEY == UPDATE_REFUSED_KEY
    assert lean.status_name(OrderStatus.INVALID) == UPDATE_REFUSED_STATUS


# ---------------------------------------------------------------------------------------------------------
# Order messages: the IB plugin's boilerplate and the MarketOnOpen notice
# ---------------------------------------------------------------------------------------------------------

IB_MESSAGES = REPO_ROOT / "tests" / "fixtures" / "ib" / "order-event-messages-excerpt.json"


def ib_boilerplate() -> set[str]:
    """The fixed messages the IB plugin puts on its order events (InteractiveBrokersBrokerage.cs 2427, 2861,
    1664-1668@d154917), read from the excerpt."""
    text = "\n".join(line for e in json.loads(IB_MESSAGES.read_text())["excerpts"] for line in e["text"])
    return set(re.findall(r'(?:OrderFee\.Zero|orderFee), "([^"]+)"\)', text)) | set(
        re.findall(r'Message = "([^"]+)"', text)
    )


def test_the_algorithm_drops_exactly_the_plugins_boilerplate(lean: types.ModuleType) -> None:
    assert ib_boilerplate() == {
        "Interactive Brokers Order Event",
        "Interactive Brokers Order Fill Event",
        "Lean Generated Interactive Brokers Order Event",
    }
    assert ib_boilerplate() == lean.BROKER_BOILERPLATE


def test_a_market_on_open_submission_shows_the_notice_despite_ibs_message(
    lean: types.ModuleType, workdir: Path
) -> None:
    algo = _closed_market_order(lean, workdir, datetime(2026, 11, 25, 8, 0), NY_SESSION)
    algo.on_order_event(
        order_event(order_id=1, id=1, status=OrderStatus.SUBMITTED, message="Interactive Brokers Order Event")
    )
    assert read_lines(workdir)[-1]["message"] == lean.MOO_MESSAGE


def test_a_market_on_open_order_command_shows_the_notice_too(lean: types.ModuleType, workdir: Path) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    # An OrderCommand with OrderType MarketOnOpen: LEAN placed it, the algorithm sees only its events.
    algo.transactions.orders[7] = SimpleNamespace(id=7, tag="oi_4_9_1", type=OrderType.MARKET_ON_OPEN)
    for message in ("Lean Generated Interactive Brokers Order Event", "accepted by IB"):
        algo.on_order_event(order_event(order_id=7, id=1, status=OrderStatus.SUBMITTED, message=message))
    assert [line["message"] for line in read_lines(workdir) if line.get("tag")] == [
        lean.MOO_MESSAGE,
        f"{lean.MOO_MESSAGE}; accepted by IB",
    ]


@pytest.mark.parametrize(
    ("status", "message", "written"),
    [
        (OrderStatus.SUBMITTED, "Interactive Brokers Order Event", ""),
        (OrderStatus.CANCELED, "Interactive Brokers Order Event", ""),
        (OrderStatus.FILLED, "Interactive Brokers Order Fill Event", ""),
        (OrderStatus.SUBMITTED, "Lean Generated Interactive Brokers Order Event", ""),
        (
            OrderStatus.INVALID,
            "Order rejected - reason:Price is too far",
            "Order rejected - reason:Price is too far",
        ),
    ],
)
def test_the_plugins_boilerplate_is_dropped_from_order_messages(
    lean: types.ModuleType, workdir: Path, status: OrderStatus, message: str, written: str
) -> None:
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    algo.transactions.orders[3] = SimpleNamespace(id=3, tag="oi_4_9_2", type=OrderType.LIMIT)
    algo.on_order_event(order_event(order_id=3, id=2, status=status, message=message))
    assert read_lines(workdir)[-1]["message"] == written


def test_a_brokerage_message_that_ends_the_run_is_an_error_line(
    lean: types.ModuleType, workdir: Path
) -> None:
    """ActionRequired (a 2FA not approved: InteractiveBrokersBrokerage.cs:5261-5270@d154917) ends the run in
    LEAN (DefaultBrokerageMessageHandler.cs:168-171@24863901): the algorithm still writes it down first."""
    algo = make_algorithm(lean, workdir, None)
    algo.initialize()
    message = "2FA authentication confirmation required to reconnect."
    algo.on_brokerage_message(
        SimpleNamespace(type=BrokerageMessageType.ACTION_REQUIRED, code="2FAAuthRequired", message=message)
    )
    assert [(line["status"], line["message"]) for line in read_lines(workdir)[1:]] == [
        ("error", f"brokerage 2FAAuthRequired: {message}")
    ]
