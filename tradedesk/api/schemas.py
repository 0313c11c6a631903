"""API shapes of orders, fills, events and positions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import PlainSerializer

# Decimals travel as strings without trailing zeros ("410.45"), so no precision is lost in JSON.
Dec = Annotated[Decimal, PlainSerializer(lambda d: format(d.normalize(), "f"), return_type=str)]


class OrderIn(Schema):
    """A manual order; `client_order_id` makes the request idempotent."""

    symbol: str = Field(..., max_length=32, examples=["AAPL"])
    side: str = Field(..., max_length=8, description="BUY or SELL")
    quantity: Decimal = Field(..., description="> 0")
    order_type: str = Field("MKT", max_length=8, description="MKT or LMT")
    limit_price: Decimal | None = Field(None, description="required (> 0) for LMT")
    client_order_id: str | None = Field(None, max_length=64)
    project_id: int | None = None
    mode: str | None = Field(None, max_length=8, description="paper or live; must equal the project's")
    confirm: bool = Field(False, description="place it even if the same order was placed seconds ago")


class FillOut(Schema):
    """One fill."""

    quantity: Dec
    price: Dec
    fee: Dec
    fee_currency: str
    filled_at: datetime | None
    run_id: str
    engine_order_id: int | None


class EventOut(Schema):
    """One stored engine event."""

    status: str
    outcome: str
    run_id: str
    engine_order_id: int | None
    engine_event_id: int | None
    event_time: datetime | None
    filled: Dec | None
    fill_price: Dec | None
    fee: Dec | None
    message: str


class OrderOut(Schema):
    """An order as the engine's events left it."""

    id: int
    client_order_id: str
    project_id: int
    mode: str
    symbol: str
    side: str
    quantity: Dec
    order_type: str
    limit_price: Dec | None
    status: str
    filled_quantity: Dec
    avg_fill_price: Dec | None
    fees: Dec
    ib_order_id: int | None
    last_status_ts: datetime | None
    status_message: str
    flag: str
    flag_message: str
    source: str
    params: dict[str, Any]
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_created_by(obj: Any) -> str | None:
        """The creator's username."""
        user = getattr(obj, "created_by", None)
        return user.get_username() if user is not None else None


class OrderDetailOut(OrderOut):
    """An order with its fills and events."""

    fills: list[FillOut]
    events: list[EventOut]

    @staticmethod
    def resolve_fills(obj: Any) -> list[Any]:
        """The order's fills in time order."""
        return list(obj.fills.all())

    @staticmethod
    def resolve_events(obj: Any) -> list[Any]:
        """The order's events in time order."""
        return list(obj.events.order_by("event_time", "id"))


class OrderListOut(Schema):
    """A page of orders, newest first."""

    items: list[OrderOut]
    count: int = Field(
        ...,
        description="How many orders match the filters: exact up to 1,000 (count_exact true), "
        "else 1,000 and count_exact false",
    )
    count_exact: bool = Field(True, description="false when count stopped at its cap (more orders match)")
    next: str | None = Field(
        None,
        description="Cursor of the next page (pass it as `cursor`, with the same filters and limit): "
        "keyset paging that costs the same on any page; null on the last page",
    )


class PositionOut(Schema):
    """A position in the project's ledger."""

    project_id: int
    mode: str
    symbol: str
    quantity: Dec
    avg_cost: Dec
    realized_pnl: Dec
    last_fill_price: Dec | None
    unrealized_pnl: Dec | None
    last_fill_at: datetime | None


class CloseIn(Schema):
    """Close some positions of a project."""

    project_id: int
    symbols: list[str] = Field(..., min_length=1, max_length=500)


class LiquidateIn(Schema):
    """Close every position of a project."""

    project_id: int


class CloseOut(Schema):
    """The closing orders created (none for flat positions or ones already being closed)."""

    orders: list[OrderOut]
    skipped: dict[str, str]


class ProjectOut(Schema):
    """A project the user is a member of."""

    id: int
    name: str
    mode: str
    trading_state: str


class TradingStateIn(Schema):
    """Set a project's trading state (HALTED also cancels working orders)."""

    trading_state: str


class ErrorOut(Schema):
    """An error: a message, a code and, for invalid input, the reason per field."""

    detail: str
    code: str
    errors: dict[str, str] | None = None
