"""An intent file's order (tradedesk's contract format), validated, and the symbols of new intent files."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.]{0,14}$")


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
