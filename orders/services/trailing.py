"""A trailing stop's current stop, as its engine reports it: the one rule the ledger applies."""

from __future__ import annotations

from decimal import Decimal

from orders.models import Side


def trailing_stop_ratchet(*, side: str, current: Decimal | None, reported: Decimal) -> Decimal:
    """The stop after a reported one: a sell's only rises, a buy's only falls (the stop trails the market one way:
    Common/Orders/TrailingStopOrder.cs:155-171@24863901), so the stored stop is the same in any arrival order."""
    if current is None:
        return reported
    return max(current, reported) if side == Side.SELL else min(current, reported)
