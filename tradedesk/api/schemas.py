"""API shapes of orders, fills, events and positions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Path, Schema
from pydantic import BeforeValidator, ConfigDict, PlainSerializer, StrictBool, StrictInt, WithJsonSchema

from orders import selectors
from orders.doors import MAX_DB_ID
from tradedesk.display import decimal_text

# Decimals travel as strings without trailing zeros ("410.45"), so no precision is lost in JSON.
Dec = Annotated[Decimal, PlainSerializer(decimal_text, return_type=str)]


def _number_text(value: Any) -> str:
    """A JSON number (exact: the parser reads floats as Decimal) or numeric string, as text for the service."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError("must be a number")
    return value if isinstance(value, str) else str(value)


# Checked as numbers by orders.services.validation (finite, within the column's digits, no "1_000").
NumberIn = Annotated[
    str,
    BeforeValidator(_number_text),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "maxLength": 64}]}),
]
# Ids only from JSON integers (not true, not "3"), within the database's bigint.
IdIn = Annotated[StrictInt, Field(ge=1, le=MAX_DB_ID)]


class StrictIn(Schema):
    """Request bodies: an unknown field is a 422 naming it, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


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
    limit_price: NumberIn | None = Field(None, description="LMT and STP LMT only")
    stop_price: NumberIn | None = Field(None, description="STP and STP LMT only")


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


class EngineHaltIn(StrictIn):
    """Staff: halt (with a reason) or resume every project of a mode."""

    halted: StrictBool
    reason: str = Field("", max_length=500, description="required to halt: every trader of the mode sees it")


class EngineHaltOut(Schema):
    """A mode's engine-wide halt: while halted, only orders that reduce a position (Close, Liquidate) pass."""

    mode: str
    halted: bool
    reason: str
    changed_by: str = Field(..., description="username of the staff member who halted or resumed it last")
    changed_at: datetime | None

    @staticmethod
    def resolve_changed_by(obj: Any) -> str:
        """The username recorded with the change."""
        return str(obj.changed_by_name)


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


class ProjectOut(Schema):
    """A project the user is a member of."""

    id: int
    name: str
    mode: str
    trading_state: str


class TradingStateIn(StrictIn):
    """Set a project's trading state (HALTED also cancels working orders)."""

    trading_state: str


class ResolveIn(StrictIn):
    """Staff settle an unknown order with what the broker reports."""

    status: str = Field(..., description="CANCELED or FILLED")
    quantity: NumberIn | None = Field(None, description="the order's total filled quantity at the broker")
    price: NumberIn | None = Field(None, description="price of the quantity tradedesk has not recorded")
    note: str = Field(..., min_length=1, max_length=2000, description="what the broker reported")


class UpdateClearIn(StrictIn):
    """Staff drop a modify the engine never answered; the reason goes to the audit log."""

    reason: str = Field(..., min_length=1, max_length=500, description="why, and what the broker shows")


class ErrorOut(Schema):
    """An error: a message, a code and, for invalid input, the reason per field.

    `confirm_required` (422) names the overridable `checks` that asked; send `confirm: true` to override."""

    detail: str
    code: str
    errors: dict[str, str] = Field(default_factory=dict, description="field -> reason; empty when none")
    checks: list[str] | None = Field(None, description="confirm_required: the checks that asked")


# The error answers every endpoint documents (one shape: ErrorOut).
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}
# Query and path ids keep their usual parsing ("?project_id=3") but stay within the database's bigint.
QueryId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
