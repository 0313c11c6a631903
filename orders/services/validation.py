"""Order payload validation: every field bound and typed before arithmetic or SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from orders.errors import OrderValidationError
from orders.models import (
    CLIENT_ORDER_ID_REGEX,
    LIMIT_PRICE_TYPES,
    PRICE_PLACES,
    QTY_PLACES,
    STOP_PRICE_TYPES,
    SYMBOL_REGEX,
    Mode,
    OrderType,
    Side,
)


def _to_decimal(value: Any, *, field_name: str, places: Decimal) -> Decimal:
    """A finite Decimal from a JSON/form value, with at most `places` decimals, or a validation error."""
    if isinstance(value, bool) or value is None:
        raise OrderValidationError(f"{field_name} must be a number", errors={field_name: "must be a number"})
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise OrderValidationError(
            f"{field_name} must be a number", errors={field_name: "must be a number"}
        ) from None
    if not number.is_finite():
        raise OrderValidationError(f"{field_name} must be finite", errors={field_name: "must be finite"})
    if abs(number) >= Decimal("1e14"):
        raise OrderValidationError(f"{field_name} is too large", errors={field_name: "is too large"})
    if number != number.quantize(places, rounding=ROUND_HALF_EVEN):
        decimals = -places.as_tuple().exponent  # type: ignore[operator]
        raise OrderValidationError(
            f"{field_name} has more than {decimals} decimal places",
            errors={field_name: f"at most {decimals} decimal places"},
        )
    return number.quantize(places)


def _clean_price(raw: Any, *, field_name: str, errors: dict[str, str]) -> Decimal | None:
    """A positive price from raw input, or None with the reason added to `errors`."""
    try:
        price = _to_decimal(raw, field_name=field_name, places=PRICE_PLACES)
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
    project_id: Any
    mode: str | None
    confirm: bool
    stop_price: Decimal | None = None


def clean_order_payload(payload: Any) -> CleanOrder:
    """Validate an order payload (API keys); every bad field is reported at once."""
    if not isinstance(payload, dict):
        raise OrderValidationError("the order must be a JSON object")
    errors: dict[str, str] = {}

    symbol = payload.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        errors["symbol"] = "required"
        symbol = ""
    else:
        symbol = symbol.strip().upper()
        if not re.fullmatch(SYMBOL_REGEX, symbol):
            errors["symbol"] = "must be 1-15 letters, digits or dots, starting with a letter"

    side = payload.get("side")
    side = side.strip().upper() if isinstance(side, str) else side
    if side not in Side.values:
        errors["side"] = "must be BUY or SELL"

    order_type = payload.get("order_type") or OrderType.MKT
    order_type = " ".join(order_type.upper().split()) if isinstance(order_type, str) else order_type
    if order_type not in OrderType.values:
        errors["order_type"] = "must be MKT, LMT, STP or STP LMT"

    quantity: Decimal | None = None
    if payload.get("quantity") in (None, ""):
        errors["quantity"] = "required"
    else:
        try:
            quantity = _to_decimal(payload["quantity"], field_name="quantity", places=QTY_PLACES)
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
    elif raw_stop not in (None, ""):
        errors["stop_price"] = "only a stop order has a stop price"

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

    project_id = payload.get("project_id")
    if project_id in ("",):
        project_id = None
    if project_id is not None and (isinstance(project_id, bool) or not str(project_id).isdigit()):
        errors["project_id"] = "must be a project id"

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
    )
