"""Market prices for the domain: the engine adapter registers where fresh prices come from (orders reads no files)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

# (mode, symbol) -> the engine's last price of the symbol when it is fresh, else None.
FreshPriceSource = Callable[[str, str], Decimal | None]

_source: FreshPriceSource | None = None


def market_price_source_register(source: FreshPriceSource | None) -> None:
    """Set the function that answers fresh market prices (execution's AppConfig.ready registers it)."""
    global _source
    _source = source


def market_price_fresh(*, mode: str, symbol: str) -> Decimal | None:
    """The fresh market price of a symbol in a mode, or None (no source, no price, or a stale one)."""
    if _source is None:
        return None
    return _source(mode, symbol)
