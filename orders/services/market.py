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


# mode -> the buying power (margin remaining) of the mode's IB account when its snapshot is fresh, else None.
BuyingPowerSource = Callable[[str], Decimal | None]

_buying_power: BuyingPowerSource | None = None


def buying_power_source_register(source: BuyingPowerSource | None) -> None:
    """Set the function that answers the account's fresh buying power (execution's AppConfig.ready)."""
    global _buying_power
    _buying_power = source


def buying_power_fresh(*, mode: str) -> Decimal | None:
    """The fresh buying power of the mode's IB account, or None (no source, no snapshot, or a stale one)."""
    if _buying_power is None:
        return None
    return _buying_power(mode)
