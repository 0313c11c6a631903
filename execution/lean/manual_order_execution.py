"""tradedesk's LEAN algorithm: places the order of one intent file, then reports every order event.

LEAN loads this file (config `algorithm-location`) and runs `ManualOrderExecution` (`algorithm-type-name`) in
live mode. It speaks the engine contract (docs/lean.md, docs/engine-contract.md):

- parameters `intent-file` (the order to place at start, may be empty), `intents-folder` (always scanned
  for new intents' symbols), `events-file`, `run-id`;
- every order event becomes one JSON line in the events file: tag, status NAME, order id, event id, run id,
  symbol, UTC time, this event's absolute fill quantity and price, fee, message. Orders that LEAN places from
  OrderCommand files (FileCommandHandler) reach `on_order_event` the same way, with their Tag;
- engine lines (started / stopped / error) and holdings lines for tradedesk's reconciliation: the first one
  (`"source": "broker"`) right after setup, when LEAN has just read IB's holdings
  (Engine/Setup/BrokerageSetupHandler.cs 420 at QuantConnect/Lean 24863901); later ones (`"source": "lean"`)
  are LEAN's own fills since then, because LEAN syncs only cash with IB afterwards
  (Engine/TransactionHandlers/BrokerageTransactionHandler.cs 733-738).
- a prices snapshot `prices.json` beside the events file, replaced atomically every `prices-interval`
  seconds (parameter), with the last / bid / ask of held symbols and of symbols of open orders (not lines:
  the events file does not grow with prices), and on the same schedule the account snapshot `account.json`
  (cash per currency, buying power, net liquidation, margin used, unrealised P&L from `Portfolio`).

LEAN refuses orders for a symbol it has no price for ("There is no data for this symbol yet",
Algorithm/QCAlgorithm.Trading.cs 1150), so initial prices are seeded (AlgorithmSettings.cs 200: off by
default), the intent's order is placed once its symbol has a price, and the symbols of recent intents are
subscribed so that OrderCommands for them can be placed.

A market order while the exchange is closed follows `market_order_route` (the same rule as
execution/contract/market_hours.py, which this file cannot import: LEAN loads it on its own).

Import only from `AlgorithmImports` (LEAN's module; `quantconnect-stubs` types it for mypy). Nothing in
tradedesk imports this module at runtime: the stubs have no code. The line-building logic is in plain
functions so it can be tested without LEAN.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import threading
import time as _time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from AlgorithmImports import (
    BrokerageMessageType,
    Command,
    InteractiveBrokersOrderProperties,
    MarketHoursState,
    OrderRequestStatus,
    OrderStatus,
    OrderType,
    QCAlgorithm,
    Resolution,
    TimeInForce,
    TradeBar,
    UpdateOrderFields,
)

if TYPE_CHECKING:
    from AlgorithmImports import BrokerageMessageEvent, OrderEvent, OrderTicket, Slice, Symbol

ENGINE_NAME = "lean"
SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.]{0,14}$")
HOLDINGS_EVERY = timedelta(minutes=1)
INTENT_SCAN_EVERY = timedelta(seconds=5)
# Symbols of intents younger than this are subscribed (IB allows ~100 market data lines by default).
RECENT_INTENT_SECONDS = 3 * 24 * 3600
MAX_SUBSCRIPTIONS = 80
WAITING_NOTICE_AFTER = timedelta(minutes=2)
# IB accepts MarketOnOpen only until two minutes before the open (InteractiveBrokersBrokerageModel.cs 352-355).
MOO_CUTOFF = timedelta(minutes=2)
MARKET, MARKET_ON_OPEN, REFUSED = "Market", "MarketOnOpen", "Refused"
MOO_MESSAGE = "MarketOnOpen: sent while the market is closed; it fills at the next open"
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
# The engine folder's names (execution/contract/folder.py; LEAN loads this file alone, so it keeps a copy that
# tests/execution/contract/test_folder.py holds to the contract's).
# The mark on an Invalid event that answers an update in flight (execution/contract/messages.py holds the same):
# IB's HandleError emits Invalid for the order itself when a modify fails with one of its InvalidatingCodes
# (e.g. 104, 105, 110, 201), while IB keeps working the original (IB plugin InteractiveBrokersBrokerage.cs
# 2235-2259, 5897-5904@d154917).
UPDATE_REFUSED_KEY = "update_refused"
EVENTS_FILE = "events.jsonl"
PRICES_FILE = "prices.json"
ACCOUNT_FILE = "account.json"
DEFAULT_PRICES_INTERVAL = 2.0
# The events file's line cap (TRADEDESK_EVENTS_MAX_LINE_BYTES), from the `max-line-bytes` launch parameter.
DEFAULT_MAX_LINE_BYTES = 1 << 20
MIN_MAX_LINE_BYTES = 1024

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


# ---------------------------------------------------------------------------------------------------------
# Pure helpers (unit-tested without LEAN)
# ---------------------------------------------------------------------------------------------------------


class IntentError(ValueError):
    """The intent file cannot be placed; `tag` is set when the intent at least named its order."""

    def __init__(self, message: str, tag: str = "") -> None:
        """Keep the tag so the refusal can still be reported as the order's Invalid event."""
        super().__init__(message)
        self.tag = tag


@dataclass(frozen=True)
class Intent:
    """The order of an intent file (tradedesk's contract format): quantity is signed, BUY > 0, SELL < 0."""

    tag: str
    symbol: str
    quantity: int | float
    order_type: str  # "MKT" | "LMT" | "STP" | "STP LMT" | "TRAIL" | "MOC" | "LIT"
    limit_price: int | float | None
    stop_price: int | float | None = None
    time_in_force: str = "DAY"  # "DAY" | "GTC" | "GTD"
    good_till_date: date | None = None  # GTD only
    outside_rth: bool = False
    # TRAIL: LEAN's trailing amount (a percent as its fraction, 0.05 is 5 %) and whether it is a percent.
    trailing_amount: int | float | None = None
    trailing_as_percent: bool = False
    trigger_price: int | float | None = None  # LIT: the price that makes it a limit order
    # A bracket's legs, placed on this order's fills: (role, tag, price), role "take_profit" or "stop_loss".
    bracket: tuple[tuple[str, str, float], ...] = ()


ORDER_TYPES = ("MKT", "LMT", "STP", "STP LMT", "TRAIL", "MOC", "LIT")
LIMIT_TYPES = ("LMT", "STP LMT", "LIT")
STOP_TYPES = ("STP", "STP LMT")
# IB sends OutsideRth only on resting orders (InteractiveBrokersBrokerage.cs:3583-3598@d154917).
NOT_OUTSIDE_RTH = ("MKT", "MOC")


def lean_trailing_amount(amount: int | float, *, as_percent: bool) -> int | float:
    """LEAN's TrailingAmount of tradedesk's (execution/contract/messages.py holds the same): a percent becomes
    its fraction, 5 -> 0.05 (Common/Orders/TrailingStopOrder.cs:181-194@24863901)."""
    if not as_percent:
        return amount
    fraction = Decimal(repr(amount)) / 100
    return int(fraction) if fraction == fraction.to_integral_value() else float(fraction)


def _clock_text(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def market_order_route(
    *, exchange_open: bool, local_time: timedelta, session: tuple[timedelta, timedelta] | None
) -> tuple[str, str]:
    """(Market | MarketOnOpen | Refused, message) for a market order at `local_time` (since local midnight).

    The copy of execution/contract/market_hours.py's rule (tests/execution/contract/test_market_hours.py holds both to one
    table): closed market -> MarketOnOpen inside IB's window [close, open - 2 min), refused otherwise.
    """
    if exchange_open:
        return MARKET, ""
    if session is not None:
        market_open, market_close = session
        window_end = market_open - MOO_CUTOFF
        if window_end <= local_time < market_close:
            return (
                REFUSED,
                f"refused: market order outside regular hours; IB accepts it as MarketOnOpen only until "
                f"{_clock_text(window_end)} exchange time (two minutes before the {_clock_text(market_open)} "
                f"open). Place it after the open or as a limit order.",
            )
    return MARKET_ON_OPEN, MOO_MESSAGE


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


def updates_sent(ticket: Any) -> int:
    """How many updates of the ticket's order LEAN sent on (Processing: its synchronous checks passed;
    Processed: the brokerage call returned; Error ones never left: Common/Orders/OrderRequest.cs:94-104,
    Engine/TransactionHandlers/BrokerageTransactionHandler.cs:476,852@24863901)."""
    if ticket is None:
        return 0
    sent = (OrderRequestStatus.PROCESSING, OrderRequestStatus.PROCESSED)
    return sum(1 for request in ticket.update_requests or () if request.status in sent)


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


def line_cap(value: Any) -> int:
    """The `max-line-bytes` launch parameter: an integer of at least MIN_MAX_LINE_BYTES, else the default."""
    try:
        cap = int(str(value).strip())
    except ValueError:
        return DEFAULT_MAX_LINE_BYTES
    return cap if cap >= MIN_MAX_LINE_BYTES else DEFAULT_MAX_LINE_BYTES


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


def prices_snapshot(
    *,
    run_id: str,
    quotes: Iterable[tuple[str, Any, Any, Any]],
    time: Any = None,
    previous_closes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The prices file's content: (symbol, last, bid, ask) per symbol, sorted; symbols without a last price
    are left out, a bid or ask LEAN does not have (0) is null; `previous_close` where one is known."""
    prices = []
    for symbol, last, bid, ask in quotes:
        last_number = json_number(last)
        if last_number is None or last_number <= 0:
            continue
        entry: dict[str, Any] = {"symbol": str(symbol), "last": last_number}
        for key, value in (("bid", bid), ("ask", ask)):
            number = json_number(value)
            entry[key] = number if number is not None and number > 0 else None
        close = json_number((previous_closes or {}).get(str(symbol)))
        if close is not None and close > 0:
            entry["previous_close"] = close
        prices.append(entry)
    prices.sort(key=lambda item: item["symbol"])
    return {"run_id": run_id, "time": utc_iso(time), "prices": prices}


def account_snapshot(
    *,
    run_id: str,
    time: Any,
    currency: str,
    cash: Iterable[tuple[str, Any]],
    net_liquidation: Any,
    buying_power: Any,
    total_margin_used: Any,
    unrealized_pnl: Any,
) -> dict[str, Any]:
    """The account file's content from LEAN's portfolio (names: Common/Securities/SecurityPortfolioManager.cs
    @24863901deffa9ec7985e21ef8fbdb0258efb9e4): `CashBook` (77) per currency with `Cash.Amount`, its
    `AccountCurrency` (CashBook.cs:45), `TotalPortfolioValue` (430) as net liquidation, `MarginRemaining` (580)
    as buying power, `TotalMarginUsed` (562), `TotalUnrealizedProfit` (418). Amounts to the cent; a number
    LEAN cannot give as a finite one makes the whole snapshot unwritable (ValueError), never a guess."""

    def cents(value: Any) -> int | float:
        number = json_number(value)
        if number is None:
            raise ValueError(f"account amount {value!r} is not a finite number")
        return json_number(round(float(number), 2)) or 0

    balances = [
        {"currency": str(code).upper(), "amount": cents(amount)}
        for code, amount in cash
        if json_number(amount) is not None
    ]
    return {
        "run_id": run_id,
        "time": utc_iso(time),
        "currency": str(currency).upper(),
        "cash": sorted(balances, key=lambda item: item["currency"]),
        "net_liquidation": cents(net_liquidation),
        "total_margin_used": cents(total_margin_used),
        "buying_power": cents(buying_power),
        "unrealized_pnl": cents(unrealized_pnl),
    }


def last_close(history: Any) -> float | None:
    """The last `close` of a daily history frame (QCAlgorithm.History(type, symbol, periods, resolution):
    Algorithm/QCAlgorithm.Python.cs:1192@24863901deffa9ec7985e21ef8fbdb0258efb9e4, a pandas DataFrame); None
    when it has none."""
    try:
        closes = history["close"]
        values = list(closes.values if hasattr(closes, "values") else closes)
    except (KeyError, TypeError, AttributeError, IndexError):
        return None
    number = json_number(values[-1]) if values else None
    return float(number) if number is not None and number > 0 else None


def replace_json(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON to a hidden temp file beside `path`, then rename it over `path` (readers see whole files)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    os.replace(tmp, path)


def prices_interval(raw: str | None) -> timedelta:
    """The prices-interval parameter (seconds, at least 1); a missing or bad value is the default."""
    try:
        seconds = float(raw or DEFAULT_PRICES_INTERVAL)
    except ValueError:
        seconds = DEFAULT_PRICES_INTERVAL
    if not math.isfinite(seconds):
        seconds = DEFAULT_PRICES_INTERVAL
    return timedelta(seconds=max(1.0, seconds))


def close_torn_line(path: Path) -> bool:
    """If the file's last byte is not a newline (a line torn by a crashed run), write one; True if it did."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            last = handle.read(1)
    except FileNotFoundError:
        return False
    if last == b"\n":
        return False
    with open_events_for_append(path) as handle:
        handle.write(b"\n")
        os.fsync(handle.fileno())
    return True


def open_events_for_append(path: Path) -> Any:
    """The events file for unbuffered appends: never through a symlink, only a regular file, owner-only."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file; not appending to it")
    return os.fdopen(fd, "ab", buffering=0)


def encode_line(payload: dict[str, Any]) -> bytes:
    """One JSON object and its newline (NaN and infinities are refused, never written)."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8") + b"\n"


def append_line(path: Path, payload: dict[str, Any], *, fsync: bool = True) -> None:
    """Append one line with a single unbuffered write (re-opened each time, so a replaced file is used)."""
    data = encode_line(payload)
    with open_events_for_append(path) as handle:
        written = handle.write(data) or 0
        while written < len(data):  # a short write is rare but possible
            written += handle.write(data[written:]) or 0
        if fsync:
            os.fsync(handle.fileno())


def parse_intent(data: Any, *, lean_trailing: bool = False) -> Intent:
    """Validate a decoded intent (see execution/contract/intents.py) into the order to place; its trailing
    percent is tradedesk's (5 is 5 %) unless `lean_trailing` (an order command's, LEAN's fraction)."""
    if not isinstance(data, dict):
        raise IntentError("intent is not a JSON object")
    tag = data.get("order_intent_id")
    if not isinstance(tag, str) or not tag:
        raise IntentError("intent has no order_intent_id")
    symbol = data.get("symbol")
    if not isinstance(symbol, str) or not SYMBOL_RE.match(symbol):
        raise IntentError(f"invalid symbol {symbol!r}", tag)
    quantity = data.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int | float) or not math.isfinite(quantity):
        raise IntentError(f"invalid quantity {quantity!r}", tag)
    if quantity == 0:
        raise IntentError("quantity must not be zero", tag)
    order_type = data.get("order_type")
    if order_type not in ORDER_TYPES:
        raise IntentError(f"unsupported order_type {order_type!r} ({', '.join(ORDER_TYPES)})", tag)
    limit_price = data.get("limit_price") if order_type in LIMIT_TYPES else None
    stop_price = data.get("stop_price") if order_type in STOP_TYPES else None
    if order_type in LIMIT_TYPES and not _positive(limit_price):
        raise IntentError(f"{order_type} order needs a positive limit_price, got {limit_price!r}", tag)
    if order_type in STOP_TYPES and not _positive(stop_price):
        raise IntentError(f"{order_type} order needs a positive stop_price, got {stop_price!r}", tag)
    trailing_amount: int | float | None = None
    trailing_as_percent = False
    if order_type == "TRAIL":
        raw_amount: Any = data.get("trailing_amount")
        raw_percent: Any = data.get("trailing_as_percent")
        if raw_percent not in (None, True, False):
            raise IntentError(f"trailing_as_percent must be true or false, got {raw_percent!r}", tag)
        trailing_as_percent = raw_percent is True
        limit = 1 if lean_trailing else 100  # a percent below 100 % (a fraction below 1)
        if not _positive(raw_amount) or (trailing_as_percent and raw_amount >= limit):
            raise IntentError(f"TRAIL order needs a positive trailing_amount, got {raw_amount!r}", tag)
        trailing_amount = (
            raw_amount if lean_trailing else lean_trailing_amount(raw_amount, as_percent=trailing_as_percent)
        )
    trigger_price = data.get("trigger_price") if order_type == "LIT" else None
    if order_type == "LIT" and not _positive(trigger_price):
        raise IntentError(f"LIT order needs a positive trigger_price, got {trigger_price!r}", tag)
    time_in_force, good_till_date, outside_rth = intent_properties(
        data.get("time_in_force"), data.get("good_till_date"), data.get("outside_rth"), tag=tag
    )
    if outside_rth and order_type in NOT_OUTSIDE_RTH:
        raise IntentError(
            f"outside_rth is not for a {order_type} order (IB sends it only for resting orders)", tag
        )
    return Intent(
        tag=tag,
        symbol=symbol,
        quantity=quantity,
        order_type=order_type,
        limit_price=limit_price,
        stop_price=stop_price,
        time_in_force=time_in_force,
        good_till_date=good_till_date,
        outside_rth=outside_rth,
        trailing_amount=trailing_amount,
        trailing_as_percent=trailing_as_percent,
        trigger_price=trigger_price,
        bracket=parse_bracket(data.get("bracket"), tag=tag),
    )


# A bracket's legs: the intent's `bracket` / the command's `Bracket` key and the price each leg carries
# (execution/contract/intents.py bracket_contract; docs/engine-contract.md section 14).
BRACKET_LEGS = (("take_profit", "limit_price"), ("stop_loss", "stop_price"))
# The mark on the UpdateSubmitted line of the algorithm's own resize of a leg (execution/contract/messages.py).
BRACKET_RESIZE_KEY = "bracket_resize"


def parse_bracket(raw: Any, *, tag: str) -> tuple[tuple[str, str, float], ...]:
    """The legs of a bracket: an object, or its JSON text (the order command carries it as text, since LEAN
    turns a nested object of a command file into a Dictionary of JObjects: CommandPythonWrapper.cs:52-64)."""
    if raw in (None, "", {}):
        return ()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise IntentError(f"bracket is not JSON: {raw[:80]!r}", tag) from None
    if not isinstance(raw, dict):
        raise IntentError(f"bracket must be an object, got {raw!r}"[:200], tag)
    legs = []
    for role, price_key in BRACKET_LEGS:
        spec = raw.get(role)
        if spec is None:
            continue
        leg_tag = spec.get("tag") if isinstance(spec, dict) else None
        price: Any = spec.get(price_key) if isinstance(spec, dict) else None
        if not isinstance(leg_tag, str) or not leg_tag or not _positive(price):
            raise IntentError(f"Bracket {role} needs a tag and a positive {price_key}", tag)
        legs.append((role, leg_tag, float(price)))
    return tuple(legs)


@dataclass
class BracketLeg:
    """One leg of an armed bracket: placed (its order id) on the entry's first fill, closed once canceled."""

    role: str
    tag: str
    price: float
    order_id: int | None = None
    closed: bool = False


@dataclass
class BracketGroup:
    """A bracket the algorithm keeps one-cancels-other: its entry's tag, symbol, side, properties and legs."""

    entry_tag: str
    symbol: Any
    buy: bool
    properties: Any
    legs: list[BracketLeg]
    entry_id: int | None = None
    closed: bool = False

    def sibling(self, leg: BracketLeg) -> BracketLeg | None:
        """The other leg, when the bracket has two."""
        return next((other for other in self.legs if other is not leg), None)


# The order command's LEAN TimeInForce names (execution/contract/messages.py LEAN_TIME_IN_FORCE_NAMES) and the
# intent's tradedesk names, both to tradedesk's.
TIME_IN_FORCE_NAMES = {
    "day": "DAY",
    "goodtilcanceled": "GTC",
    "goodtildate": "GTD",
    "gtc": "GTC",
    "gtd": "GTD",
}


def intent_properties(
    time_in_force: Any, good_till_date: Any, outside_rth: Any, *, tag: str
) -> tuple[str, date | None, bool]:
    """(DAY | GTC | GTD, the GTD date, outside RTH) of an intent or command; a missing time in force is DAY
    (tradedesk's default, never LEAN's GoodTilCanceled: Common/Orders/OrderProperties.cs:40-43@24863901)."""
    name = TIME_IN_FORCE_NAMES.get(str(time_in_force or "day").strip().lower())
    if name is None:
        raise IntentError(f"unsupported time_in_force {time_in_force!r} (DAY, GTC, GTD)", tag)
    day: date | None = None
    if name == "GTD":
        try:  # text from the intent; LEAN may hand a command's value over as a DateTime
            day = date.fromisoformat(str(good_till_date)[:10])
        except ValueError:
            raise IntentError(f"a GTD order needs good_till_date, got {good_till_date!r}", tag) from None
    if outside_rth not in (None, True, False):
        raise IntentError(f"outside_rth must be true or false, got {outside_rth!r}", tag)
    return name, day, outside_rth is True


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


def _positive(value: Any) -> bool:
    """True for a finite JSON number > 0 (not a bool)."""
    return (
        not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value) and value > 0
    )


def read_intent(path: Path) -> Intent:
    """Read and validate an intent file (UTF-8, a BOM is ignored)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise IntentError(f"intent file {path} unreadable: {exc}") from None
    return parse_intent(data)


def intent_symbols(folder: Path, seen: set[str], *, newer_than: float = 0.0) -> list[str]:
    """Symbols of the intent files in `folder` not in `seen` (names added to it), oldest first."""
    found: list[tuple[float, str]] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        if not entry.name.endswith(".json") or entry.name.startswith(".") or entry.name in seen:
            continue
        try:
            mtime = entry.stat().st_mtime
            if mtime < newer_than:
                seen.add(entry.name)
                continue
            data = json.loads(Path(entry.path).read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            continue  # maybe half-written by a non-atomic writer: try again next scan
        seen.add(entry.name)
        symbol = data.get("symbol") if isinstance(data, dict) else None
        if isinstance(symbol, str) and SYMBOL_RE.match(symbol):
            found.append((mtime, symbol))
    symbols: list[str] = []
    for _, symbol in sorted(found):
        if symbol not in symbols:
            symbols.append(symbol)
    return symbols


def order_message(raw: Any, *, status: str, market_on_open: bool) -> str:
    """The line's message: the broker's text without its boilerplate, and the MarketOnOpen notice on every
    submission of a MarketOnOpen order (intent or OrderCommand alike), ahead of any text of the broker's."""
    message = str(raw or "").strip()
    if message in BROKER_BOILERPLATE:
        message = ""
    if market_on_open and status == "Submitted":
        return f"{MOO_MESSAGE}; {message}" if message else MOO_MESSAGE
    return message


def _is_market_on_open(order: Any) -> bool:
    """Whether LEAN's order is a MarketOnOpen order (OrderType.MARKET_ON_OPEN, Common/Orders/OrderTypes.cs)."""
    return order is not None and getattr(order, "type", None) == OrderType.MARKET_ON_OPEN


# ---------------------------------------------------------------------------------------------------------
# The algorithm
# ---------------------------------------------------------------------------------------------------------


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
    algorithm: ManualOrderExecution | None = None

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
    algorithm: ManualOrderExecution | None = None

    def run(self, algorithm: Any) -> bool | None:
        """Update the order through the algorithm that registered this command."""
        target = TradedeskUpdateCommand.algorithm
        if target is None:
            return False
        return target.update_command(self)


class ManualOrderExecution(QCAlgorithm):
    """Places the intent's order on its symbol's first price and writes the contract's lines."""

    _run_id: str
    _events_path: Path
    _intents_dir: Path | None
    _lock: threading.Lock
    _place_lock: threading.Lock
    _symbols: dict[str, Symbol]
    _seen_intents: set[str]
    _pending: Intent | None
    _pending_since: datetime | None
    _waiting_noticed: bool
    _max_line_bytes: int
    _holdings_snapshots: int
    _closes: dict[str, tuple[str, float | None]]
    _update_answers: dict[int, int]
    _brackets: dict[str, BracketGroup]  # by the entry's tag (armed before the entry is submitted)
    _bracket_of: dict[str, str]  # a leg's tag -> its entry's tag
    _resizes: dict[
        int, list[Any]
    ]  # a leg's order id -> the update requests that were the algorithm's resizes
    _bracket_lock: threading.RLock
    _trailing_stops: dict[int, int | float]  # order id -> the stop last reported

    # ---- LEAN entry points ------------------------------------------------------------------------

    def initialize(self) -> None:
        """Read the parameters, close a torn line, say started, subscribe, schedule.

        The order is not placed here: LEAN refuses orders while the algorithm is warming up (it is until
        initialization is over) and for a security without data, so it waits for the first price.
        """
        self._lock = threading.Lock()
        self._place_lock = threading.Lock()
        self._symbols = {}
        self._seen_intents = set()
        self._pending = None
        self._pending_since = None
        self._waiting_noticed = False
        self._run_id = self.get_parameter("run-id") or ""
        self._max_line_bytes = line_cap(self.get_parameter("max-line-bytes"))
        self._holdings_snapshots = 0
        self._closes = {}
        self._update_answers = {}
        self._brackets, self._bracket_of, self._resizes = {}, {}, {}
        self._bracket_lock = threading.RLock()
        self._trailing_stops = {}
        events_file = self.get_parameter("events-file") or ""
        self._events_path = Path(events_file or EVENTS_FILE).resolve()
        intent_file = self.get_parameter("intent-file") or ""
        # The intents folder is a parameter of its own: a run started without an order (`engine start`)
        # still subscribes the symbols of new intents. Before it, the folder came only from the intent file,
        # so such a run subscribed nothing and LEAN refused every OrderCommand for a symbol it did not hold
        # (MissingSecurity: Algorithm/QCAlgorithm.Trading.cs:1059-1063@24863901).
        intents_folder = self.get_parameter("intents-folder") or ""
        if intents_folder:
            self._intents_dir = Path(intents_folder).resolve()
        else:
            self._intents_dir = Path(intent_file).resolve().parent if intent_file else None

        # Without a seeded price every order waits for the first trade (overnight, weekends: for hours).
        self.settings.seed_initial_prices = True
        # tradedesk's order commands (CallbackCommand of this Type: QCAlgorithm.Python.cs:1917-1928@24863901).
        TradedeskOrderCommand.algorithm = self
        self.add_command(TradedeskOrderCommand)
        TradedeskUpdateCommand.algorithm = self
        self.add_command(TradedeskUpdateCommand)
        self._events_path.parent.mkdir(parents=True, exist_ok=True)
        if close_torn_line(self._events_path):
            self.log(f"events file {self._events_path} ended in a torn line; closed it")
        self._write(
            engine_line(
                "started", run_id=self._run_id, intent_file=intent_file, live_mode=bool(self.live_mode)
            )
        )
        if not events_file:
            self._error(f"parameter events-file is missing; writing to {self._events_path}")
        if not self.live_mode:
            self._error("not running in live mode: LEAN reads no command files")
        try:
            if intent_file:
                self._accept_intent(Path(intent_file))
            self._scan_intents(initial=True)
            self.schedule.on(
                self.date_rules.every_day(), self.time_rules.every(HOLDINGS_EVERY), self._every_minute
            )
            self.schedule.on(
                self.date_rules.every_day(), self.time_rules.every(INTENT_SCAN_EVERY), self._scan_intents
            )
            self.schedule.on(
                self.date_rules.every_day(),
                self.time_rules.every(prices_interval(self.get_parameter("prices-interval"))),
                self._every_prices_interval,
            )

        except Exception as exc:
            self._error(f"initialize: {type(exc).__name__}: {exc}")

    def on_warmup_finished(self) -> None:
        """LEAN has loaded the brokerage's cash, holdings and open orders by now: the first holdings line (IB's
        truth), then the open-orders line (each reloaded order, for tradedesk to re-home by its broker id)."""
        try:
            self._write_holdings(source="broker")
            self._write_open_orders()
            self._place_pending()
        except Exception as exc:
            self._error(f"on_warmup_finished: {type(exc).__name__}: {exc}")

    def on_data(self, slice: Slice) -> None:
        """A price arrived: place the intent's order if it was waiting for one."""
        try:
            self._place_pending()
        except Exception as exc:
            self._error(f"on_data: {type(exc).__name__}: {exc}")

    def on_order_event(self, order_event: OrderEvent) -> None:
        """One contract line per LEAN order event (intent orders and OrderCommand orders alike)."""
        try:
            order = self.transactions.get_order_by_id(order_event.order_id)
            tag = (order.tag if order is not None else "") or ""
            fee = order_event.order_fee.value if order_event.order_fee is not None else None
            status = status_name(order_event.status)
            # IB's Submitted always carries its boilerplate, so the notice is written whatever the text.
            message = order_message(
                order_event.message, status=status, market_on_open=_is_market_on_open(order)
            )
            answer = self._update_answers.get(int(order_event.order_id), 0)
            refused = self._update_refused(int(order_event.order_id), status)
            resize = status == "UpdateSubmitted" and self._is_resize(int(order_event.order_id), answer)
            line = event_line(
                tag=str(tag),
                status=status,
                order_id=int(order_event.order_id),
                event_id=int(order_event.id),
                run_id=self._run_id,
                symbol=str(order_event.symbol.value),
                time=order_event.utc_time,
                fill_quantity=order_event.fill_quantity,
                fill_price=order_event.fill_price,
                fee=fee.amount if fee is not None else None,
                fee_currency=str(fee.currency or "") if fee is not None else "",
                message=message,
                broker_ids=order_broker_ids(order),
            )
            if refused:
                line[UPDATE_REFUSED_KEY] = True
            if resize:
                line[BRACKET_RESIZE_KEY] = True
            if getattr(order, "type", None) == OrderType.TRAILING_STOP:
                # The order's current stop (LEAN's OrderEvent.StopPrice: "The current stop price").
                stop = json_number(getattr(order, "stop_price", None))
                if stop is not None and stop > 0:
                    line["stop_price"] = stop
                    self._trailing_stops[int(order.id)] = stop
            self._write(line)
            # After the event's own line, at once: a bracket's legs follow the fill (one-cancels-other).
            if self._brackets:
                self._bracket_event(str(tag), int(order_event.order_id), status)
        except Exception as exc:
            self._error(f"on_order_event: {type(exc).__name__}: {exc}")

    def _report_trailing_stops(self) -> None:
        """A line for every open trailing stop whose stop moved (no event_id: LEAN's ids are its events', so
        the line's identity is the hash of its JSON, time and stop included)."""
        try:
            for order, stop in trailing_stop_moves(self.transactions.get_open_orders(), self._trailing_stops):
                line = event_line(
                    tag=str(order.tag or ""),
                    status=moved_status(order),
                    order_id=int(order.id),
                    event_id=0,
                    run_id=self._run_id,
                    symbol=str(order.symbol.value),
                    time=datetime.now(UTC),
                    fill_quantity=0,
                    fill_price=0,
                    fee=0,
                    fee_currency="",
                    message=f"trailing stop moved to {stop}",
                    broker_ids=order_broker_ids(order),
                )
                del line["event_id"]
                line["stop_price"] = stop
                self._write(line)
        except Exception as exc:
            self._error(f"trailing stops: {type(exc).__name__}: {exc}")

    def _update_refused(self, order_id: int, status: str) -> bool:
        """Count the broker's answers to the order's updates: an Invalid while one is unanswered refuses it.

        Only the engine knows an update is in flight, so it marks the line; tradedesk never guesses it from
        its database at apply time (replay and arrival order stay as they are)."""
        if status not in ("UpdateSubmitted", "Invalid"):
            return False
        sent = updates_sent(self.transactions.get_order_ticket(order_id))
        answered = self._update_answers.get(order_id, 0)
        if answered >= sent:
            return False
        self._update_answers[order_id] = answered + 1
        return status == "Invalid"

    # ---- brackets: legs placed on the entry's fills, sized to what filled, one-cancels-other ----------------

    def _bracket_arm(self, symbol: Symbol, intent: Intent, properties: Any) -> None:
        """Keep the intent's legs by its tag until its fills place them (the legs trade the other side)."""
        legs = [BracketLeg(role=role, tag=tag, price=price) for role, tag, price in intent.bracket]
        with self._bracket_lock:
            group = BracketGroup(intent.tag, symbol, intent.quantity > 0, properties, legs)
            self._brackets[intent.tag] = group
            for leg in legs:
                self._bracket_of[leg.tag] = intent.tag

    def _filled(self, order_id: int | None) -> float:
        """What an order of this run has filled (absolute), from its ticket."""
        ticket = self.transactions.get_order_ticket(order_id) if order_id is not None else None
        return abs(float(ticket.quantity_filled)) if ticket is not None else 0.0

    def _bracket_event(self, tag: str, order_id: int, status: str) -> None:
        """An entry's fill sizes its legs, its cancel closes the group; a leg's fill keeps the other in step."""
        with self._bracket_lock:
            group = self._brackets.get(tag)
            if group is not None:
                group.entry_id = order_id
                if status in ("PartiallyFilled", "Filled"):
                    self._bracket_size(group)
                elif status == "Canceled":
                    group.closed = True
                    for each in group.legs:
                        self._bracket_cancel(each, "Canceled with its bracket's entry")
                return
            entry_tag = self._bracket_of.get(tag)
            group = self._brackets.get(entry_tag) if entry_tag is not None else None
            leg = next((leg for leg in group.legs if leg.tag == tag), None) if group is not None else None
            if group is None or leg is None:
                return
            if status in ("Canceled", "Invalid"):
                leg.closed = True
            elif status in ("PartiallyFilled", "Filled"):
                self._one_cancels_other(group, leg, filled=status == "Filled")

    def _bracket_size(self, group: BracketGroup) -> None:
        """Each open leg to what the entry filled less what its sibling filled: placed, or grown."""
        entry_filled = self._filled(group.entry_id)
        sign = -1 if group.buy else 1
        for leg in group.legs:
            sibling = group.sibling(leg)
            size = entry_filled - self._filled(sibling.order_id if sibling is not None else None)
            if group.closed or leg.closed or size <= 0:
                continue
            if leg.order_id is None:
                place = self.limit_order if leg.role == "take_profit" else self.stop_market_order
                ticket = place(group.symbol, sign * size, leg.price, asynchronous=True, tag=leg.tag,
                               order_properties=group.properties)  # fmt: skip
                if ticket is not None and int(ticket.order_id) > 0:
                    leg.order_id = int(ticket.order_id)
                else:
                    leg.closed = True
                continue
            ticket = self.transactions.get_order_ticket(leg.order_id)
            if ticket is not None and abs(float(ticket.quantity)) < size:
                self._bracket_resize(ticket, sign * size)

    def _one_cancels_other(self, group: BracketGroup, leg: BracketLeg, *, filled: bool) -> None:
        """A leg's fill: cancel the sibling once nothing is left to protect, else shrink it to what is."""
        sibling = group.sibling(leg)
        if sibling is None or sibling.order_id is None or sibling.closed:
            return
        size = self._filled(group.entry_id) - self._filled(leg.order_id)
        if filled or size <= self._filled(sibling.order_id):
            self._bracket_cancel(sibling, f"one-cancels-other: the {leg.role} filled")
            return
        ticket = self.transactions.get_order_ticket(sibling.order_id)
        if ticket is not None and abs(float(ticket.quantity)) > size:
            self._bracket_resize(ticket, (1 if float(ticket.quantity) > 0 else -1) * size)

    def _bracket_resize(self, ticket: OrderTicket, quantity: float) -> None:
        """Update a leg's quantity, remembering the request so its UpdateSubmitted line says it was a resize."""
        fields = UpdateOrderFields()
        fields.quantity = quantity
        ticket.update(fields)
        requests = list(ticket.update_requests or ())
        if requests:
            self._resizes.setdefault(int(ticket.order_id), []).append(requests[-1])

    def _bracket_cancel(self, leg: BracketLeg, reason: str) -> None:
        """Cancel a placed leg once (never placed or grown again)."""
        if leg.closed:
            return
        leg.closed = True
        ticket = self.transactions.get_order_ticket(leg.order_id) if leg.order_id is not None else None
        if ticket is not None:
            ticket.cancel(reason)

    def _is_resize(self, order_id: int, answer: int) -> bool:
        """Whether the update the `answer`-th UpdateSubmitted of the order answers was the algorithm's resize
        (LEAN answers a ticket's sent updates in order: the same count _update_refused keeps)."""
        ours = self._resizes.get(order_id)
        if not ours:
            return False
        ticket = self.transactions.get_order_ticket(order_id)
        sent = (OrderRequestStatus.PROCESSING, OrderRequestStatus.PROCESSED)
        requests = (
            [r for r in (ticket.update_requests or ()) if r.status in sent] if ticket is not None else []
        )
        return answer < len(requests) and any(requests[answer] is request for request in ours)

    def on_brokerage_message(self, message_event: BrokerageMessageEvent) -> None:
        """Brokerage errors, disconnects and required actions become engine error lines (information stays in
        LEAN's log). On an Error or ActionRequired LEAN ends the run right after this (no stopped line:
        DefaultBrokerageMessageHandler.cs:92-96,168-171, Engine.cs:243-250@24863901); the supervisor records why."""
        try:
            if message_event.type in (
                BrokerageMessageType.ERROR,
                BrokerageMessageType.ACTION_REQUIRED,
                BrokerageMessageType.DISCONNECT,
            ):
                self._error(f"brokerage {message_event.code}: {message_event.message}")
        except Exception as exc:
            self._error(f"on_brokerage_message: {type(exc).__name__}: {exc}")

    def on_brokerage_disconnect(self) -> None:
        """The brokerage connection was lost (IB Gateway restart, network)."""
        self._error("brokerage disconnected")

    def on_brokerage_reconnect(self) -> None:
        """The brokerage connection is back."""
        try:
            self._write(engine_line("reconnected", run_id=self._run_id))
        except Exception as exc:
            self._error(f"on_brokerage_reconnect: {type(exc).__name__}: {exc}")

    def on_end_of_algorithm(self) -> None:
        """A last holdings line, then stopped."""
        try:
            self._write_holdings()
        except Exception as exc:
            self._error(f"on_end_of_algorithm: {type(exc).__name__}: {exc}")
        try:
            self._write(engine_line("stopped", run_id=self._run_id))
        except Exception as exc:
            self.error(f"tradedesk: could not write the stopped line: {exc}")

    # ---- intents and orders ---------------------------------------------------------------------------

    def _accept_intent(self, path: Path) -> None:
        """Read the start intent and subscribe its symbol; a refused intent is reported as Invalid."""
        try:
            intent = read_intent(path)
        except IntentError as exc:
            if exc.tag:
                self._report_invalid(exc.tag, "", str(exc), order_id=0)
            else:
                self._error(str(exc))
            return
        self._subscribe(intent.symbol)
        self._pending = intent
        self._pending_since = datetime.now(UTC)

    def _place_pending(self) -> None:
        """Place the waiting intent's order once LEAN has a price for its symbol (LEAN refuses it before)."""
        with self._place_lock:  # on_data and scheduled events may run on different threads: place once
            intent = self._pending
            if intent is None or self.is_warming_up:
                return
            symbol = self._symbols.get(intent.symbol)
            if symbol is None:
                return
            if not self.securities[symbol].has_data:
                self._notice_waiting(intent)
                return
            self._pending = None
        try:
            route = ""
            if intent.order_type == "MKT":
                route, message = self._market_route(symbol)
                if route == REFUSED:
                    self._report_invalid(intent.tag, intent.symbol, message, order_id=0)
                    return
            ticket = self._submit(symbol, intent, route)
        except Exception as exc:  # the order was taken off the wait list: its refusal must reach tradedesk
            self._report_invalid(intent.tag, intent.symbol, f"{type(exc).__name__}: {exc}", order_id=0)
            return
        self._check_ticket(ticket, intent)

    def _submit(self, symbol: Symbol, intent: Intent, route: str) -> OrderTicket:
        """Submit the intent's order with its own order properties (never LEAN's DefaultOrderProperties, GTC); a
        bracket's legs are armed first, so the entry's first fill, on any thread, finds them."""
        properties = order_properties(intent)
        tag = intent.tag
        if intent.bracket:
            self._bracket_arm(symbol, intent, properties)
        if intent.order_type == "LMT":
            assert intent.limit_price is not None  # parse_intent guarantees it
            return self.limit_order(
                symbol, intent.quantity, intent.limit_price, tag=tag, order_properties=properties
            )
        if intent.order_type == "STP":
            assert intent.stop_price is not None
            return self.stop_market_order(
                symbol, intent.quantity, intent.stop_price, tag=tag, order_properties=properties
            )
        if intent.order_type == "STP LMT":
            assert intent.stop_price is not None and intent.limit_price is not None
            return self.stop_limit_order(
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
            return self.trailing_stop_order(
                symbol,
                intent.quantity,
                intent.trailing_amount,
                intent.trailing_as_percent,
                tag=tag,
                order_properties=properties,
            )
        if intent.order_type == "LIT":
            assert intent.trigger_price is not None and intent.limit_price is not None
            return self.limit_if_touched_order(
                symbol,
                intent.quantity,
                intent.trigger_price,
                intent.limit_price,
                tag=tag,
                order_properties=properties,
            )
        if intent.order_type == "MOC":
            # LEAN refuses it inside its buffer before the close (QCAlgorithm.Trading.cs:1215-1232): an error
            # response, which _check_ticket reports as the order's Invalid line.
            return self.market_on_close_order(symbol, intent.quantity, tag=tag, order_properties=properties)
        if route == MARKET_ON_OPEN:
            return self.market_on_open_order(
                symbol, intent.quantity, asynchronous=True, tag=tag, order_properties=properties
            )
        return self.market_order(
            symbol, intent.quantity, asynchronous=True, tag=tag, order_properties=properties
        )

    def place_command(self, command: Any) -> bool:
        """Place a TradedeskOrderCommand's order (LEAN's command thread); False, with the order's Invalid
        line when it names one, when it cannot be placed (the command result says Success false)."""
        try:
            intent, route = command_intent(command)
        except IntentError as exc:
            if exc.tag:
                self._report_invalid(exc.tag, "", str(exc), order_id=0)
            else:
                self._error(f"order command: {exc}")
            return False
        try:
            self._subscribe(intent.symbol)
            symbol = self._symbols.get(intent.symbol)
            if symbol is None:
                raise IntentError(f"no subscription for {intent.symbol} (at most {MAX_SUBSCRIPTIONS})")
            ticket = self._submit(symbol, intent, route)
        except Exception as exc:
            self._report_invalid(intent.tag, intent.symbol, f"{type(exc).__name__}: {exc}", order_id=0)
            return False
        return self._check_ticket(ticket, intent)

    def update_command(self, command: Any) -> bool:
        """Update an order of this run from a TradedeskUpdateCommand (LEAN's command thread), as LEAN's
        UpdateOrderCommand.Run does (UpdateOrderCommand.cs:59-68@24863901) through the order's ticket
        (OrderTicket.Update: Common/Orders/OrderTicket.cs:338-342), so _update_refused counts it as any update."""
        order_id = json_number(getattr(command, "order_id", None))
        ticket = self.transactions.get_order_ticket(int(order_id)) if isinstance(order_id, int) else None
        if ticket is None:
            self._error(f"update command: no order {getattr(command, 'order_id', None)!r} in this run")
            return False
        fields = UpdateOrderFields()
        for name in ("quantity", "limit_price", "stop_price", "trigger_price", "trailing_amount"):
            value = json_number(getattr(command, name, None))
            if value is not None:
                setattr(fields, name, float(value))  # a decimal? of LEAN, as the resizes pass it
        try:
            response = ticket.update(fields)
        except Exception as exc:
            self._error(f"update command for order {order_id}: {type(exc).__name__}: {exc}")
            return False
        return bool(response is not None and response.is_success)

    def _market_route(self, symbol: Symbol) -> tuple[str, str]:
        """The rule for a market order now, from LEAN's own exchange hours (holidays and early closes too)."""
        exchange = self.securities[symbol].exchange
        if exchange.exchange_open:
            return MARKET, ""
        local = self.securities[symbol].local_time
        session = None
        for segment in exchange.hours.get_market_hours(local).segments:
            if segment.state == MarketHoursState.MARKET:
                session = (segment.start, segment.end)
                break
        local_time = timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
        return market_order_route(exchange_open=False, local_time=local_time, session=session)

    def _check_ticket(self, ticket: OrderTicket, intent: Intent) -> bool:
        """LEAN's pre-order checks refuse an order without any order event: report that as Invalid (False)."""
        response = ticket.get_most_recent_order_response() if ticket is not None else None
        if ticket is None or (response is not None and response.is_error):
            message = str(response.error_message) if response is not None else "LEAN returned no order ticket"
            order_id = int(ticket.order_id) if ticket is not None else 0
            self._report_invalid(intent.tag, intent.symbol, message, order_id=max(order_id, 0))
            return False
        return True

    def _report_invalid(self, tag: str, symbol: str, message: str, *, order_id: int) -> None:
        """An Invalid event for an order LEAN never created (event id 0: LEAN's own event ids start at 1)."""
        self._write(
            event_line(
                tag=tag,
                status="Invalid",
                order_id=order_id,
                event_id=0,
                run_id=self._run_id,
                symbol=symbol,
                time=datetime.now(UTC),
                fill_quantity=0,
                fill_price=0,
                fee=0,
                fee_currency="",
                message=message,
            )
        )

    def _notice_waiting(self, intent: Intent) -> None:
        """Say once in the events file (an engine line) that the intent's order still waits for a price."""
        since = self._pending_since
        if self._waiting_noticed or since is None or datetime.now(UTC) - since < WAITING_NOTICE_AFTER:
            return
        self._waiting_noticed = True
        self._write(
            engine_line(
                "waiting",
                run_id=self._run_id,
                order_intent_id=intent.tag,
                message=f"no price for {intent.symbol} yet (market closed or no IB market data subscription)",
            )
        )

    def _subscribe(self, ticker: str) -> None:
        """Add the equity (second bars, so an order waits seconds for its first price, not a minute)."""
        if ticker in self._symbols or len(self._symbols) >= MAX_SUBSCRIPTIONS:
            return
        self._symbols[ticker] = self.add_equity(ticker, Resolution.SECOND).symbol

    def _scan_intents(self, initial: bool = False) -> None:
        """Subscribe the symbols of new intent files, so OrderCommands for them find a security with data."""
        try:
            if self._intents_dir is None:
                return
            newer_than = _time.time() - RECENT_INTENT_SECONDS if initial else 0.0
            for ticker in intent_symbols(self._intents_dir, self._seen_intents, newer_than=newer_than):
                self._subscribe(ticker)
        except Exception as exc:
            self._error(f"scan intents: {type(exc).__name__}: {exc}")

    # ---- lines ----------------------------------------------------------------------------------------

    def _every_minute(self) -> None:
        """The minute holdings line (and another chance for a waiting order)."""
        try:
            self._write_holdings()
            self._place_pending()
        except Exception as exc:
            self._error(f"every minute: {type(exc).__name__}: {exc}")

    def _write_holdings(self, source: str = "lean") -> None:
        """The account's holdings line, in parts of one snapshot when it is longer than the line cap."""
        positions = [
            (symbol.value, holding.quantity, holding.average_price)
            for symbol, holding in self.portfolio.items()
        ]
        self._holdings_snapshots += 1
        parts = split_holdings_line(
            holdings_line(run_id=self._run_id, positions=positions, source=source),
            snapshot=self._holdings_snapshots,
            max_line_bytes=self._max_line_bytes,
        )
        # One lock for all parts: no order event from the brokerage's thread lands between them.
        with self._lock:
            for part in parts:
                append_line(self._events_path, part)

    def _write_open_orders(self) -> None:
        """The open-orders line (in several lines when longer than the cap), written once, after warm-up."""
        line = open_orders_line(run_id=self._run_id, orders=self.transactions.get_open_orders())
        with self._lock:
            for part in split_open_orders_line(line, max_line_bytes=self._max_line_bytes):
                append_line(self._events_path, part)

    def _every_prices_interval(self) -> None:
        """The snapshots, and a line for each trailing stop that moved (looked for as often as prices change)."""
        self._write_prices()
        self._report_trailing_stops()

    def _write_prices(self) -> None:
        """Replace prices.json with the prices of held symbols, of symbols of open orders and of every
        subscribed security (AddSecurityCommand, the ticket's quotes); one without a price is left out."""
        try:
            wanted = {symbol for symbol, holding in self.portfolio.items() if holding.quantity != 0}
            wanted |= {order.symbol for order in self.transactions.get_open_orders()}
            held = set(wanted)
            wanted |= set(self.securities.keys())
            quotes = []
            closes: dict[str, float | None] = {}
            for symbol in wanted:
                security = self.securities[symbol]
                quotes.append((symbol.value, security.price, security.bid_price, security.ask_price))
                if symbol in held:
                    closes[symbol.value] = self._previous_close(symbol, security)
            snapshot = prices_snapshot(
                run_id=self._run_id, quotes=quotes, time=self.utc_time, previous_closes=closes
            )
            replace_json(self._events_path.parent / PRICES_FILE, snapshot)
        except Exception as exc:
            self._error(f"prices: {type(exc).__name__}: {exc}")
        self._write_account()

    def _previous_close(self, symbol: Symbol, security: Any) -> float | None:
        """The symbol's previous session close (day P&L): the last completed daily bar of LEAN's history,
        asked once per symbol and exchange date (one IB historical request a day), None when it has none."""
        day = str(getattr(security, "local_time", "") or "")[:10]
        cached = self._closes.get(symbol.value)
        if cached is not None and cached[0] == day:
            return cached[1]
        try:
            close = last_close(self.history(TradeBar, symbol, 1, Resolution.DAILY))
        except Exception as exc:
            self.log(f"tradedesk: no daily history for {symbol.value}: {type(exc).__name__}: {exc}")
            close = None
        self._closes[symbol.value] = (day, close)
        return close

    def _write_account(self) -> None:
        """Replace account.json with the IB account's balances as LEAN's portfolio has them (on the prices'
        schedule: at most every prices-interval seconds)."""
        try:
            portfolio = self.portfolio
            book = portfolio.cash_book
            snapshot = account_snapshot(
                run_id=self._run_id,
                time=self.utc_time,
                currency=book.account_currency,
                cash=[(code, cash.amount) for code, cash in book.items()],
                net_liquidation=portfolio.total_portfolio_value,
                buying_power=portfolio.margin_remaining,
                total_margin_used=portfolio.total_margin_used,
                unrealized_pnl=portfolio.total_unrealized_profit,
            )
            replace_json(self._events_path.parent / ACCOUNT_FILE, snapshot)
        except Exception as exc:
            self._error(f"account: {type(exc).__name__}: {exc}")

    def _error(self, message: str) -> None:
        """An engine error line, and the message in LEAN's own log; never raises."""
        with contextlib.suppress(Exception):
            self.error(f"tradedesk: {message}")
        with contextlib.suppress(Exception):
            self._write(engine_line("error", run_id=self._run_id, message=message))

    def _write(self, payload: dict[str, Any]) -> None:
        # LEAN calls on_order_event from the brokerage's thread and scheduled events from its own.
        with self._lock:
            append_line(self._events_path, payload)
