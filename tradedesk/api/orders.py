"""The trade API (`/api/trade/...`): thin endpoints over the order and execution services."""

from __future__ import annotations

import re
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from execution.events import ingest_before_read
from execution.prices import positions_value
from execution.services import (
    order_cancel,
    order_resolve,
    project_close_positions,
    project_liquidate,
    project_trading_state_change,
)
from orders import selectors, services
from orders.errors import OrderValidationError
from orders.models import SYMBOL_REGEX, OrderStatus
from tradedesk.actors import actor_from_request
from tradedesk.api.auth import api_auth
from tradedesk.api.schemas import (
    MAX_DB_ID,
    CloseIn,
    CloseOut,
    ErrorOut,
    LiquidateIn,
    OrderDetailOut,
    OrderIn,
    OrderListOut,
    OrderOut,
    PositionOut,
    ProjectOut,
    ResolveIn,
    TradingStateIn,
)

router = Router(auth=api_auth, tags=["trade"])
ERRORS = {
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


class OrderFilters(Schema):
    """Order list filters."""

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_DB_ID)
    status: str | None = Field(None, max_length=32)
    project_id: QueryId | None = None
    symbol: str | None = Field(None, max_length=32)


@router.post("/orders", response={200: OrderOut, 201: OrderOut, **ERRORS})
def create_order(request: HttpRequest, payload: OrderIn) -> Status:
    """Place a manual order: 201 new, 200 idempotent replay of the same client_order_id."""
    data = payload.model_dump(exclude_unset=True)
    result = services.create_trade_order(
        data, user=request.user, actor=actor_from_request(request, channel="api")
    )
    return Status(201 if result.created else 200, result.order)


@router.get("/orders", response={200: OrderListOut, **ERRORS})
def list_orders(request: HttpRequest, filters: Query[OrderFilters]) -> dict[str, Any]:
    """The user's orders, newest first (new engine events are ingested first)."""
    if filters.status and filters.status.upper() not in OrderStatus.values:
        raise OrderValidationError(
            "unknown status", errors={"status": f"one of {', '.join(OrderStatus.values)}"}
        )
    if filters.symbol and not (
        filters.symbol.isascii() and re.fullmatch(SYMBOL_REGEX, filters.symbol.upper())
    ):
        raise OrderValidationError("invalid symbol", errors={"symbol": "not a symbol"})
    ingest_before_read()
    queryset = selectors.orders_for_user(
        user=request.user, status=filters.status, project_id=filters.project_id, symbol=filters.symbol
    ).select_related("created_by")
    return {
        "items": list(queryset[filters.offset : filters.offset + filters.limit]),
        "count": queryset.count(),
    }


@router.get("/orders/{order_id}", response={200: OrderDetailOut, **ERRORS})
def get_order(request: HttpRequest, order_id: PathId) -> Any:
    """One order with its fills and events."""
    ingest_before_read()
    return selectors.order_for_user(user=request.user, order_id=order_id)


@router.post("/orders/{order_id}/cancel", response={200: OrderOut, **ERRORS})
def cancel_order(request: HttpRequest, order_id: PathId) -> Any:
    """Cancel a working order (a CancelOrderCommand to the engine that holds it)."""
    order = selectors.order_for_user(user=request.user, order_id=order_id)
    return order_cancel(order=order, actor=actor_from_request(request, channel="api"))


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


@router.get("/positions", response={200: list[PositionOut], **ERRORS})
def list_positions(request: HttpRequest, project_id: Annotated[int, Query(ge=1, le=MAX_DB_ID)]) -> Any:
    """The project's non-zero positions in its mode, valued at the engine's last prices."""
    project = services.project_for_user(user=request.user, project_id=project_id)
    positions = list(selectors.positions_for_project(project=project))
    positions_value(positions, mode=project.mode)
    return positions


@router.post("/positions/close", response={200: CloseOut, **ERRORS})
def close_positions(request: HttpRequest, payload: CloseIn) -> dict[str, Any]:
    """One closing order per named position (skipped: already closing or flat)."""
    project = services.project_for_user(user=request.user, project_id=payload.project_id)
    result = project_close_positions(
        project=project,
        symbols=payload.symbols,
        user=request.user,
        actor=actor_from_request(request, channel="api"),
    )
    return {"orders": result.orders, "skipped": result.skipped, "warnings": result.warnings}


@router.post("/positions/liquidate", response={200: CloseOut, **ERRORS})
def liquidate(request: HttpRequest, payload: LiquidateIn) -> dict[str, Any]:
    """Cancel every working order and close every non-zero position of the project."""
    project = services.project_for_user(user=request.user, project_id=payload.project_id)
    result = project_liquidate(
        project=project, user=request.user, actor=actor_from_request(request, channel="api")
    )
    return {"orders": result.orders, "skipped": result.skipped, "warnings": result.warnings}


@router.get("/projects", response={200: list[ProjectOut], **ERRORS})
def list_projects(request: HttpRequest) -> Any:
    """The projects the user is a member of."""
    return list(selectors.projects_for_user(user=request.user))


@router.post("/projects/{project_id}/trading-state", response={200: ProjectOut, **ERRORS})
def set_trading_state(request: HttpRequest, project_id: PathId, payload: TradingStateIn) -> Any:
    """ACTIVE / REDUCING / HALTED; HALTED is the kill switch and cancels working orders."""
    project = services.project_for_user(user=request.user, project_id=project_id)
    actor = actor_from_request(request, channel="api")
    project, _outcomes = project_trading_state_change(
        project=project, state=payload.trading_state, actor=actor
    )
    return project
