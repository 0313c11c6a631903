"""The vocabulary of the domain: modes, states, sides, order types, statuses, flags, number sizes."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from django.db import models
from django.utils.translation import gettext_lazy as _

CLIENT_ORDER_ID_REGEX = r"^[A-Za-z0-9_.-]{1,64}$"
SYMBOL_REGEX = r"^[A-Z][A-Z0-9.]{0,14}$"
# params.source of an order a person placed (page, API, admin); only these are handed to an engine.
SOURCE_MANUAL = "manual"
# Demo data (manage.py seed_demo). Every source an order can have: the admin's source filter lists these.
SOURCE_SEED = "seed"
ORDER_SOURCES = (SOURCE_MANUAL, SOURCE_SEED)


class Digits(TypedDict):
    """A DecimalField's size."""

    max_digits: int
    decimal_places: int


QTY: Digits = {"max_digits": 20, "decimal_places": 6}
PRICE: Digits = {"max_digits": 24, "decimal_places": 10}
MONEY: Digits = {"max_digits": 24, "decimal_places": 8}
NOTIONAL: Digits = {"max_digits": 40, "decimal_places": 16}
# The smallest step of each kind of number, derived from the columns (the one home of decimal places).
QTY_PLACES = Decimal(1).scaleb(-QTY["decimal_places"])
PRICE_PLACES = Decimal(1).scaleb(-PRICE["decimal_places"])
MONEY_PLACES = Decimal(1).scaleb(-MONEY["decimal_places"])


class Mode(models.TextChoices):
    PAPER = "paper", _("Paper")
    LIVE = "live", _("Live")


class TradingState(models.TextChoices):
    ACTIVE = "ACTIVE", _("Active")
    REDUCING = "REDUCING", _("Reducing only")
    HALTED = "HALTED", _("Halted")


class Side(models.TextChoices):
    BUY = "BUY", _("Buy")
    SELL = "SELL", _("Sell")


class OrderType(models.TextChoices):
    MKT = "MKT", _("Market")
    LMT = "LMT", _("Limit")
    STP = "STP", _("Stop")
    STP_LMT = "STP LMT", _("Stop limit")
    # The types IB accepts in LEAN beyond the four above (Common/Brokerages/InteractiveBrokersBrokerageModel.cs
    # :76-90@24863901: TrailingStop, MarketOnClose, LimitIfTouched).
    TRAIL = "TRAIL", _("Trailing stop")
    MOC = "MOC", _("Market on close")
    LIT = "LIT", _("Limit if touched")


class BracketRole(models.TextChoices):
    """An order's place in a bracket: its entry, or one of the two one-cancels-other children."""

    NONE = "", _("None")
    ENTRY = "ENTRY", _("Bracket entry")
    TAKE_PROFIT = "TAKE_PROFIT", _("Take profit")
    STOP_LOSS = "STOP_LOSS", _("Stop loss")


class BracketState(models.TextChoices):
    """A bracket group's state, kept on its entry: OPEN sends children on fills, CLOSED sends none any more."""

    NONE = "", _("None")
    OPEN = "OPEN", _("Open")
    CLOSED = "CLOSED", _("Closed")


# The bracket roles of the children, and each one's order type: a take-profit limit, a stop-loss stop.
BRACKET_CHILD_TYPES = {"TAKE_PROFIT": "LMT", "STOP_LOSS": "STP"}
# What the page, the API and the admin say of a group whose children filled past its entry.
BRACKET_OVERFILL_TEXT = _(
    "both legs of the bracket filled: the position went past flat by the overfill; review it"
)


# Order types that carry a limit price / a stop price the trader sets (the rest must leave the field empty).
LIMIT_PRICE_TYPES = frozenset({OrderType.LMT, OrderType.STP_LMT, OrderType.LIT})
STOP_PRICE_TYPES = frozenset({OrderType.STP, OrderType.STP_LMT})
# A trailing stop carries a trailing amount (or percent) instead; its stop price is the engine's current stop.
TRAILING_TYPES = frozenset({OrderType.TRAIL})
# Limit if touched: a trigger price and the limit it then works at (Common/Orders/LimitIfTouchedOrder.cs:36-46).
TRIGGER_PRICE_TYPES = frozenset({OrderType.LIT})
# A trailing percent is a share of the market price: 100 % or more would put a sell stop at or below zero.
MAX_TRAILING_PERCENT = Decimal(100)


class TimeInForce(models.TextChoices):
    """What IB accepts of LEAN's time in force (Common/Brokerages/InteractiveBrokersBrokerageModel.cs:64-71@24863901)."""

    DAY = "DAY", _("Day")
    GTC = "GTC", _("Good till canceled")
    GTD = "GTD", _("Good till date")


# The order types the IB plugin sends outside-RTH for (InteractiveBrokersBrokerage.cs:3583-3598@d154917: Limit,
# LimitIfTouched, StopMarket, StopLimit, TrailingStop; it drops the flag silently on anything else, so tradedesk
# refuses it there). Written as values: TRAIL and LIT are the order-types slice's (issue 24).
OUTSIDE_RTH_TYPES = frozenset({"LMT", "STP", "STP LMT", "TRAIL", "LIT"})


class OrderStatus(models.TextChoices):
    # A bracket's take-profit or stop-loss before its entry fills: the engine places it then (ranked lowest).
    HELD = "HELD", _("Held for the entry")
    NEW = "NEW", _("New")
    FAILED = "FAILED", _("Failed")
    SUBMITTED = "SUBMITTED", _("Submitted")
    PARTIALLY_FILLED = "PARTIALLY_FILLED", _("Partially filled")
    CANCEL_PENDING = "CANCEL_PENDING", _("Cancel pending")
    REJECTED = "REJECTED", _("Rejected")
    CANCELED = "CANCELED", _("Canceled")
    FILLED = "FILLED", _("Filled")


# The engine contract's rank: an order's status is the highest-ranked status among what was applied.
STATUS_RANK: dict[str, int] = {status.value: rank for rank, status in enumerate(OrderStatus)}
# Closed (the ledger's, the archive's): ranked above every working status, so no event reopens the order.
CLOSED_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED})
# Final (the page's): nothing more is expected, so the page stops polling and announces the change. FAILED
# (never handed to an engine) is final but not closed: it ranks below SUBMITTED, so a late event still moves it.
# desk.js reads this set from the page (data-final-statuses), never a copy of its own.
FINAL_STATUSES = CLOSED_STATUSES | {OrderStatus.FAILED}
WORKING_STATUSES = frozenset(
    {OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCEL_PENDING}
)


class OrderFlag(models.TextChoices):
    NONE = "", _("None")
    STALE = "STALE", _("No engine event for too long")
    ENGINE_DOWN = "ENGINE_DOWN", _("Engine exited while the order was working")
    COMMAND_UNREAD = "COMMAND_UNREAD", _("Engine has not read the order's command file")


# Flags that stand beside the engine flag above (which tracks the engine's liveness and clears on its next
# event): each is its own column, so an order can be engine-down and overfilled at once.
FLAG_OVERFILL = "OVERFILL"
FLAG_FUTURE_TIME = "FUTURE_TIME"
FLAG_UPDATE_REFUSED = "UPDATE_REFUSED"
# A bracket whose children together filled more than its entry did (both one-cancels-other legs filled).
FLAG_BRACKET_OVERFILL = "BRACKET_OVERFILL"
# What the flag means wherever it is shown (page, API, admin).
UPDATE_REFUSED_TEXT = _("update refused by the broker: still working at IB until the engine says otherwise")
# An order whose engine run died is unknown, not working: it may still be live at the broker.
UNKNOWN_FLAG = OrderFlag.ENGINE_DOWN


def order_is_unknown(*, status: str, flag: str) -> bool:
    """Working, but its engine run died (the one rule; also for rows read as plain values)."""
    return status in WORKING_STATUSES and flag == UNKNOWN_FLAG


def order_flags(
    *,
    flag: str,
    overfilled: bool,
    future_event_time: bool,
    update_refused: bool = False,
    bracket_overfilled: bool = False,
) -> list[str]:
    """Every flag of an order: engine flag, overfill, future event time, refused update, bracket overfill."""
    found = [flag] if flag else []
    if bracket_overfilled:
        found.append(FLAG_BRACKET_OVERFILL)
    if overfilled:
        found.append(FLAG_OVERFILL)
    if future_event_time:
        found.append(FLAG_FUTURE_TIME)
    if update_refused:
        found.append(FLAG_UPDATE_REFUSED)
    return found
