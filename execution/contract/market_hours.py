"""Market orders outside regular trading hours: one rule for the intent path and the command path.

What LEAN on IB does, read in QuantConnect/Lean at 24863901deffa9ec7985e21ef8fbdb0258efb9e4:

- `MarketOrder` turns an equity order sent while the exchange is closed into a MarketOnOpen order
  (Algorithm/QCAlgorithm.Trading.cs 245-258); an `OrderCommand` submits the order type it names, so a plain
  Market order (Common/Commands/OrderCommand.cs `Run`).
- IB accepts MarketOnOpen only from the close until two minutes before the open
  (Common/Brokerages/InteractiveBrokersBrokerageModel.cs 352-355, checked by
  Common/Brokerages/BrokerageExtensions.cs `ValidateMarketOnOpenOrder` 128-170 with `TimeOnly.IsBetween`,
  which wraps midnight); a day without a regular session allows it all day.

- A MarketOnClose order must be placed at least `MarketOnCloseOrder.SubmissionTimeBuffer` (15.5 minutes,
  Common/Orders/MarketOnCloseOrder.cs:35) before the next close, else LEAN answers MarketOnCloseOrderTooLate
  (Algorithm/QCAlgorithm.Trading.cs:415-428, 1215-1232); after the close the next close is the next
  session's. IB takes MOC only for Equity, Future and Cfd (InteractiveBrokersBrokerageModel.cs:166-170): the
  desk trades US equities only. The close is the US-equity session's whatever the simulator's hours: an
  auction happens at the close, even where market and limit orders trade round the clock.

tradedesk's rule, the same on both paths: MKT while the market is open stays Market; while it is closed it
becomes MarketOnOpen when IB accepts that, else it is refused with a message saying why. The LEAN algorithm
(loaded by LEAN on its own, so it cannot import this module) holds the same rule as `market_order_route`;
tests/execution/contract/test_market_hours.py runs one table against both copies.

Orders that rest (everything but MKT) follow their time in force and outside-RTH flag, as IB works them:
a DAY order ends at the day's close (the after-hours close, 20:00, when it may trade outside regular hours),
a GTD order at the regular close of its date or the next weekday's (InteractiveBrokersBrokerage.cs:2998-3020
@d154917: `GetNextMarketClose(Expiry.Date, false)`), GTC never; an outside-RTH order may trigger and fill in
the extended session (04:00-20:00 New York), any other only in the regular one. The simulator applies these
(`order_may_fill`, `order_expiry`); on LEAN, IB does.

Standard library only: the simulator process imports it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MARKET = "Market"
MARKET_ON_OPEN = "MarketOnOpen"
REFUSED = "Refused"
MOO_CUTOFF = timedelta(minutes=2)
US_EQUITY_TZ = ZoneInfo("America/New_York")
# Regular session of US equities in New York time, Monday to Friday (exchange holidays are not known here).
US_EQUITY_SESSION = (timedelta(hours=9, minutes=30), timedelta(hours=16))
# Pre-market from 04:00 to the open and after-hours from the close to 20:00 New York (IB's extended session).
US_EQUITY_EXTENDED = (timedelta(hours=4), timedelta(hours=20))
HOURS_CHOICES = ("always", "us-equity")
MOO_MESSAGE = "MarketOnOpen: sent while the market is closed; it fills at the next open"


def _clock_text(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def market_order_route(
    *, exchange_open: bool, local_time: timedelta, session: tuple[timedelta, timedelta] | None
) -> tuple[str, str]:
    """(Market | MarketOnOpen | Refused, message) for a market order at `local_time` (since local midnight).

    `session` is the day's regular session (open, close) in exchange time, None on a day without one.
    """
    if exchange_open:
        return MARKET, ""
    if session is not None:
        market_open, market_close = session
        window_end = market_open - MOO_CUTOFF
        # IB's window is [close, open - 2 min), wrapping midnight: outside it MarketOnOpen is rejected.
        if window_end <= local_time < market_close:
            return (
                REFUSED,
                f"refused: market order outside regular hours; IB accepts it as MarketOnOpen only until "
                f"{_clock_text(window_end)} exchange time (two minutes before the {_clock_text(market_open)} "
                f"open). Place it after the open or as a limit order.",
            )
    return MARKET_ON_OPEN, MOO_MESSAGE


# LEAN's MarketOnCloseOrder.DefaultSubmissionTimeBuffer (Common/Orders/MarketOnCloseOrder.cs:35@24863901).
MOC_BUFFER = timedelta(minutes=15, seconds=30)


def next_close(moment: datetime) -> datetime:
    """The first regular-session close (16:00 New York on a weekday) after `moment`, in UTC (LEAN's
    Exchange.Hours.GetNextMarketClose; exchange holidays are not known here)."""
    local = moment.astimezone(US_EQUITY_TZ)
    day = local.date()
    while True:
        close = datetime.combine(day, time(), tzinfo=US_EQUITY_TZ) + US_EQUITY_SESSION[1]
        if day.weekday() < 5 and close > local:
            return close.astimezone(UTC)
        day += timedelta(days=1)


def moc_refusal(*, now: datetime) -> str:
    """Why a market on close placed at `now` is refused (inside the buffer before the close), else ""."""
    close = next_close(now)
    if now <= close - MOC_BUFFER:
        return ""
    cutoff = (close - MOC_BUFFER).astimezone(US_EQUITY_TZ)
    return (
        f"refused: a market on close order must be placed at least 15.5 minutes before the close "
        f"(by {cutoff:%H:%M:%S} New York time today, LEAN's MarketOnCloseOrder buffer); place it after the "
        f"close for the next session, or send a market order."
    )


def us_equity_state(now: datetime) -> tuple[bool, timedelta, tuple[timedelta, timedelta] | None]:
    """(exchange open, New York time of day, today's regular session or None) for US equities at `now`."""
    local = now.astimezone(US_EQUITY_TZ)
    time_of_day = timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
    if local.weekday() >= 5:
        return False, time_of_day, None
    market_open, market_close = US_EQUITY_SESSION
    return market_open <= time_of_day < market_close, time_of_day, US_EQUITY_SESSION


def route_at(*, now: datetime, hours: str) -> tuple[str, str]:
    """The rule for a market order at `now` under `hours` ("always": the market never closes)."""
    if hours == "always":
        return MARKET, ""
    exchange_open, time_of_day, session = us_equity_state(now)
    return market_order_route(exchange_open=exchange_open, local_time=time_of_day, session=session)


def exchange_open_at(*, now: datetime, hours: str) -> bool:
    """Whether the market is open at `now` under `hours`."""
    return hours == "always" or us_equity_state(now)[0]


def clock(fixed: str = "") -> datetime:
    """`fixed` (ISO 8601, Z allowed; naive is UTC) as an aware datetime, or the current UTC time when empty."""
    if not fixed:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def session_day(now: datetime) -> date:
    """The US-equity trading day `now` belongs to: it starts at the regular session's open (09:30 New York);
    before the open, and on a weekend, it is still the last weekday's. Day P&L resets when it changes."""
    local = now.astimezone(US_EQUITY_TZ)
    time_of_day = timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
    day = local.date() if time_of_day >= US_EQUITY_SESSION[0] else local.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def session_start(day: date) -> datetime:
    """When the trading day `day` starts, in UTC (its 09:30 New York open)."""
    local = datetime.combine(day, time(), tzinfo=US_EQUITY_TZ) + US_EQUITY_SESSION[0]
    return local.astimezone(UTC)


def order_may_fill(*, now: datetime, hours: str, outside_rth: bool) -> bool:
    """Whether a resting order may trigger or fill at `now`: the regular session, or the extended one when
    it may trade outside regular hours ("always": the market never closes)."""
    if hours == "always":
        return True
    local = now.astimezone(US_EQUITY_TZ)
    if local.weekday() >= 5:
        return False
    time_of_day = timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
    start, end = US_EQUITY_EXTENDED if outside_rth else US_EQUITY_SESSION
    return start <= time_of_day < end


def _close_on_or_after(day: date, close: timedelta) -> datetime:
    """`close` New York time of `day`, or of the next weekday when `day` is a weekend day."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=US_EQUITY_TZ) + close


def good_till_date_expiry(day: date) -> datetime:
    """When a GTD order of `day` expires: the regular close (16:00 New York) of that day or the next weekday
    (orders/services/time_in_force.py holds the same rule for the API's refusal of a past date)."""
    return _close_on_or_after(day, US_EQUITY_SESSION[1])


def order_expiry(
    *, placed_at: datetime, time_in_force: str, good_till_date: date | None, outside_rth: bool, hours: str
) -> datetime | None:
    """When a resting order placed at `placed_at` expires, None for never ("always" has no close; GTC)."""
    if hours == "always" or time_in_force == "GTC":
        return None
    if time_in_force == "GTD" and good_till_date is not None:
        return good_till_date_expiry(good_till_date)
    close = US_EQUITY_EXTENDED[1] if outside_rth else US_EQUITY_SESSION[1]
    local = placed_at.astimezone(US_EQUITY_TZ)
    today_close = _close_on_or_after(local.date(), close)
    if today_close > placed_at:
        return today_close
    return _close_on_or_after(local.date() + timedelta(days=1), close)


def expiry_message(*, time_in_force: str, outside_rth: bool) -> str:
    """The reason an engine gives when it cancels an order at its expiry."""
    if time_in_force == "GTD":
        return "GTD order expired at the close of its date (16:00 New York)"
    close = "after-hours close (20:00" if outside_rth else "close (16:00"
    return f"DAY order canceled at the {close} New York)"
