"""Day P&L: what each position made since the current US-equity session began (09:30 New York, the day
market_hours.session_day gives), against the previous close the engine's prices carry, plus today's fills.

For one symbol: quantity now x last - quantity at the session's start x previous close - the net cost of
today's fills (buys paid, sales received; fees left out, as the broker's day P&L does). Nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from execution.contract import market_hours
from execution.ingest.prices import PriceSnapshot
from orders import selectors
from orders.models import Position, Project, Side


@dataclass(frozen=True)
class DayPnl:
    """The project's day P&L: per symbol (None where a needed price is unknown) and the total of the known."""

    session_start: datetime
    by_symbol: dict[str, Decimal | None]
    total: Decimal
    unknown: int  # symbols left out of the total for want of a last price or previous close


def symbol_day_pnl(
    *,
    quantity: Decimal,
    last: Decimal | None,
    previous_close: Decimal | None,
    fills: list[tuple[Decimal, Decimal]],
) -> Decimal | None:
    """One symbol's day P&L from its quantity now, its prices and today's signed fills (quantity, price)."""
    bought = sum((q for q, _ in fills), Decimal(0))
    cost = sum((q * p for q, p in fills), Decimal(0))
    at_start = quantity - bought
    if (quantity != 0 and last is None) or (at_start != 0 and previous_close is None):
        return None
    now_value = quantity * last if last is not None else Decimal(0)
    start_value = at_start * previous_close if previous_close is not None else Decimal(0)
    return now_value - start_value - cost


def project_day_pnl(
    *, project: Project, positions: list[Position], snapshot: PriceSnapshot | None, now: datetime
) -> DayPnl:
    """Day P&L of the project's open positions (valued by positions_value: their `valuation`) and of the
    symbols it traded today and is flat in; attaches `day_pnl` to each open position."""
    start = market_hours.session_start(market_hours.session_day(now))
    today: dict[str, list[tuple[Decimal, Decimal]]] = {}
    for symbol, side, quantity, price in selectors.fills_since(project=project, since=start):
        today.setdefault(symbol, []).append((quantity if side == Side.BUY else -quantity, price))
    held = {position.symbol: position for position in positions}
    by_symbol: dict[str, Decimal | None] = {}
    for symbol in sorted(set(held) | set(today)):
        quote = snapshot.quotes.get(symbol) if snapshot is not None else None
        position = held.get(symbol)
        valuation = getattr(position, "valuation", None)
        last = valuation.last_price if valuation is not None else (quote.last if quote else None)
        by_symbol[symbol] = symbol_day_pnl(
            quantity=position.quantity if position is not None else Decimal(0),
            last=last,
            previous_close=quote.previous_close if quote is not None else None,
            fills=today.get(symbol, []),
        )
        if position is not None:
            position.day_pnl = by_symbol[symbol]  # type: ignore[attr-defined]
    known = [value for value in by_symbol.values() if value is not None]
    return DayPnl(
        session_start=start,
        by_symbol=by_symbol,
        total=sum(known, Decimal(0)),
        unknown=len(by_symbol) - len(known),
    )
