"""How numbers and times are written: for machines (decimal_text) and, by one rule, for traders and reviewers.

The page's template filters (tradedesk/web/templatetags/desk.py) and the admin call these functions only.
Prices: 2 to 4 decimals, as many as the price has (never rounding an order's 1.2345 to 1.23); quantities: whole numbers without
decimals, fractions only when there are any; money: 2 decimals. Thousands grouped with commas whatever the
language (traders read 1,250.50), negatives with a true minus sign, "—" for no value."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import Any

from django.utils import timezone

NONE = "—"
MINUS = "−"
PRICE_MAX_PLACES = 4
# Admin and tooltips: full date and time with seconds; the zone is the one activated for the request.
DATETIME_FORMAT = "Y-m-d H:i:s T"


def decimal_text(value: Decimal) -> str:
    """A Decimal in plain notation without trailing zeros: 2, 0.5, 1250 (never 1.25E+3)."""
    return format(value.normalize(), "f")


def as_decimal(value: Any) -> Decimal | None:
    """A finite Decimal from a Decimal, int, float or numeric text; None for anything else."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _grouped(number: Decimal, places: int) -> str:
    """`places` decimals (half-even), commas between thousands, a minus sign for negatives."""
    # Enough precision for any stored value: quantize would raise on a huge one under the default 28 digits.
    with localcontext() as context:
        context.prec = max(28, number.adjusted() + places + 2)
        rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
        text = format(abs(rounded), f",.{places}f")
    return f"{MINUS}{text}" if rounded < 0 else text


def _places_used(number: Decimal) -> int:
    with localcontext() as context:  # normalize() rounds to the context's precision: keep every digit
        context.prec = max(28, len(number.as_tuple().digits))
        exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def price_text(value: Any) -> str:
    """A price with 2 to 4 decimals, never rounding away a digit an order or fill has: 189.20, 1.2345, 0.1234.

    Two decimals at least (189.20, not 189.2), more only when the price has them, rounded past the fourth
    (an average cost of 189.213333 reads 189.2133): a limit price of 1.2345 must never read as 1.23."""
    number = as_decimal(value)
    if number is None:
        return NONE
    with localcontext() as context:
        context.prec = max(28, number.adjusted() + PRICE_MAX_PLACES + 2)
        rounded = number.quantize(Decimal(1).scaleb(-PRICE_MAX_PLACES), rounding=ROUND_HALF_EVEN)
    return _grouped(rounded, max(2, _places_used(rounded)))


def qty_text(value: Any) -> str:
    """A quantity: 1,250 or −5 for whole numbers, 0.5 or 2.25 only when it has a fraction."""
    number = as_decimal(value)
    if number is None:
        return NONE
    return _grouped(number, _places_used(number))


def amount_text(value: Any) -> str:
    """An amount of money with 2 decimals, a sign only when negative: 1,892.00, −410.45."""
    number = as_decimal(value)
    return NONE if number is None else _grouped(number, 2)


def money_text(value: Any) -> str:
    """A signed amount of money (P&L) with 2 decimals: +12.40, −3.00, 0.00."""
    text = amount_text(value)
    number = as_decimal(value)
    if number is None or text in (NONE, "0.00") or text.startswith(MINUS):
        return text
    return f"+{text}"


def sign_name(value: Any) -> str:
    """up / down / flat: the class that colours a signed number (P&L, a price move, a distance from the market)
    in the trader's convention (static/css/colours.css); the text keeps its own + / − sign."""
    number = as_decimal(value)
    if number is None or number == 0:
        return "flat"
    return "up" if number > 0 else "down"


def approx_text(value: Any) -> str:
    """An order value at a glance: whole units from 100 up (3,805), cents below (95.50)."""
    number = as_decimal(value)
    if number is None:
        return NONE
    return _grouped(number, 0 if abs(number) >= 100 else 2)


def percent_text(value: Any) -> str:
    """A signed percentage with one decimal at most: +12%, −3.5%, 0%."""
    number = as_decimal(value)
    if number is None:
        return NONE
    text = f"{abs(number):.1f}".removesuffix(".0")
    sign = "+" if number > 0 else MINUS if number < 0 else ""
    return f"{sign}{text}%" if text != "0" else "0%"


def multiple_text(value: Any) -> str:
    """A price multiple: 10, 2.5, 0.05 (one decimal from 0.1 up, two below, none from 10 up); never negative."""
    number = as_decimal(value)
    if number is None or number < 0:
        return NONE
    if number >= 10:
        return _grouped(number, 0)
    return f"{number:.2f}" if number < Decimal("0.1") else f"{number:.1f}".removesuffix(".0")


def aware_datetime(value: Any) -> datetime | None:
    """An aware datetime from a datetime or ISO-8601 text (the engine's state files); None otherwise."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        return None
    return value


def time_parts(
    value: datetime, *, seconds_fraction: bool = False, with_date: bool = False
) -> tuple[str, str, str, str]:
    """(local time, zone abbreviation, ISO-8601 UTC, "Y-m-d H:i:s UTC"); local: the request's zone (middleware)."""
    local = timezone.localtime(value)
    utc = value.astimezone(UTC)
    clock = local.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")
    utc_text = utc.strftime("%Y-%m-%d %H:%M:%S")
    if seconds_fraction:
        clock += f".{local.microsecond // 1000:03d}"
        utc_text += f".{utc.microsecond // 1000:03d}"
    iso = utc.isoformat().replace("+00:00", "Z")
    return clock, local.tzname() or "", iso, f"{utc_text} UTC"


def datetime_text(value: datetime | None) -> str:
    """A full local date and time with seconds and the zone: 2026-11-27 14:32:05 EST ("—" for none)."""
    if value is None:
        return NONE
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or ''}".rstrip()


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(item) for item in value) or NONE
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if value is None or value == "":
        return NONE
    return str(value)


def audit_detail_text(action: str, detail: Any) -> str:
    """An audit entry's detail as a reviewer reads it: "ACTIVE → HALTED", "note: …; reviewer: lead"."""
    if not isinstance(detail, dict) or not detail:
        return "" if not detail else _value_text(detail)
    rest = dict(detail)
    parts = []
    changed = {"trading_state": "state", "mode_switch": "mode"}.get(action)
    if changed and changed in rest:
        new = rest.pop(changed)
        old = rest.pop("previous", None)
        parts.append(
            f"{_value_text(old)} → {_value_text(new)}" if old is not None else f"→ {_value_text(new)}"
        )
    # Keys in one order whatever the database kept (PostgreSQL's jsonb reorders them).
    parts.extend(f"{key}: {_value_text(rest[key])}" for key in sorted(rest))
    return "; ".join(parts)
