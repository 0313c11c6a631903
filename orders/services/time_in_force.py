"""Time in force and outside regular hours of a new order: what IB accepts through LEAN, refused otherwise.

Read in QuantConnect/Lean@24863901 and Lean.Brokerages.InteractiveBrokers@d154917:
- IB takes GoodTilCanceled, Day and GoodTilDate (Common/Brokerages/InteractiveBrokersBrokerageModel.cs:64-71,
  checked at :208-215); LEAN's own default is GoodTilCanceled (Common/Orders/OrderProperties.cs:40-43), so
  tradedesk always names one (DAY unless asked).
- A GoodTilDate order expires at the market close of its date (or the next session's close when the date has
  none: `GetNextMarketClose(Expiry.Date, false)`, InteractiveBrokersBrokerage.cs:2998-3020).
- Outside regular trading hours is sent only for Limit, LimitIfTouched, StopMarket, StopLimit and TrailingStop
  (InteractiveBrokersBrokerage.cs:3583-3598); anything else would silently trade in regular hours only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from orders.models import OUTSIDE_RTH_TYPES, OrderType, TimeInForce

# US equities' exchange time and regular close; execution/contract/market_hours.py holds the same rule for the
# engines (which cannot import the domain): tests/orders/services/test_time_in_force.py holds both to one table.
EXCHANGE_TZ = ZoneInfo("America/New_York")
REGULAR_CLOSE = time(16, 0)


@dataclass(frozen=True)
class CleanTimeInForce:
    """The validated time in force of an order."""

    time_in_force: str = TimeInForce.DAY
    good_till_date: date | None = None
    outside_rth: bool = False


def good_till_date_expiry(day: date) -> datetime:
    """When a GTD order of `day` expires: 16:00 New York of that day, or of the next weekday (UTC-aware)."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, REGULAR_CLOSE, tzinfo=EXCHANGE_TZ)


def _date_input(raw: Any) -> date | None:
    """A calendar date from JSON text (YYYY-MM-DD) or a date object, else None."""
    if isinstance(raw, datetime):
        return None
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and raw.isascii() and len(raw.strip()) == 10:
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            return None
    return None


def outside_rth_types_text() -> str:
    """The order types of this desk that may work outside regular hours, as a list for messages."""
    return ", ".join(value for value in OrderType.values if value in OUTSIDE_RTH_TYPES)


def clean_time_in_force(
    payload: dict[str, Any], *, order_type: Any, errors: dict[str, str], now: datetime | None = None
) -> CleanTimeInForce:
    """time_in_force (DAY default, GTC, GTD), good_till_date (GTD only, not past its close), outside_rth
    (the types IB sends it for); each bad field's reason is added to `errors`."""
    raw_tif = payload.get("time_in_force")
    tif = raw_tif.strip().upper() if isinstance(raw_tif, str) and raw_tif.isascii() else raw_tif
    if tif in (None, ""):
        tif = TimeInForce.DAY
    if tif not in TimeInForce.values:
        errors["time_in_force"] = "must be DAY, GTC or GTD"
        tif = TimeInForce.DAY

    good_till: date | None = None
    raw_date = payload.get("good_till_date")
    if tif == TimeInForce.GTD:
        if raw_date in (None, ""):
            errors["good_till_date"] = "required for a GTD order"
        else:
            good_till = _date_input(raw_date)
            moment = now or timezone.now()
            if good_till is None:
                errors["good_till_date"] = "must be a date (YYYY-MM-DD)"
            elif good_till_date_expiry(good_till) <= moment:
                errors["good_till_date"] = (
                    "must not be in the past: a GTD order expires at the close (16:00 New York) of its date"
                )
    elif raw_date not in (None, "") and "time_in_force" not in errors:
        errors["good_till_date"] = "only a GTD order has a good_till_date"

    raw_outside = payload.get("outside_rth", False)
    outside = False
    if raw_outside is None:
        raw_outside = False
    if not isinstance(raw_outside, bool):
        errors["outside_rth"] = "must be true or false"
    elif raw_outside:
        if order_type in OUTSIDE_RTH_TYPES:
            outside = True
        elif isinstance(order_type, str) and order_type in OrderType.values:
            errors["outside_rth"] = (
                f"IB does not accept outside regular hours on a {order_type} order "
                f"(only {outside_rth_types_text()})"
            )
    return CleanTimeInForce(time_in_force=str(tif), good_till_date=good_till, outside_rth=outside)
