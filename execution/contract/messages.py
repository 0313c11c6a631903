"""The file contract with the engine, in one place: canonical JSON, event identity, LEAN status names.

docs/engine-contract.md describes it in prose; the simulator, the LEAN algorithm and the ingest follow it.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses
from typing import Any

from execution.contract.market_hours import MARKET_ON_OPEN

# tradedesk order type -> LEAN's OrderType name (Common/Orders/OrderTypes.cs, enum OrderType: Market = 0,
# Limit = 1, StopMarket = 2, StopLimit = 3, MarketOnOpen = 4, MarketOnClose = 5, LimitIfTouched = 7,
# TrailingStop = 11; QuantConnect/Lean@24863901deffa9ec7985e21ef8fbdb0258efb9e4).
# MarketOnOpen is no tradedesk order type: it is what the market-hours rule makes of a MKT order sent while
# the exchange is closed (execution/contract/market_hours.py). Keys and values are orders.models' OrderType
# and OrderStatus values written out: the contract imports nothing else of the project (the engine processes
# import it without Django); tests/execution/contract/test_messages.py holds them to the models' choices.
LEAN_ORDER_TYPE_NAMES: dict[str, str] = {
    "MKT": "Market",
    "LMT": "Limit",
    "STP": "StopMarket",
    "STP LMT": "StopLimit",
    "TRAIL": "TrailingStop",
    "MOC": "MarketOnClose",
    "LIT": "LimitIfTouched",
    MARKET_ON_OPEN: MARKET_ON_OPEN,
}
# LEAN takes a trailing percent as a fraction (price * (1 - amount): Common/Orders/TrailingStopOrder.cs:184-189,
# and the IB plugin sends TrailingPercent = amount * 100: InteractiveBrokersBrokerage.cs:3054-3057@d154917);
# tradedesk keeps the percent a trader types (5 is 5 %).
PERCENT = 100

# LEAN OrderStatus names -> tradedesk status; New and None change nothing.
LEAN_STATUS_MAP: dict[str, str | None] = {
    "New": None,
    "None": None,
    "Submitted": "SUBMITTED",
    "UpdateSubmitted": "SUBMITTED",
    "PartiallyFilled": "PARTIALLY_FILLED",
    "Filled": "FILLED",
    "CancelPending": "CANCEL_PENDING",
    "Canceled": "CANCELED",
    "Invalid": "REJECTED",
}

# Engine line statuses that start or end a run: the missing parts of a split holdings snapshot written
# before one will never come (execution/ingest/reconcile.py drops them).
RUN_BOUNDARIES = ("started", "stopped")

# The keys that make a holdings line one part of a snapshot written as several lines.
HOLDINGS_PART_KEYS = ("snapshot", "part", "parts")

# Every key of an order event line, in the order the engines write them (docs/engine-contract.md).
EVENT_KEYS = (
    "tag",
    "status",
    "order_id",
    "event_id",
    "run_id",
    "symbol",
    "time",
    "filled",
    "fill_price",
    "fee",
    "fee_currency",
    "message",
    # The broker's ids of the order (LEAN's Order.BrokerId, Common/Orders/Order.cs:68@24863901): what re-homes
    # an order a new run reloads untagged (docs/engine-contract.md section 7, "Open orders after a restart").
    "broker_ids",
)
# Added (true) only to an Invalid event the engine emitted while it had an update of that order in flight:
# IB answers a refused modify with Invalid for the order itself (IB plugin InteractiveBrokersBrokerage.cs
# 2235-2259@d154917) while it keeps working the original. Absent otherwise, so other events keep their identity.
UPDATE_REFUSED_KEY = "update_refused"
# Added only to the lines of a trailing stop: its current stop (LEAN's OrderEvent.StopPrice, Common/Orders/
# OrderEvent.cs:128-143@24863901). The engine writes a line, with no event_id, whenever the stop moves.
TRAILING_STOP_KEY = "stop_price"
UPDATE_REFUSED_STATUS = "Invalid"
# Added (true) only to the UpdateSubmitted event of the engine's own resize of a bracket child (to what its
# entry filled, less what its sibling filled): it never confirms a trader's modify. Absent otherwise.
BRACKET_RESIZE_KEY = "bracket_resize"
BRACKET_RESIZE_STATUS = "UpdateSubmitted"


def canonical_json(value: Any) -> str:
    """The contract's canonical JSON: keys sorted, compact separators, UTF-8 text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_identity(event: dict[str, Any]) -> str:
    """An event's identity: (run_id, order_id, event_id) when all present, else the SHA-256 of its JSON."""
    run_id, order_id, event_id = event.get("run_id"), event.get("order_id"), event.get("event_id")
    if type(run_id) is str and run_id and type(order_id) is int and type(event_id) is int:
        # canonical_json([run_id, order_id, event_id]) exactly, without json.dumps: ingest's hot path.
        basis = f"id:[{encode_basestring(run_id)},{int.__repr__(order_id)},{int.__repr__(event_id)}]"
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()
    if run_id not in (None, "") and order_id is not None and event_id is not None:
        basis = "id:" + canonical_json([run_id, order_id, event_id])
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()
    return hashlib.sha256(canonical_json(event).encode("utf-8")).hexdigest()


# tradedesk time in force -> LEAN's TimeInForce (Common/Orders/TimeInForce.cs:33,38,43@24863901: GoodTilCanceled,
# Day, GoodTilDate(expiry)); the values are orders.models' TimeInForce written out.
LEAN_TIME_IN_FORCE_NAMES: dict[str, str] = {"DAY": "Day", "GTC": "GoodTilCanceled", "GTD": "GoodTilDate"}
# The $type of tradedesk's own order command. LEAN's OrderCommand submits with the algorithm's
# DefaultOrderProperties (Common/Commands/OrderCommand.cs:79), a plain OrderProperties whose TimeInForce is
# GoodTilCanceled (Algorithm/QCAlgorithm.cs:202, Common/Orders/OrderProperties.cs:40-43): it can carry neither a
# time in force nor outside-RTH. A $type no assembly defines fails to deserialize, so FileCommandHandler hands the
# file to TryGetCallbackCommand as a CallbackCommand of that Type (FileCommandHandler.cs:105,134,
# BaseCommandHandler.cs:118-148), which QCAlgorithm.RunCommand gives to the command class the algorithm registered
# under that name with AddCommand (QCAlgorithm.cs:3609-3634, QCAlgorithm.Python.cs:1917-1928); its keys are set
# on the Python command, PascalCase to snake_case (BasePythonWrapper.cs:120-124,250-291).
ORDER_COMMAND_TYPE = "TradedeskOrderCommand"
# The $type of tradedesk's own update command, registered the same way: LEAN's UpdateOrderCommand passes only
# Quantity, LimitPrice, StopPrice and Tag (Common/Commands/UpdateOrderCommand.cs:57-65), so a trailing stop's
# trailing amount and a limit if touched's trigger could not change. LEAN's own type stays known to the simulator
# and to the take-back of an earlier run's commands (files written before this command existed).
UPDATE_COMMAND_TYPE = "TradedeskUpdateCommand"
LEAN_UPDATE_COMMAND_TYPE = "QuantConnect.Commands.UpdateOrderCommand"


# The command files tradedesk writes for a running engine (LEAN reads them from its cwd).
def order_command(
    *,
    command_id: str,
    symbol: str,
    quantity: float | int,
    order_type: str,
    limit_price: float | int | None,
    tag: str,
    stop_price: float | int | None = None,
    trailing_amount: float | int | None = None,
    trailing_as_percent: bool = False,
    trigger_price: float | int | None = None,
    time_in_force: str = "DAY",
    good_till_date: str | None = None,
    outside_rth: bool = False,
    bracket: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """tradedesk's order command: LEAN's OrderCommand fields plus the order's properties; a bracket's entry
    also carries `Bracket` (intents.bracket_contract, as JSON text), which the algorithm and the simulator read.

    Ticker, OrderType (LEAN's name), Quantity (signed), LimitPrice, StopPrice (0 where they do not apply) and Tag
    as Common/Commands/OrderCommand.cs declares them (QuantConnect/Lean@24863901); TimeInForce (LEAN's name),
    GoodTilDate (YYYY-MM-DD or null) and OutsideRegularTradingHours become the order's
    InteractiveBrokersOrderProperties in the algorithm (SubmitOrderRequest carries them: SubmitOrderRequest.cs:109). A TrailingStop adds TrailingAmount (LEAN's fraction for a
    percent) and TrailingAsPercentage, a LimitIfTouched TriggerPrice and LimitPrice: SubmitOrderRequest's own
    fields (Common/Orders/SubmitOrderRequest.cs:85-104).
    """
    extra: dict[str, Any] = {}
    if order_type == "TRAIL":
        amount = trailing_amount or 0
        extra = {
            "TrailingAmount": lean_trailing_amount(amount, as_percent=trailing_as_percent),
            "TrailingAsPercentage": trailing_as_percent,
        }
    elif order_type == "LIT":
        extra = {"TriggerPrice": trigger_price or 0}
    return {
        "$type": ORDER_COMMAND_TYPE,
        "Id": command_id,
        "Ticker": symbol,
        "Market": "usa",
        "SecurityType": "Equity",
        "OrderType": LEAN_ORDER_TYPE_NAMES[order_type],
        "Quantity": quantity,
        "LimitPrice": limit_price or 0,
        "StopPrice": stop_price or 0,
        **extra,
        "Tag": tag,
        "TimeInForce": LEAN_TIME_IN_FORCE_NAMES[time_in_force],
        "GoodTilDate": good_till_date,
        "OutsideRegularTradingHours": bool(outside_rth),
        # As JSON text: LEAN sets a command file's nested object on a Python command as a Dictionary of
        # JObjects (Common/Python/CommandPythonWrapper.cs:52-64@24863901); text arrives as a str.
        **({"Bracket": canonical_json(bracket)} if bracket else {}),
    }


def lean_trailing_amount(amount: float | int, *, as_percent: bool) -> float | int:
    """LEAN's TrailingAmount of a tradedesk trailing amount: a percent becomes its fraction (5 -> 0.05)."""
    if not as_percent:
        return amount
    fraction = Decimal(repr(amount)) / PERCENT  # decimal, so 1.1 % is 0.011, never 0.011000000000000001
    return int(fraction) if fraction == fraction.to_integral_value() else float(fraction)


def add_security_command(*, command_id: str, symbol: str) -> dict[str, Any]:
    """LEAN's AddSecurityCommand for a US equity at second resolution (the algorithm's own subscription).

    Fields as Common/Commands/AddSecurityCommand.cs:29-71 declares them (QuantConnect/Lean@24863901); Run calls
    algorithm.AddSecurity with them (:77-80), so an OrderCommand read after it finds the symbol in Securities
    (otherwise SubmitOrderRequest answers MissingSecurity: Algorithm/QCAlgorithm.Trading.cs:1059-1063).
    Resolution is Second (the default would be Minute) so a first price comes within seconds; Leverage is
    left out, so LEAN keeps its default (Security.NullLeverage: the model's own).
    """
    return {
        "$type": "QuantConnect.Commands.AddSecurityCommand, QuantConnect.Common",
        "Id": command_id,
        "SecurityType": "Equity",
        "Symbol": symbol,
        "Resolution": "Second",
        "Market": "usa",
        "FillDataForward": True,
        "ExtendedMarketHours": False,
    }


def cancel_command(*, command_id: str, engine_order_id: int) -> dict[str, Any]:
    """LEAN's CancelOrderCommand for an order of the running engine."""
    return {
        "$type": "QuantConnect.Commands.CancelOrderCommand, QuantConnect.Common",
        "Id": command_id,
        "OrderId": engine_order_id,
    }


def update_command(
    *,
    command_id: str,
    engine_order_id: int,
    quantity: float | int | None,
    limit_price: float | int | None,
    stop_price: float | int | None,
    trigger_price: float | int | None = None,
    trailing_amount: float | int | None = None,
    trailing_as_percent: bool = False,
) -> dict[str, Any]:
    """tradedesk's update command: LEAN's UpdateOrderCommand fields plus TriggerPrice and TrailingAmount; null
    leaves a field as it is, Tag is always null (it is the order's id).

    Quantity, LimitPrice, StopPrice and Tag as Common/Commands/UpdateOrderCommand.cs:29-51 declares them
    (QuantConnect/Lean@24863901): Quantity is the signed total (Order.ApplyUpdateOrderRequest), LimitPrice applies
    to Limit, StopLimit and LimitIfTouched, StopPrice to StopMarket and StopLimit orders. LEAN's command builds its
    UpdateOrderFields from those four only (:57-65), though the fields have TriggerPrice and TrailingAmount
    (Common/Orders/UpdateOrderFields.cs:41,46), which LimitIfTouchedOrder and TrailingStopOrder apply
    (LimitIfTouchedOrder.cs:99-111, TrailingStopOrder.cs:104-111): this command carries them too. TrailingAmount
    is LEAN's, in the order's unit: a percent order's as its fraction (2.5 % is 0.025; its TrailingAsPercentage
    cannot change, UpdateOrderFields has none).
    """
    trailing = None
    if trailing_amount is not None:
        trailing = lean_trailing_amount(trailing_amount, as_percent=trailing_as_percent)
    return {
        "$type": UPDATE_COMMAND_TYPE,
        "Id": command_id,
        "OrderId": engine_order_id,
        "Quantity": quantity,
        "LimitPrice": limit_price,
        "StopPrice": stop_price,
        "TriggerPrice": trigger_price,
        "TrailingAmount": trailing,
        "Tag": None,
    }


# LEAN's command result, CommandResultPacket, carries only CommandName and Success (Common/Commands/
# CommandResultsPacket.cs:24-44@24863901; OrderCommand.Run logs the order response's reason with
# algorithm.Error and returns Success = !response.IsError, OrderCommand.cs:76-93): a refusal has no reason in it.
COMMAND_REFUSED = "refused by the engine, see engine.log"


def command_refusal(result: dict[str, Any] | None) -> str | None:
    """Why the engine refused a command (its result's success is false), or None when it did not.

    The reason is the result's own message when it has one (the simulator's); LEAN's has none. A true Success
    is never final: an update's means only LEAN's synchronous checks passed (BrokerageTransactionHandler.cs
    413-487), and a cancel of an order already filled also answers true (CancelOrderCommand.cs:34-40: the
    cancel request is set and the ticket is not Invalid); the order's events decide."""
    if result is None or result.get("success") is not False:
        return None
    return str(result.get("message") or result.get("errormessage") or COMMAND_REFUSED)
