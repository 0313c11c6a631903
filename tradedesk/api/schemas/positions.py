"""API shapes of positions, a project's totals and the orders that close them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from tradedesk.api.schemas.fields import Dec, IdIn, StrictIn
from tradedesk.api.schemas.orders import OrderOut


class PositionOut(Schema):
    """A position in the project's ledger, valued at the engine's last price (else its last fill)."""

    project_id: int
    mode: str
    symbol: str
    quantity: Dec
    avg_cost: Dec
    realized_pnl: Dec
    last_fill_price: Dec | None
    unrealized_pnl: Dec | None
    last_fill_at: datetime | None
    last_price: Dec | None = None
    market_value: Dec | None = None
    price_time: datetime | None = None
    price_stale: bool = Field(True, description="the price is older than TRADEDESK_PRICE_STALE_SECONDS")
    price_source: str = Field("", description="market (the engine's prices), last_fill, or empty")
    day_pnl: Dec | None = Field(
        None,
        description="since the session began (09:30 New York) against the previous close; null if unknown",
    )

    @staticmethod
    def resolve_unrealized_pnl(obj: Any) -> Decimal | None:
        """At the valuation's price when the position was valued, else at the last fill."""
        valuation = getattr(obj, "valuation", None)
        if valuation is not None:
            return valuation.unrealized_pnl  # type: ignore[no-any-return]
        return obj.unrealized_pnl  # type: ignore[no-any-return]

    @staticmethod
    def resolve_last_price(obj: Any) -> Decimal | None:
        """The price the position is valued at."""
        valuation = getattr(obj, "valuation", None)
        return valuation.last_price if valuation is not None else None

    @staticmethod
    def resolve_market_value(obj: Any) -> Decimal | None:
        """quantity * last_price."""
        valuation = getattr(obj, "valuation", None)
        return valuation.market_value if valuation is not None else None

    @staticmethod
    def resolve_price_time(obj: Any) -> datetime | None:
        """When the price was taken."""
        valuation = getattr(obj, "valuation", None)
        return valuation.price_time if valuation is not None else None

    @staticmethod
    def resolve_price_stale(obj: Any) -> bool:
        """True when the price is too old (or there is none)."""
        valuation = getattr(obj, "valuation", None)
        return valuation.stale if valuation is not None else True

    @staticmethod
    def resolve_price_source(obj: Any) -> str:
        """market or last_fill."""
        valuation = getattr(obj, "valuation", None)
        return valuation.source if valuation is not None else ""

    @staticmethod
    def resolve_day_pnl(obj: Any) -> Decimal | None:
        """Set by execution.selectors.project_day_pnl."""
        return getattr(obj, "day_pnl", None)


class PositionTotalsOut(Schema):
    """A project's book in its mode: open positions' market value and unrealised P&L (over the priced ones),
    and the realised P&L of every position, flat ones included."""

    project_id: int
    mode: str
    market_value: Dec
    unrealized_pnl: Dec
    realized_pnl: Dec
    open_positions: int
    unpriced_positions: int = Field(..., description="open positions with no price, left out of the sums")
    day_pnl: Dec = Field(..., description="day P&L of open positions and of symbols traded flat today")
    day_pnl_unknown: int = Field(..., description="symbols left out of day_pnl (no previous close or price)")


class CloseIn(StrictIn):
    """Close some positions of a project."""

    project_id: IdIn
    symbols: list[str] = Field(..., min_length=1, max_length=500)


class LiquidateIn(StrictIn):
    """Close every position of a project."""

    project_id: IdIn


class CloseOut(Schema):
    """The closing orders created (none for flat positions or ones already being closed)."""

    orders: list[OrderOut]
    skipped: dict[str, str]
    warnings: dict[str, str] = Field(default_factory=dict, description="e.g. an unknown order may be live")
