"""The events file's lines: order events, engine, holdings and open-orders lines, in the contract's fields."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from AlgorithmImports import (
    OrderStatus,
    OrderType,
)

from .market_hours import MOO_MESSAGE
from .writer import encode_line

ENGINE_NAME = "lean"

# The IB plugin's fixed texts on its order events, which say nothing about the order: every status update
# carries "Interactive Brokers Order Event" (InteractiveBrokersBrokerage.cs:2427@d154917), every fill "Interactive
# Brokers Order Fill Event" (:2861), a submission LEAN generates "Lean Generated Interactive Brokers Order Event"
# (:1664-1668). Dropped from the lines' messages (tests/fixtures/ib/order-event-messages-excerpt.json).
BROKER_BOILERPLATE = frozenset(
    {
        "Interactive Brokers Order Event",
        "Interactive Brokers Order Fill Event",
        "Lean Generated Interactive Brokers Order Event",
    }
)
# The mark on an Invalid event that answers an update in flight (execution/contract/messages.py holds the same):
# IB's HandleError emits Invalid for the order itself when a modify fails with one of its InvalidatingCodes
# (e.g. 104, 105, 110, 201), while IB keeps working the original (IB plugin InteractiveBrokersBrokerage.cs
# 2235-2259, 5897-5904@d154917).
UPDATE_REFUSED_KEY = "update_refused"


# LEAN's OrderStatus names (Common/Orders/OrderTypes.cs). The enum skips 4, so lines carry names, never numbers.
STATUS_NAMES: tuple[tuple[Any, str], ...] = (
    (OrderStatus.NEW, "New"),
    (OrderStatus.SUBMITTED, "Submitted"),
    (OrderStatus.PARTIALLY_FILLED, "PartiallyFilled"),
    (OrderStatus.FILLED, "Filled"),
    (OrderStatus.CANCELED, "Canceled"),
    (OrderStatus.NONE, "None"),
    (OrderStatus.INVALID, "Invalid"),
    (OrderStatus.CANCEL_PENDING, "CancelPending"),
    (OrderStatus.UPDATE_SUBMITTED, "UpdateSubmitted"),
)
STATUS_NAME_BY_NUMBER = {
    0: "New",
    1: "Submitted",
    2: "PartiallyFilled",
    3: "Filled",
    5: "Canceled",
    6: "None",
    7: "Invalid",
    8: "CancelPending",
    9: "UpdateSubmitted",
}


def utc_iso(value: Any) -> str:
    """A datetime as UTC ISO 8601 with milliseconds and Z (naive datetimes are UTC, as LEAN's UtcTime)."""
    moment: datetime = value if isinstance(value, datetime) else datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def json_number(value: Any) -> int | float | None:
    """A number LEAN hands over (float or System.Decimal) as a finite JSON number, int when integral."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        try:
            number = float(str(value))
        except (TypeError, ValueError):
            return None
    if not math.isfinite(number):
        return None
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def status_name(status: Any) -> str:
    """The OrderStatus NAME of a status value (an enum member, a CLR enum or its number)."""
    for member, name in STATUS_NAMES:
        if status == member:
            return name
    if isinstance(status, int) and not isinstance(status, bool) and status in STATUS_NAME_BY_NUMBER:
        return STATUS_NAME_BY_NUMBER[status]
    text = str(status)
    # An unknown status is still reported by a name (tradedesk stores it and changes nothing).
    return f"OrderStatus{text}" if text.lstrip("-").isdigit() else text


def event_line(
    *,
    tag: str,
    status: str,
    order_id: int,
    event_id: int,
    run_id: str,
    symbol: str,
    time: Any,
    fill_quantity: Any,
    fill_price: Any,
    fee: Any,
    fee_currency: str,
    message: str,
    broker_ids: Iterable[Any] = (),
) -> dict[str, Any]:
    """One order event in exactly the contract's fields.

    `filled` is the quantity filled BY THIS EVENT as an absolute value (LEAN's FillQuantity is signed);
    `fill_price`/`fee` that are not finite non-negative numbers are left out rather than written wrong.
    """
    line: dict[str, Any] = {
        "tag": tag,
        "status": status,
        "order_id": order_id,
        "event_id": event_id,
        "run_id": run_id,
        "symbol": symbol,
        "time": utc_iso(time),
    }
    filled = json_number(fill_quantity)
    line["filled"] = abs(filled) if filled is not None else 0
    for key, value in (("fill_price", fill_price), ("fee", fee)):
        number = json_number(value)
        if number is not None and number >= 0:
            line[key] = number
    line["fee_currency"] = fee_currency or ""
    line["message"] = message or ""
    line["broker_ids"] = [str(item) for item in broker_ids if str(item)]
    return line


def trailing_stop_moves(
    orders: Iterable[Any], reported: dict[int, int | float]
) -> list[tuple[Any, int | float]]:
    """The open trailing stops whose stop moved since it was last reported, with the new stop (`reported`
    is updated). The IB plugin moves LEAN's order when IB reports a new TrailStopPrice
    (InteractiveBrokersBrokerage.cs:2491-2503@d154917, BrokerageTransactionHandler.cs:1401-1405@24863901), with
    no order event: the algorithm finds it by looking."""
    moved = []
    for order in orders:
        if getattr(order, "type", None) != OrderType.TRAILING_STOP:
            continue
        stop = json_number(getattr(order, "stop_price", None))
        order_id = int(order.id)
        if stop is None or stop <= 0 or reported.get(order_id) == stop:
            continue
        reported[order_id] = stop
        moved.append((order, stop))
    return moved


def moved_status(order: Any) -> str:
    """The status a trailing stop's move line carries: the order's own, never UpdateSubmitted (which confirms a
    pending modify in tradedesk's ledger)."""
    return (
        "PartiallyFilled" if status_name(getattr(order, "status", None)) == "PartiallyFilled" else "Submitted"
    )


def order_broker_ids(order: Any) -> list[str]:
    """LEAN's Order.BrokerId (a List<string>, Common/Orders/Order.cs:68@24863901) as a list of strings.

    The IB plugin sets it from IB's order id when it places an order (InteractiveBrokersBrokerage.cs:1604-1607
    at QuantConnect/Lean.Brokerages.InteractiveBrokers@d154917) and when it rebuilds an open order at setup
    (ConvertOrder, :3365): BrokerId is on the Order, not on the OrderEvent, so the order is looked up."""
    if order is None:
        return []
    return [str(item) for item in (getattr(order, "broker_id", None) or []) if str(item)]


# LEAN's OrderType names (Common/Orders/OrderTypes.cs) for the open-orders line.
ORDER_TYPE_NAMES: tuple[tuple[str, str], ...] = (
    ("MARKET", "Market"),
    ("LIMIT", "Limit"),
    ("STOP_MARKET", "StopMarket"),
    ("STOP_LIMIT", "StopLimit"),
    ("MARKET_ON_OPEN", "MarketOnOpen"),
    ("MARKET_ON_CLOSE", "MarketOnClose"),
)


def order_type_name(value: Any) -> str:
    """The OrderType name of an order's type (an enum member or its text)."""
    for member, name in ORDER_TYPE_NAMES:
        if getattr(OrderType, member, object()) == value:
            return name
    return str(value)


def open_orders_line(*, run_id: str, orders: Iterable[Any], time: Any = None) -> dict[str, Any]:
    """The orders LEAN reloaded from the broker at setup, one entry each, for tradedesk to re-home.

    LEAN reloads every open IB order at setup (Engine/Setup/BrokerageSetupHandler.cs:405,485-518@24863901),
    rebuilt without the tag (the plugin never sends it to IB: no OrderRef) under this run's order ids."""
    entries = []
    for order in orders:
        quantity = json_number(getattr(order, "quantity", None)) or 0
        entry: dict[str, Any] = {
            "order_id": int(order.id),
            "broker_ids": order_broker_ids(order),
            "symbol": str(order.symbol.value),
            "side": "BUY" if quantity > 0 else "SELL",
            "quantity": abs(quantity),
            "order_type": order_type_name(getattr(order, "type", None)),
            "limit_price": json_number(getattr(order, "limit_price", None)),
            "stop_price": json_number(getattr(order, "stop_price", None)),
            "tag": str(getattr(order, "tag", "") or ""),
        }
        entries.append(entry)
    entries.sort(key=lambda item: item["order_id"])
    return {"type": "open_orders", "run_id": run_id, "time": utc_iso(time), "orders": entries}


def split_open_orders_line(line: dict[str, Any], *, max_line_bytes: int) -> list[dict[str, Any]]:
    """The open-orders line alone when it fits the cap, else several such lines, each within it."""
    if len(encode_line(line)) <= max_line_bytes:
        return [line]
    parts: list[dict[str, Any]] = []
    for entry in line["orders"]:
        if (
            parts
            and len(encode_line({**parts[-1], "orders": [*parts[-1]["orders"], entry]})) <= max_line_bytes
        ):
            parts[-1]["orders"].append(entry)
        else:
            parts.append({**line, "orders": [entry]})
    return parts


def engine_line(status: str, *, run_id: str, message: str = "", **extra: Any) -> dict[str, Any]:
    """A lifecycle line: `type` engine and no tag, so tradedesk never takes it for an order event."""
    line: dict[str, Any] = {
        "type": "engine",
        "status": status,
        "run_id": run_id,
        "time": utc_iso(None),
        "engine": ENGINE_NAME,
        "pid": os.getpid(),
    }
    if message:
        line["message"] = message
    line.update(extra)
    return line


def holdings_line(
    *, run_id: str, positions: Iterable[tuple[str, Any, Any]], time: Any = None, source: str = "lean"
) -> dict[str, Any]:
    """The account's non-zero positions as (symbol, quantity, average price), sorted by symbol.

    `source` is "broker" for the line right after setup (IB's holdings as LEAN loaded them) and "lean" for
    later lines (LEAN's own fills since then)."""
    holdings = []
    for symbol, quantity, avg_price in positions:
        qty = json_number(quantity)
        if not qty:
            continue
        price = json_number(avg_price)
        holdings.append(
            {"symbol": str(symbol), "quantity": qty, "avg_price": price if price is not None else 0}
        )
    holdings.sort(key=lambda item: item["symbol"])
    return {
        "type": "holdings",
        "run_id": run_id,
        "time": utc_iso(time),
        "holdings": holdings,
        "source": source,
    }


def split_holdings_line(line: dict[str, Any], *, snapshot: int, max_line_bytes: int) -> list[dict[str, Any]]:
    """The holdings line alone when it fits the cap, else the parts of one snapshot, each line within the cap.

    The same rule in the simulator and the LEAN algorithm (tests/execution/simulator/test_holdings_split.py): every part
    repeats the line's other keys, adds `snapshot`, `part` (from 1) and `parts`, and takes the next holdings in
    order while its line stays within `max_line_bytes` (newline included).
    """
    if len(encode_line(line)) <= max_line_bytes:
        return [line]
    holdings = line["holdings"]
    head = {key: value for key, value in line.items() if key != "holdings"}
    # Part numbers sized at their widest (one holding a part), so no part outgrows the room measured here.
    widest = {**head, "snapshot": snapshot, "part": len(holdings), "parts": len(holdings), "holdings": []}
    room = max_line_bytes - len(encode_line(widest))
    groups: list[list[dict[str, Any]]] = [[]]
    used = 0
    for item in holdings:
        # ", " separates list items in json.dumps' default separators; the first item's two bytes are slack.
        size = len(json.dumps(item, ensure_ascii=False, allow_nan=False).encode("utf-8")) + 2
        if size > room:
            raise ValueError(
                f"holding {item.get('symbol')!r} does not fit in a line of {max_line_bytes} bytes"
            )
        if groups[-1] and used + size > room:
            groups.append([])
            used = 0
        groups[-1].append(item)
        used += size
    return [
        {**head, "snapshot": snapshot, "part": number, "parts": len(groups), "holdings": group}
        for number, group in enumerate(groups, start=1)
    ]


def order_message(raw: Any, *, status: str, market_on_open: bool) -> str:
    """The line's message: the broker's text without its boilerplate, and the MarketOnOpen notice on every
    submission of a MarketOnOpen order (intent or OrderCommand alike), ahead of any text of the broker's."""
    message = str(raw or "").strip()
    if message in BROKER_BOILERPLATE:
        message = ""
    if market_on_open and status == "Submitted":
        return f"{MOO_MESSAGE}; {message}" if message else MOO_MESSAGE
    return message


def is_market_on_open(order: Any) -> bool:
    """Whether LEAN's order is a MarketOnOpen order (OrderType.MARKET_ON_OPEN, Common/Orders/OrderTypes.cs)."""
    return order is not None and getattr(order, "type", None) == OrderType.MARKET_ON_OPEN
