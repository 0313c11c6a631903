"""A stand-in for LEAN's AlgorithmImports, and the harness the algorithm's tests run it in.

LEAN cannot run here (no .NET) and quantconnect-stubs has no runtime code, so a fake `AlgorithmImports`
module is put into sys.modules before the algorithm is imported. Its QCAlgorithm records every call.
"""

from tests.execution.lean.fake_lean.algorithm import QCAlgorithm, fake_algorithm_imports
from tests.execution.lean.fake_lean.enums import (
    BrokerageMessageType,
    MarketHoursState,
    OrderRequestStatus,
    OrderStatus,
    OrderType,
    Resolution,
)
from tests.execution.lean.fake_lean.harness import (
    MODULE,
    PARTS,
    companion,
    forget_algorithm,
    lean,
    make_algorithm,
    order_event,
    read_lines,
    workdir,
    write_intent,
)
from tests.execution.lean.fake_lean.members import (
    NY_SESSION,
    Command,
    FakeCashBook,
    FakeDateRules,
    FakeExchangeHours,
    FakePortfolio,
    FakeResponse,
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

__all__ = [
    "MODULE",
    "NY_SESSION",
    "PARTS",
    "BrokerageMessageType",
    "Command",
    "FakeCashBook",
    "FakeDateRules",
    "FakeExchangeHours",
    "FakePortfolio",
    "FakeResponse",
    "FakeSchedule",
    "FakeSecurity",
    "FakeSymbol",
    "FakeTicket",
    "FakeTimeRules",
    "FakeTransactions",
    "InteractiveBrokersOrderProperties",
    "MarketHoursState",
    "OrderRequestStatus",
    "OrderStatus",
    "OrderType",
    "QCAlgorithm",
    "Resolution",
    "TimeInForce",
    "TradeBar",
    "UpdateOrderFields",
    "companion",
    "fake_algorithm_imports",
    "forget_algorithm",
    "lean",
    "make_algorithm",
    "order_event",
    "read_lines",
    "workdir",
    "write_intent",
]
