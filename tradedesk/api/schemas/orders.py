"""API shapes of orders, their fills and events, and the staff's resolve and update-clear bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import StrictBool

from orders import selectors
from tradedesk.api.schemas.fields import Dec, IdIn, NumberIn, StrictIn


class OrderParamsIn(StrictIn):
    """The plan's params object: where the order comes from and, optionally, its project and mode."""

    source: Literal["manual"] = Field(
        "manual", description="manual only: other sources are not this endpoint's"
    )
    project_id: IdIn | None = None
    mode: Literal["paper", "live"] | None = None


class OrderIn(StrictIn):
    """A manual order; `client_order_id` makes the request idempotent."""

    symbol: str = Field(..., max_length=32, examples=["AAPL"])
    side: str = Field(..., max_length=8, description="BUY or SELL")
    quantity: NumberIn = Field(..., description="> 0; a JSON number or a numeric string")
    order_type: str = Field(
        "MKT",
        max_length=8,
        description="MKT, LMT, STP, STP LMT, TRAIL (trailing stop), MOC (market on close) or LIT (limit if touched)",
    )
    limit_price: NumberIn | None = Field(None, description="required (> 0) for LMT, STP LMT and LIT")
    stop_price: NumberIn | None = Field(
        None, description="required (> 0) for STP and STP LMT (a TRAIL's stop is the engine's)"
    )
    trailing_amount: NumberIn | None = Field(
        None,
        description="TRAIL only, required (> 0): how far the stop trails the market, in price or percent",
    )
    trailing_as_percent: StrictBool = Field(
        False,
        description="TRAIL only: trailing_amount is a percent of the market price (5 is 5 %, below 100)",
    )
    trigger_price: NumberIn | None = Field(
        None, description="LIT only, required (> 0): once touched, the order works as a limit at limit_price"
    )
    time_in_force: str | None = Field(
        None, max_length=8, description="DAY (the default: canceled at the close), GTC or GTD"
    )
    good_till_date: str | None = Field(
        None,
        max_length=10,
        description="GTD only (required there): YYYY-MM-DD; the order expires at that day's close (16:00 New York)",
    )
    outside_rth: StrictBool | None = Field(
        None,
        description="may trigger and fill outside regular trading hours (pre/post-market): LMT, STP, STP LMT only",
    )
    client_order_id: str | None = Field(None, max_length=64)
    project_id: IdIn | None = None
    mode: str | None = Field(None, max_length=8, description="paper or live; must equal the project's")
    confirm: StrictBool = Field(False, description="place it even if the same order was placed seconds ago")
    clicked_at: datetime | None = Field(
        None,
        description="when the trader clicked (the client's clock, with its zone): the order's stage times; "
        "clamped to at most 60 s before the commit and never after it",
    )
    params: OrderParamsIn | None = Field(
        None, description="source/project_id/mode; ids given twice must agree"
    )
    take_profit_price: NumberIn | None = Field(
        None, description="bracket: a take-profit limit at this price (above a BUY's entry, below a SELL's)"
    )
    take_profit_offset: NumberIn | None = Field(
        None, description="bracket: a take-profit limit this far from the entry's price (instead of a price)"
    )
    stop_loss_price: NumberIn | None = Field(
        None, description="bracket: a stop-loss stop at this price (below a BUY's entry, above a SELL's)"
    )
    stop_loss_offset: NumberIn | None = Field(
        None, description="bracket: a stop-loss stop this far from the entry's price (instead of a price)"
    )


class ModifyIn(StrictIn):
    """A modify of a working order: only the fields given change (prices only those its type has)."""

    quantity: NumberIn | None = Field(None, description="the new total quantity (> what is filled)")
    limit_price: NumberIn | None = Field(None, description="LMT, STP LMT and LIT only")
    stop_price: NumberIn | None = Field(None, description="STP and STP LMT only")
    trigger_price: NumberIn | None = Field(None, description="LIT only")
    trailing_amount: NumberIn | None = Field(
        None, description="TRAIL only, in the order's unit (a percent when it trails by one, below 100)"
    )


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
    stop_price: Dec | None = Field(description="STP / STP LMT: the stop; TRAIL: the engine's current stop")
    trailing_amount: Dec | None = None
    trailing_as_percent: bool = False
    trigger_price: Dec | None = None
    time_in_force: str = Field("DAY", description="DAY, GTC or GTD")
    good_till_date: date | None = Field(None, description="a GTD order's date (it expires at that close)")
    outside_rth: bool = Field(False, description="may work outside regular trading hours")
    status: str
    filled_quantity: Dec
    avg_fill_price: Dec | None
    fees: Dec
    ib_order_id: int | None
    last_status_ts: datetime | None
    status_message: str
    flag: str
    flag_message: str
    flags: list[str] = Field(
        description=(
            "every flag: ENGINE_DOWN (unknown), STALE, COMMAND_UNREAD, OVERFILL, FUTURE_TIME, UPDATE_REFUSED, "
            "BRACKET_OVERFILL (a bracket entry whose two children both filled)"
        )
    )
    parent_id: int | None = Field(
        None, description="a bracket child's entry order (null for any other order)"
    )
    bracket_role: str = Field(
        "", description="ENTRY, TAKE_PROFIT or STOP_LOSS for a bracket's orders, else empty"
    )
    bracket_state: str = Field(
        "",
        description="on a bracket's entry: OPEN (children follow its fills) or CLOSED (none sent any more)",
    )
    bracket_message: str = Field("", description="on a bracket's entry: why the group closed or is flagged")
    unknown: bool = Field(description="its engine run died while it was working: it may still be live")
    cancel_requested: bool = Field(description="working, with a cancel requested from its engine")
    source: str
    params: dict[str, Any]
    update_pending: bool = Field(False, description="a modify was sent; the engine has not confirmed it yet")
    update_quantity: Dec | None = None
    update_limit_price: Dec | None = None
    update_stop_price: Dec | None = None
    update_trailing_amount: Dec | None = None
    update_trigger_price: Dec | None = None
    update_requested_at: datetime | None = Field(None, description="when the pending modify was asked for")
    update_refused: bool = Field(
        False,
        description=(
            "update refused by the broker: still working at IB until the engine says otherwise "
            "(staff clear it with clear-update)"
        ),
    )
    update_refused_message: str = Field("", description="the broker's reason for the refused update")
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_unknown(obj: Any) -> bool:
        """Working with a dead engine run."""
        return bool(obj.is_unknown)

    @staticmethod
    def resolve_cancel_requested(obj: Any) -> bool:
        """Working, with a cancel requested."""
        return bool(obj.cancel_requested)

    @staticmethod
    def resolve_created_by(obj: Any) -> str | None:
        """The creator's username."""
        user = getattr(obj, "created_by", None)
        return user.get_username() if user is not None else None


class OrderDetailOut(OrderOut):
    """An order with its fills and events."""

    fills: list[FillOut]
    events: list[EventOut]
    children: list[int] = Field(
        default_factory=list, description="a bracket entry's children (take profit first), by order id"
    )

    @staticmethod
    def resolve_children(obj: Any) -> list[int]:
        """A bracket entry's children's ids, take profit first."""
        if obj.bracket_role != "ENTRY":
            return []
        return [
            child.pk for child in sorted(obj.children.all(), key=lambda c: c.bracket_role != "TAKE_PROFIT")
        ]

    @staticmethod
    def resolve_fills(obj: Any) -> list[Any]:
        """The order's fills in time order."""
        return list(obj.fills.all())

    @staticmethod
    def resolve_events(obj: Any) -> list[Any]:
        """The order's events in time order."""
        return list(selectors.order_events(order=obj))


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


class ResolveIn(StrictIn):
    """Staff settle an unknown order with what the broker reports."""

    status: str = Field(..., description="CANCELED or FILLED")
    quantity: NumberIn | None = Field(None, description="the order's total filled quantity at the broker")
    price: NumberIn | None = Field(None, description="price of the quantity tradedesk has not recorded")
    note: str = Field(..., min_length=1, max_length=2000, description="what the broker reported")


class UpdateClearIn(StrictIn):
    """Staff drop a modify the engine never answered; the reason goes to the audit log."""

    reason: str = Field(..., min_length=1, max_length=500, description="why, and what the broker shows")
