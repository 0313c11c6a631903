"""Template helpers of the live-trade page: number formats, timeline words and fresh idempotency keys."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import numberformat

from orders.services import client_order_id_new
from tradedesk.web.forms import translate_message, translate_status

register = template.Library()


def _fmt(number: Decimal, places: int) -> str:
    """Fixed decimals, thousands grouped with commas, whatever the language (traders read 1,250.50)."""
    return numberformat.format(
        number, ".", decimal_pos=places, grouping=3, thousand_sep=",", force_grouping=True
    )


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def qty(value: Any) -> str:
    """A quantity without trailing zeros, grouped: 1,250 or 0.5."""
    number = _decimal(value)
    if number is None:
        return "—"
    normalized = number.normalize()
    places = max(0, -normalized.as_tuple().exponent)  # type: ignore[operator]
    return _fmt(normalized, places)


@register.filter
def price(value: Any, places: int = 2) -> str:
    """A price with at least `places` and at most 4 decimals: 189.20, 189.2133."""
    number = _decimal(value)
    if number is None:
        return "—"
    rounded = number.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN).normalize()
    shown = max(int(places), -rounded.as_tuple().exponent)  # type: ignore[operator]
    return _fmt(rounded, shown)


@register.filter
def money(value: Any) -> str:
    """An amount with a sign and 2 decimals: +12.40, -3.00."""
    number = _decimal(value)
    if number is None:
        return "—"
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    text = _fmt(abs(rounded), 2)
    if rounded > 0:
        return f"+{text}"
    if rounded < 0:
        return f"−{text}"
    return text


@register.filter
def amount(value: Any) -> str:
    """An amount with 2 decimals, a sign only when negative: 1,892.00, −410.45."""
    number = _decimal(value)
    if number is None:
        return "—"
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return ("−" if rounded < 0 else "") + _fmt(abs(rounded), 2)


@register.filter
def approx(value: Any) -> str:
    """An order value at a glance: whole units from 100 up (3,805), cents below (95.50)."""
    number = _decimal(value)
    if number is None:
        return "—"
    places = 0 if abs(number) >= 100 else 2
    return _fmt(number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN), places)


@register.filter
def signed_pct(value: Any) -> str:
    """A signed percentage with one decimal at most: +12%, −3.5%."""
    number = _decimal(value)
    if number is None:
        return "—"
    text = f"{abs(number):.1f}".removesuffix(".0")
    return ("+" if number > 0 else "−" if number < 0 else "") + text + "%"


@register.filter
def multiple(value: Any) -> str:
    """A price multiple: 10, 2.5, 0.1 (one significant decimal below 10)."""
    number = _decimal(value)
    if number is None:
        return "—"
    if number >= 10:
        return f"{number:.0f}"
    text = f"{number:.2f}" if number < Decimal("0.1") else f"{number:.1f}"
    return text.removesuffix(".0")


@register.filter
def sign_class(value: Any) -> str:
    """up / down / flat, for colouring a signed number."""
    number = _decimal(value)
    if number is None or number == 0:
        return "flat"
    return "up" if number > 0 else "down"


@register.simple_tag
def new_key(project: Any, user: Any) -> str:
    """A fresh client_order_id for one form or button."""
    return client_order_id_new(project_id=getattr(project, "pk", project), user_id=getattr(user, "pk", None))


@register.filter
def event_status(value: Any) -> str:
    """A timeline status in the page's language."""
    return translate_status(str(value or ""))


@register.filter
def event_message(value: Any) -> str:
    """A timeline message (or an order's source) in the page's language."""
    return translate_message(str(value or ""))
