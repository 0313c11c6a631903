"""Template helpers of the live-trade page: number formats, timeline words and fresh idempotency keys."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html

from orders.doors import client_order_id_new
from tradedesk.display import (
    NONE,
    amount_text,
    approx_text,
    aware_datetime,
    money_text,
    multiple_text,
    percent_text,
    price_text,
    qty_text,
    sign_name,
    time_parts,
)
from tradedesk.web.reasons import translate_message, translate_status

register = template.Library()


@register.filter
def qty(value: Any) -> str:
    """A quantity: 1,250, or 0.5 only when it has a fraction (tradedesk.display.qty_text)."""
    return qty_text(value)


@register.filter
def price(value: Any) -> str:
    """A price: 2 to 4 decimals, as many as it has (tradedesk.display.price_text)."""
    return price_text(value)


@register.filter
def money(value: Any) -> str:
    """A signed amount with 2 decimals: +12.40, −3.00 (tradedesk.display.money_text)."""
    return money_text(value)


@register.filter
def amount(value: Any) -> str:
    """An amount with 2 decimals, a sign only when negative (tradedesk.display.amount_text)."""
    return amount_text(value)


@register.filter
def timestamp(value: Any, variant: str = "") -> str:
    """<time datetime="…Z" title="… UTC">14:32:05 EST</time> in the request's zone; variants ms, date, text,
    and clock (no zone: for table columns whose header names the zone once)."""
    moment = aware_datetime(value)
    if moment is None:
        return NONE
    clock, zone, iso, utc = time_parts(moment, seconds_fraction=variant == "ms", with_date=variant == "date")
    if variant == "text":
        return f"{clock} {zone} ({utc})"
    if variant == "clock":
        # The column's header names the zone as it is now; a time from the other side of a DST change
        # (EST under an EDT header) says its own.
        if zone != timezone.localtime().tzname():
            clock = f"{clock} {zone}"
        return format_html('<time datetime="{}" title="{}">{}</time>', iso, utc, clock)
    return format_html('<time datetime="{}" title="{}">{} {}</time>', iso, utc, clock, zone)


@register.filter
def approx(value: Any) -> str:
    """An order value at a glance: 3,805, 95.50 (tradedesk.display.approx_text)."""
    return approx_text(value)


@register.filter
def signed_pct(value: Any) -> str:
    """A signed percentage: +12%, −3.5% (tradedesk.display.percent_text)."""
    return percent_text(value)


@register.filter
def multiple(value: Any) -> str:
    """A price multiple: 10, 2.5 (tradedesk.display.multiple_text)."""
    return multiple_text(value)


@register.filter
def sign_class(value: Any) -> str:
    """up / down / flat, for colouring a signed number (tradedesk.display.sign_name)."""
    return sign_name(value)


@register.filter
def toned(text: Any, signed: Any) -> str:
    """`text` in a span coloured up / down by the sign of `signed` (a distance from the market, its multiple)."""
    return format_html('<span class="{}">{}</span>', sign_name(signed), text)


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
