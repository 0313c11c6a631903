"""A market order's route while the exchange is closed: the copy of execution/contract/market_hours.py's rule."""

from __future__ import annotations

from datetime import timedelta

# IB accepts MarketOnOpen only until two minutes before the open (InteractiveBrokersBrokerageModel.cs 352-355).
MOO_CUTOFF = timedelta(minutes=2)
MARKET, MARKET_ON_OPEN, REFUSED = "Market", "MarketOnOpen", "Refused"
MOO_MESSAGE = "MarketOnOpen: sent while the market is closed; it fills at the next open"


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
