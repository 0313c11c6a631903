"""tradedesk's order and update commands, which LEAN runs from command files (registered with AddCommand)."""

from __future__ import annotations

from typing import Any, Protocol

from AlgorithmImports import Command

from .intents import Intent, IntentError, parse_intent
from .lines import json_number
from .market_hours import MARKET_ON_OPEN

# The order command's LEAN OrderType names (execution/contract/messages.py LEAN_ORDER_TYPE_NAMES) -> the
# intent's order types; MarketOnOpen stays itself (tradedesk's market-hours rule chose it).
COMMAND_ORDER_TYPES = {
    "Market": "MKT",
    "Limit": "LMT",
    "StopMarket": "STP",
    "StopLimit": "STP LMT",
    "TrailingStop": "TRAIL",
    "MarketOnClose": "MOC",
    "LimitIfTouched": "LIT",
    MARKET_ON_OPEN: MARKET_ON_OPEN,
}


def command_intent(command: Any) -> tuple[Intent, str]:
    """The order of a TradedeskOrderCommand as an Intent, and its route (MarketOnOpen or "").

    LEAN sets the command file's keys on the command object, PascalCase turned snake_case where the class
    declares that name (Common/Python/BasePythonWrapper.cs:120-124,250-291@24863901)."""
    lean_type = str(getattr(command, "order_type", "") or "")
    order_type = COMMAND_ORDER_TYPES.get(lean_type)
    tag = str(getattr(command, "tag", "") or "")
    if order_type is None:
        raise IntentError(f"unsupported OrderType {lean_type!r}", tag)
    route = MARKET_ON_OPEN if order_type == MARKET_ON_OPEN else ""
    intent = parse_intent(
        {
            "order_intent_id": tag,
            "symbol": getattr(command, "ticker", None),
            "quantity": json_number(getattr(command, "quantity", None)),
            "order_type": "MKT" if route else order_type,
            "limit_price": json_number(getattr(command, "limit_price", None)),
            "stop_price": json_number(getattr(command, "stop_price", None)),
            "time_in_force": getattr(command, "time_in_force", None),
            "good_till_date": getattr(command, "good_til_date", None),
            "outside_rth": getattr(command, "outside_regular_trading_hours", None),
            "trailing_amount": json_number(getattr(command, "trailing_amount", None)),
            "trailing_as_percent": getattr(command, "trailing_as_percentage", None),
            "trigger_price": json_number(getattr(command, "trigger_price", None)),
            "bracket": getattr(command, "bracket", None),
        },
        lean_trailing=True,
    )
    return intent, route


class CommandTarget(Protocol):
    """What the commands call on the algorithm that registered them (ManualOrderExecution)."""

    def place_command(self, command: Any) -> bool:
        """Place the command's order."""
        ...

    def update_command(self, command: Any) -> bool:
        """Update the command's order."""
        ...


class TradedeskOrderCommand(Command):
    """tradedesk's order command (execution/contract/messages.py order_command), registered with AddCommand.

    LEAN's OrderCommand would submit with DefaultOrderProperties, GoodTilCanceled and regular hours only
    (Common/Commands/OrderCommand.cs:79, Common/Orders/OrderProperties.cs:40-43@24863901); this one carries the
    order's time in force and outside-RTH. The file's keys land on these attributes (snake_case where declared:
    Common/Python/BasePythonWrapper.cs:250-291); `run` returns the command result's Success."""

    ticker: Any = None
    order_type: Any = None
    quantity: Any = None
    limit_price: Any = 0
    stop_price: Any = 0
    tag: Any = ""
    time_in_force: Any = None
    good_til_date: Any = None
    outside_regular_trading_hours: Any = False
    bracket: Any = None  # a bracket's legs as JSON text (parse_bracket)
    # SubmitOrderRequest's fields of a trailing stop and a limit if touched (Common/Orders/SubmitOrderRequest.cs
    # :85-104@24863901), which LEAN's own OrderCommand lacks (OrderCommand.cs:79).
    trailing_amount: Any = 0
    trailing_as_percentage: Any = False
    trigger_price: Any = 0
    # The algorithm that registered the command (LEAN passes its C# self to run; this is the Python one).
    algorithm: CommandTarget | None = None

    def run(self, algorithm: Any) -> bool | None:
        """Place the order through the algorithm that registered this command."""
        target = TradedeskOrderCommand.algorithm
        if target is None:
            return False
        return target.place_command(self)


class TradedeskUpdateCommand(Command):
    """tradedesk's update command (execution/contract/messages.py update_command), registered with AddCommand.

    LEAN's UpdateOrderCommand builds its UpdateOrderFields from Quantity, LimitPrice, StopPrice and Tag only
    (Common/Commands/UpdateOrderCommand.cs:57-65@24863901); this one also carries TriggerPrice and TrailingAmount
    (Common/Orders/UpdateOrderFields.cs:41,46), which a limit if touched and a trailing stop apply
    (LimitIfTouchedOrder.cs:99-111, TrailingStopOrder.cs:104-111). None leaves a field as it is; `run` returns
    the command result's Success, as LEAN's does (UpdateOrderCommand.cs:67-68)."""

    order_id: Any = None
    quantity: Any = None
    limit_price: Any = None
    stop_price: Any = None
    trigger_price: Any = None
    trailing_amount: Any = None
    tag: Any = None
    algorithm: CommandTarget | None = None

    def run(self, algorithm: Any) -> bool | None:
        """Update the order through the algorithm that registered this command."""
        target = TradedeskUpdateCommand.algorithm
        if target is None:
            return False
        return target.update_command(self)
