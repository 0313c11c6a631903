"""Order payload validation: every field bound and typed before arithmetic or SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from orders.errors import OrderValidationError
from orders.models import (
    CLIENT_ORDER_ID_REGEX,
    LIMIT_PRICE_TYPES,
    MAX_TRAILING_PERCENT,
    PRICE_PLACES,
    QTY_PLACES,
    STOP_PRICE_TYPES,
    SYMBOL_REGEX,
    TRAILING_TYPES,
    TRIGGER_PRICE_TYPES,
    Mode,
    OrderType,
    Side,
    TimeInForce,
)
from orders.services.time_in_force import clean_time_in_force

# The largest id PostgreSQL's bigint (and SQLite's integer) holds: a bigger one overflows in the database.
MAX_DB_ID = 2**63 - 1
# Plain decimal notation only: no "1_000" (Python's Decimal takes it), no NaN or infinities.
NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
MAX_NUMBER_TEXT = 64
# Order numbers have at most 14 integer digits (the model columns); anything larger is refused before
# any arithmetic, so an exponent like 1e999999999 never reaches Decimal's context limits.
MAX_INTEGER_DIGITS = 14
ORDER_TYPES_TEXT = "MKT, LMT, STP, STP LMT, TRAIL, MOC or LIT"


def _invalid(field_name: str, reason: str) -> OrderValidationError:
    return OrderValidationError(f"{field_name} {reason}", errors={field_name: reason})


def decimal_input(value: Any, *, field_name: str, places: Decimal) -> Decimal:
    """A finite Decimal from a JSON/form value, with at most `places` decimals, or a validation error."""
    if isinstance(value, bool) or value is None:
        raise _invalid(field_name, "must be a number")
    if isinstance(value, int):
        text = str(value) if abs(value) < 10**MAX_INTEGER_DIGITS else "1e99"
    elif isinstance(value, Decimal | float):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise _invalid(field_name, "must be a number")
    if len(text) > MAX_NUMBER_TEXT:
        raise _invalid(field_name, f"must be at most {MAX_NUMBER_TEXT} characters")
    if not NUMBER_TEXT.fullmatch(text):
        lowered = text.lower().lstrip("+-")
        if lowered in ("nan", "snan", "inf", "infinity"):
            raise _invalid(field_name, "must be finite")
        raise _invalid(field_name, "must be a number")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise _invalid(field_name, "must be a number") from None
    # adjusted() is the exponent of the leading digit: no rounding, no context, no overflow.
    if not number.is_zero() and number.adjusted() >= MAX_INTEGER_DIGITS:
        raise _invalid(field_name, "is too large")
    if not number.is_zero() and number.adjusted() < -(MAX_INTEGER_DIGITS + 12):
        raise _invalid(field_name, "has too many decimal places")
    if number != number.quantize(places, rounding=ROUND_HALF_EVEN):
        decimals = -places.as_tuple().exponent  # type: ignore[operator]
        raise OrderValidationError(
            f"{field_name} has more than {decimals} decimal places",
            errors={field_name: f"at most {decimals} decimal places"},
        )
    return number.quantize(places)


def bounded_id(raw: Any) -> int | None:
    """A database id from a form, URL or JSON value (digits or an int, 1..2**63-1), else None."""
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_DB_ID:
        return None
    return raw


def _project_id(value: Any, errors: dict[str, str], *, name: str) -> int | None:
    """A project id within the database's integer range; the page sends it as digits, the API as an int."""
    if value in (None, ""):
        return None
    pk = bounded_id(value)
    if pk is None:
        errors[name] = "must be a project id"
    return pk


PARAMS_KEYS = frozenset({"source", "project_id", "mode"})


def _merge_params(
    params: Any, *, project_id: int | None, mode: str | None, errors: dict[str, str]
) -> tuple[int | None, str | None]:
    """The plan's params object: exactly source (manual), project_id, mode; twice given, values agree."""
    if not isinstance(params, dict):
        errors["params"] = "must be an object"
        return project_id, mode
    unknown = sorted(set(params) - PARAMS_KEYS)
    if unknown:
        errors[f"params.{unknown[0]}"] = "unknown field"
    if "source" in params and params["source"] != "manual":
        errors["params.source"] = "must be manual (other sources do not place orders here)"
    inner_id = _project_id(params.get("project_id"), errors, name="params.project_id")
    if inner_id is not None:
        if project_id is not None and inner_id != project_id:
            errors["params.project_id"] = "differs from project_id"
        project_id = inner_id
    inner_mode = params.get("mode")
    if inner_mode not in (None, ""):
        if inner_mode not in Mode.values:
            errors["params.mode"] = "must be paper or live"
        elif mode is not None and inner_mode != mode:
            errors["params.mode"] = "differs from mode"
        else:
            mode = inner_mode
    return project_id, mode


def _clean_price(raw: Any, *, field_name: str, errors: dict[str, str]) -> Decimal | None:
    """A positive price from raw input, or None with the reason added to `errors`."""
    try:
        price = decimal_input(raw, field_name=field_name, places=PRICE_PLACES)
    except OrderValidationError as exc:
        errors.update(exc.errors)
        return None
    if price <= 0:
        errors[field_name] = "must be greater than 0"
        return None
    if price >= Decimal("1e13"):
        errors[field_name] = "is too large"
        return None
    return price


def quantize(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class CleanOrder:
    """A validated order payload."""

    symbol: str
    side: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    client_order_id: str | None
    project_id: int | None
    mode: str | None
    confirm: bool
    stop_price: Decimal | None = None
    # TRAIL: the trailing amount (a price, or with trailing_as_percent a percent of the price); LIT: the trigger.
    trailing_amount: Decimal | None = None
    trailing_as_percent: bool = False
    trigger_price: Decimal | None = None
    # When the trader clicked, by the client's clock (stage times only: never compared on a replay).
    clicked_at: datetime | None = None
    time_in_force: str = TimeInForce.DAY
    good_till_date: date | None = None
    outside_rth: bool = False
    # A bracket's children: each leg an absolute price or an offset from the entry (one of the two at most).
    take_profit_price: Decimal | None = None
    take_profit_offset: Decimal | None = None
    stop_loss_price: Decimal | None = None
    stop_loss_offset: Decimal | None = None

    @property
    def is_bracket(self) -> bool:
        """A take profit or a stop loss is attached."""
        return any(
            value is not None
            for value in (
                self.take_profit_price,
                self.take_profit_offset,
                self.stop_loss_price,
                self.stop_loss_offset,
            )
        )


BRACKET_FIELDS = ("take_profit_price", "take_profit_offset", "stop_loss_price", "stop_loss_offset")


def _bracket_fields(payload: dict[str, Any], errors: dict[str, str]) -> dict[str, Decimal | None]:
    """A bracket's legs: positive prices or offsets, at most one of the two per leg."""
    values: dict[str, Decimal | None] = {}
    for name in BRACKET_FIELDS:
        raw = payload.get(name)
        values[name] = None if raw in (None, "") else _clean_price(raw, field_name=name, errors=errors)
    for leg in ("take_profit", "stop_loss"):
        if payload.get(f"{leg}_price") not in (None, "") and payload.get(f"{leg}_offset") not in (None, ""):
            errors[f"{leg}_offset"] = f"give {leg}_price or {leg}_offset, not both"
    return values


def clean_order_payload(payload: Any) -> CleanOrder:
    """Validate an order payload (API keys); every bad field is reported at once."""
    if not isinstance(payload, dict):
        raise OrderValidationError("the order must be a JSON object")
    errors: dict[str, str] = {}

    symbol = payload.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        errors["symbol"] = "required"
        symbol = ""
    elif not symbol.isascii():
        # Checked before upper(): "ıbm".upper() is "IBM" and "ßß".upper() is "SSSS".
        errors["symbol"] = "must be 1-15 letters, digits or dots, starting with a letter"
        symbol = ""
    else:
        symbol = symbol.strip().upper()
        if not re.fullmatch(SYMBOL_REGEX, symbol):
            errors["symbol"] = "must be 1-15 letters, digits or dots, starting with a letter"

    side = payload.get("side")
    side = side.strip().upper() if isinstance(side, str) and side.isascii() else side
    if side not in Side.values:
        errors["side"] = "must be BUY or SELL"

    order_type = payload.get("order_type") or OrderType.MKT
    if isinstance(order_type, str) and order_type.isascii():
        order_type = " ".join(order_type.upper().split())  # "stp  lmt" -> "STP LMT"
    if order_type not in OrderType.values:
        errors["order_type"] = f"must be {ORDER_TYPES_TEXT}"

    quantity: Decimal | None = None
    if payload.get("quantity") in (None, ""):
        errors["quantity"] = "required"
    else:
        try:
            quantity = decimal_input(payload["quantity"], field_name="quantity", places=QTY_PLACES)
        except OrderValidationError as exc:
            errors.update(exc.errors)
        else:
            if quantity <= 0:
                errors["quantity"] = "must be greater than 0"
            elif quantity > settings.TRADEDESK_MAX_ORDER_QUANTITY:
                errors["quantity"] = f"must be at most {settings.TRADEDESK_MAX_ORDER_QUANTITY:,}"

    limit_price: Decimal | None = None
    raw_limit = payload.get("limit_price")
    if order_type in LIMIT_PRICE_TYPES:
        if raw_limit in (None, ""):
            errors["limit_price"] = "required for a limit order"
        else:
            limit_price = _clean_price(raw_limit, field_name="limit_price", errors=errors)
    elif raw_limit not in (None, ""):
        errors["limit_price"] = "only a limit order has a limit price"

    stop_price: Decimal | None = None
    raw_stop = payload.get("stop_price")
    if order_type in STOP_PRICE_TYPES:
        if raw_stop in (None, ""):
            errors["stop_price"] = "required for a stop order"
        else:
            stop_price = _clean_price(raw_stop, field_name="stop_price", errors=errors)
    elif order_type in TRAILING_TYPES and raw_stop not in (None, ""):
        errors["stop_price"] = (
            "a trailing stop's stop is set by the engine: the market price less the trailing amount"
        )
    elif raw_stop not in (None, ""):
        errors["stop_price"] = "only a stop order has a stop price"

    trailing_amount, trailing_as_percent = _trailing(payload, order_type=order_type, errors=errors)
    trigger_price: Decimal | None = None
    raw_trigger = payload.get("trigger_price")
    if order_type in TRIGGER_PRICE_TYPES:
        if raw_trigger in (None, ""):
            errors["trigger_price"] = "required for a limit-if-touched order"
        else:
            trigger_price = _clean_price(raw_trigger, field_name="trigger_price", errors=errors)
    elif raw_trigger not in (None, ""):
        errors["trigger_price"] = "only a limit-if-touched order has a trigger price"
    tif = clean_time_in_force(payload, order_type=order_type, errors=errors)
    if order_type == OrderType.MOC and tif.time_in_force != TimeInForce.DAY and "time_in_force" not in errors:
        # The IB plugin sends a MarketOnClose as Day whatever its TimeInForce (InteractiveBrokersBrokerage.cs
        # :3685-3688@d154917): it trades at one close.
        errors["time_in_force"] = "a market on close order is DAY only: IB sends it for one close"

    client_order_id = payload.get("client_order_id")
    if client_order_id in (None, ""):
        client_order_id = None
    elif not isinstance(client_order_id, str) or not re.fullmatch(CLIENT_ORDER_ID_REGEX, client_order_id):
        errors["client_order_id"] = "must be 1-64 letters, digits, '_', '.' or '-'"

    mode = payload.get("mode")
    if mode in (None, ""):
        mode = None
    elif mode not in Mode.values:
        errors["mode"] = "must be paper or live"

    confirm = payload.get("confirm", False)
    if not isinstance(confirm, bool):
        errors["confirm"] = "must be true or false"

    clicked_at = _clicked_at(payload.get("clicked_at"), errors)
    bracket = _bracket_fields(payload, errors)
    project_id = _project_id(payload.get("project_id"), errors, name="project_id")
    params = payload.get("params")
    if params is not None:
        project_id, mode = _merge_params(params, project_id=project_id, mode=mode, errors=errors)

    if errors:
        first = next(iter(errors.items()))
        raise OrderValidationError(f"{first[0]}: {first[1]}", errors=errors)
    assert quantity is not None
    return CleanOrder(
        symbol=symbol,
        side=str(side),
        quantity=quantity,
        order_type=str(order_type),
        limit_price=limit_price,
        client_order_id=client_order_id,
        project_id=project_id,
        mode=mode,
        confirm=bool(confirm),
        stop_price=stop_price,
        trailing_amount=trailing_amount,
        trailing_as_percent=trailing_as_percent,
        trigger_price=trigger_price,
        clicked_at=clicked_at,
        time_in_force=tif.time_in_force,
        good_till_date=tif.good_till_date,
        outside_rth=tif.outside_rth,
        **bracket,
    )


def _trailing(
    payload: dict[str, Any], *, order_type: Any, errors: dict[str, str]
) -> tuple[Decimal | None, bool]:
    """A trailing stop's (amount, as percent): required on TRAIL, refused elsewhere; a percent in (0, 100)."""
    raw_amount = payload.get("trailing_amount")
    as_percent = payload.get("trailing_as_percent", False)
    if as_percent in (None, ""):
        as_percent = False
    if not isinstance(as_percent, bool):
        errors["trailing_as_percent"] = "must be true or false"
        as_percent = False
    if order_type not in TRAILING_TYPES:
        if raw_amount not in (None, ""):
            errors["trailing_amount"] = "only a trailing stop has a trailing amount"
        if as_percent:
            errors["trailing_as_percent"] = "only a trailing stop trails by a percent"
        return None, False
    if raw_amount in (None, ""):
        errors["trailing_amount"] = "required for a trailing stop"
        return None, as_percent
    amount = _clean_price(raw_amount, field_name="trailing_amount", errors=errors)
    if amount is not None and as_percent and amount >= MAX_TRAILING_PERCENT:
        # A sell stop at price * (1 - 100 %) is zero (Common/Orders/TrailingStopOrder.cs:184-189@24863901).
        errors["trailing_amount"] = f"a trailing percent must be below {MAX_TRAILING_PERCENT}"
        amount = None
    return amount, as_percent


def _clicked_at(value: Any, errors: dict[str, str]) -> datetime | None:
    """The client's click time: an ISO-8601 time with its zone, or milliseconds since the epoch (the page's)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e14:
        moment = datetime.fromtimestamp(value / 1000, tz=UTC)
    elif isinstance(value, str) and value.isascii() and len(value) <= 40:
        try:
            moment = (
                datetime.fromisoformat(value)
                if not value.isdigit()
                else datetime.fromtimestamp(int(value) / 1000, tz=UTC)
            )
        except (ValueError, OverflowError):
            errors["clicked_at"] = "must be an ISO-8601 time with its zone or milliseconds since the epoch"
            return None
    else:
        errors["clicked_at"] = "must be an ISO-8601 time with its zone or milliseconds since the epoch"
        return None
    if moment.tzinfo is None:
        errors["clicked_at"] = "must name its time zone"
        return None
    return moment


# US equities trade in whole shares: LEAN's Data/symbol-properties/symbol-properties-database.csv line 204,
# `usa,[*],equity,,USD,1,0.01,1`, gives every usa equity lot_size 1 and minimum_price_variation 0.01
# (QuantConnect/Lean 24863901deffa9ec7985e21ef8fbdb0258efb9e4).
EQUITY_LOT_SIZE = Decimal(1)
# Reg NMS rule 612, as LEAN's Common/Securities/EquityPriceVariationModel.cs (same commit) applies it:
# 0.0001 when the reference price is below $1, else the database's 0.01.
TICK_AT_OR_ABOVE_ONE = Decimal("0.01")
TICK_BELOW_ONE = Decimal("0.0001")
WHOLE_SHARES_REASON = "must be whole shares (lot size 1)"


def equity_tick(price: Decimal) -> Decimal:
    """The minimum price variation of a US equity at this price."""
    return TICK_AT_OR_ABOVE_ONE if price >= 1 else TICK_BELOW_ONE


def order_lots_and_ticks_check(clean: CleanOrder) -> None:
    """Refuse a fractional quantity or a price off the tick, every bad field at once (closes skip this)."""
    errors: dict[str, str] = {}
    if clean.quantity % EQUITY_LOT_SIZE != 0:
        errors["quantity"] = WHOLE_SHARES_REASON
    # IB rounds a trailing amount in price like a price (NormalizePriceToBrokerage: IB plugin
    # InteractiveBrokersBrokerage.cs:3060@d154917); a percent is no price.
    trailing = None if clean.trailing_as_percent else clean.trailing_amount
    for name, price in (
        ("limit_price", clean.limit_price),
        ("stop_price", clean.stop_price),
        ("trigger_price", clean.trigger_price),
        ("trailing_amount", trailing),
    ):
        if price is not None and price % equity_tick(price) != 0:
            errors[name] = f"must be on the tick of {equity_tick(price)}"
    if errors:
        first = next(iter(errors.items()))
        raise OrderValidationError(f"{first[0]}: {first[1]}", errors=errors)
