"""Orders (`/api/trade/orders...`): place, list, read, cancel, modify (and its staff clear), resolve; thin."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Any

from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from execution.actions import (
    create_trade_order,
    ingest_before_read,
    order_cancel_request,
    order_modify,
    order_modify_clear,
    order_resolve,
)
from orders import selectors
from orders.errors import OrderValidationError
from orders.models import SYMBOL_REGEX, WORKING_STATUSES, OrderStatus, order_flags, order_is_unknown
from tradedesk.actors import actor_from_request
from tradedesk.api.auth import api_auth
from tradedesk.api.schemas import (
    ERRORS,
    ModifyIn,
    OrderDetailOut,
    OrderIn,
    OrderListOut,
    OrderOut,
    PathId,
    QueryId,
    ResolveIn,
    UpdateClearIn,
)

router = Router(auth=api_auth, tags=["orders"])


# An offset is a walk over the rows it skips: past this many, the list answers 422 and names the cursor.
MAX_OFFSET = 10_000


class OrderFilters(Schema):
    """Order list filters."""

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(
        0, ge=0, description=f"at most {MAX_OFFSET:,}: page further with `cursor` (every page costs the same)"
    )
    status: str | None = Field(None, max_length=32)
    project_id: QueryId | None = None
    symbol: str | None = Field(None, max_length=32)
    cursor: str | None = Field(None, description="the `next` of the previous page (keyset paging)")


# count is exact up to this many orders; beyond, it says so (count_exact false) instead of counting them all.
COUNT_CAP = 1000
# The columns of OrderOut, read as plain values (no model instances on the list path).
_LIST_FIELDS = (
    "id", "client_order_id", "project_id", "mode", "symbol", "side", "quantity", "order_type", "limit_price",
    "status", "filled_quantity", "avg_fill_price", "fees", "ib_order_id", "last_status_ts", "status_message",
    "flag", "flag_message", "params", "created_at", "updated_at", "stop_price", "overfilled",
    "future_event_time", "update_pending", "update_quantity", "update_limit_price", "update_stop_price",
    "update_requested_at", "cancel_requested_at", "update_refused", "update_refused_message", "time_in_force",
    "good_till_date", "outside_rth", "parent_id", "bracket_role", "bracket_state", "bracket_message", "bracket_overfilled",
    "trailing_amount", "trailing_as_percent", "trigger_price", "update_trailing_amount", "update_trigger_price",
)  # fmt: skip


def _encode_cursor(created_at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, pk = text.split("|")
        return datetime.fromisoformat(created_at), int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise OrderValidationError("invalid cursor", errors={"cursor": "not a cursor of this API"}) from None


@router.post("/orders", response={200: OrderOut, 201: OrderOut, **ERRORS})
def create_order(request: HttpRequest, payload: OrderIn) -> Status:
    """Place a manual order: 201 new, 200 idempotent replay of the same client_order_id."""
    data = payload.model_dump(exclude_unset=True)
    result = create_trade_order(data, user=request.user, actor=actor_from_request(request, channel="api"))
    return Status(201 if result.created else 200, result.order)


@router.get("/orders", response={200: OrderListOut, **ERRORS})
def list_orders(request: HttpRequest, filters: Query[OrderFilters]) -> OrderListOut:
    """The user's orders, newest first (new engine events are ingested first).

    `count` is exact up to 1,000 (`count_exact`); page with `limit`/`offset`, or with `cursor` = the previous
    page's `next` (keyset: every page costs the same)."""
    if filters.status and filters.status.upper() not in OrderStatus.values:
        raise OrderValidationError(
            "unknown status", errors={"status": f"one of {', '.join(OrderStatus.values)}"}
        )
    if filters.symbol and not (
        filters.symbol.isascii() and re.fullmatch(SYMBOL_REGEX, filters.symbol.upper())
    ):
        raise OrderValidationError("invalid symbol", errors={"symbol": "not a symbol"})
    if filters.offset > MAX_OFFSET:
        raise OrderValidationError(
            "offset too deep",
            errors={"offset": f"at most {MAX_OFFSET}: page further with cursor (each page's next)"},
        )
    after = _decode_cursor(filters.cursor) if filters.cursor else None
    ingest_before_read()
    queryset = selectors.orders_for_user(
        user=request.user, status=filters.status, project_id=filters.project_id, symbol=filters.symbol
    )
    page = queryset
    if after is not None:
        page = page.filter(Q(created_at__lt=after[0]) | Q(created_at=after[0], id__lt=after[1]))
    # The capped count travels with the page, in the same query (an uncorrelated subquery, run once).
    # In the list's order: the count walks the index the page walks, and stops at the cap (unordered, the
    # planner may scan the table for a filter that many rows match).
    capped_sql, capped_params = queryset.values("pk")[: COUNT_CAP + 1].query.sql_with_params()
    counted = RawSQL(f"SELECT COUNT(*) FROM ({capped_sql}) AS capped", capped_params)
    rows = list(
        page.values(*_LIST_FIELDS, created_by_name=F("created_by__username"), matching=counted)[
            filters.offset : filters.offset + filters.limit
        ]
    )
    # Never a COUNT(*) over the whole history: count up to the cap and say when it stopped there.
    count = rows[0]["matching"] if rows else queryset[: COUNT_CAP + 1].count()
    items = []
    for row in rows:
        row["created_by"] = row.pop("created_by_name")
        del row["matching"]
        row["source"] = str((row["params"] or {}).get("source", ""))
        row["flags"] = order_flags(
            flag=row["flag"],
            overfilled=row.pop("overfilled"),
            future_event_time=row.pop("future_event_time"),
            update_refused=row["update_refused"],
            bracket_overfilled=row.pop("bracket_overfilled"),
        )
        row["unknown"] = order_is_unknown(status=row["status"], flag=row["flag"])
        row["cancel_requested"] = (
            row.pop("cancel_requested_at") is not None and row["status"] in WORKING_STATUSES
        )
        items.append(OrderOut.model_construct(**row))
    last = rows[-1] if len(rows) == filters.limit else None
    return OrderListOut.model_construct(
        items=items,
        count=min(count, COUNT_CAP),
        count_exact=count <= COUNT_CAP,
        next=_encode_cursor(last["created_at"], last["id"]) if last is not None else None,
    )


@router.get("/orders/{order_id}", response={200: OrderDetailOut, **ERRORS})
def get_order(request: HttpRequest, order_id: PathId) -> Any:
    """One order with its fills and events."""
    ingest_before_read()
    return selectors.order_for_user(user=request.user, order_id=order_id)


@router.post("/orders/{order_id}/cancel", response={200: OrderOut, 202: OrderOut, **ERRORS})
def cancel_order(request: HttpRequest, order_id: PathId) -> Any:
    """Cancel a working order: 200 CANCELED when it never left tradedesk, else 202 with `cancel_requested`
    (its engine host sends the CancelOrderCommand; the engine's event makes it CANCELED)."""
    order = selectors.order_for_user(user=request.user, order_id=order_id)
    result = order_cancel_request(order=order, actor=actor_from_request(request, channel="api"))
    return Status(202 if result.requested else 200, result.order)


@router.patch("/orders/{order_id}", response={202: OrderOut, **ERRORS})
def modify_order(request: HttpRequest, order_id: PathId, payload: ModifyIn) -> Status:
    """Modify a working order (tradedesk's update command to its engine): 202, update_pending until confirmed."""
    order = selectors.order_for_user(user=request.user, order_id=order_id)
    updated = order_modify(
        order=order,
        **payload.model_dump(exclude_unset=True),
        user=request.user,
        actor=actor_from_request(request, channel="api"),
    )
    return Status(202, updated)


@router.post("/orders/{order_id}/clear-update", response={200: OrderOut, **ERRORS})
def clear_update(request: HttpRequest, order_id: PathId, payload: UpdateClearIn) -> Any:
    """Staff: drop a modify the engine never answered (the order keeps its values); audited with the reason."""
    order = selectors.order_for_user(user=request.user, order_id=order_id)
    return order_modify_clear(
        order=order, reason=payload.reason, actor=actor_from_request(request, channel="api")
    )


@router.post("/orders/{order_id}/resolve", response={200: OrderOut, **ERRORS})
def resolve_order(request: HttpRequest, order_id: int, payload: ResolveIn) -> Any:
    """Staff: settle an unknown order (dead engine run) as CANCELED or FILLED with the broker's numbers."""
    order = selectors.order_for_user(user=request.user, order_id=order_id)
    return order_resolve(
        order=order,
        status=payload.status,
        note=payload.note,
        quantity=payload.quantity,
        price=payload.price,
        actor=actor_from_request(request, channel="api"),
    )
