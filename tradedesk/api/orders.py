"""The trade API (`/api/trade/...`): thin endpoints over the order and execution services."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from execution.events import ingest_execution_events
from execution.services import order_cancel, orders_cancel_working
from orders import selectors, services
from orders.errors import OrderValidationError
from orders.models import SYMBOL_REGEX, OrderStatus, TradingState
from tradedesk.api.auth import api_auth
from tradedesk.api.schemas import (
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
    TradingStateIn,
)

router = Router(auth=api_auth, tags=["trade"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def actor_for(request: HttpRequest, channel: str = "api") -> services.Actor:
    """The audit actor of a request: user, source address, channel."""
    return services.Actor(user=request.user, source_address=request.META.get("REMOTE_ADDR"), channel=channel)


class OrderFilters(Schema):
    """Order list filters."""

    limit: int = 50
    offset: int = 0
    status: str | None = None
    project_id: int | None = None
    symbol: str | None = None


@router.post("/orders", response={200: OrderOut, 201: OrderOut, **ERRORS})
def create_order(request: HttpRequest, payload: OrderIn) -> Status:
    """Place a manual order: 201 new, 200 idempotent replay of the same client_order_id."""
    data = payload.model_dump(exclude_unset=True)
    result = services.create_trade_order(data, user=request.user, actor=actor_for(request))
    return Status(201 if result.created else 200, result.order)


@router.get("/orders", response={200: OrderListOut, **ERRORS})
def list_orders(request: HttpRequest, filters: Query[OrderFilters]) -> dict[str, Any]:
    """The user's orders, newest first (new engine events are ingested first)."""
    if not 1 <= filters.limit <= 500 or filters.offset < 0:
        raise OrderValidationError("limit must be 1-500 and offset >= 0", errors={"limit": "1-500"})
    if filters.status and filters.status.upper() not in OrderStatus.values:
        raise OrderValidationError(
            "unknown status", errors={"status": f"one of {', '.join(OrderStatus.values)}"}
        )
    if filters.symbol and not re.fullmatch(SYMBOL_REGEX, filters.symbol.upper()):
        raise OrderValidationError("invalid symbol", errors={"symbol": "not a symbol"})
    ingest_execution_events()
    queryset = selectors.orders_for_user(
        user=request.user, status=filters.status, project_id=filters.project_id, symbol=filters.symbol
    ).select_related("created_by")
    return {
        "items": list(queryset[filters.offset : filters.offset + filters.limit]),
        "count": queryset.count(),
    }


@router.get("/orders/{order_id}", response={200: OrderDetailOut, **ERRORS})
def get_order(request: HttpRequest, order_id: int) -> Any:
    """One order with its fills and events."""
    ingest_execution_events()
    return selectors.order_for_user(user=request.user, order_id=order_id)


@router.post("/orders/{order_id}/cancel", response={200: OrderOut, **ERRORS})
def cancel_order(request: HttpRequest, order_id: int) -> Any:
    """Cancel a working order (a CancelOrderCommand to the engine that holds it)."""
    order = selectors.order_for_user(user=request.user, order_id=order_id)
    return order_cancel(order=order, actor=actor_for(request))


@router.get("/positions", response={200: list[PositionOut], **ERRORS})
def list_positions(request: HttpRequest, project_id: int) -> Any:
    """The project's non-zero positions in its mode."""
    project = services.project_for_user(user=request.user, project_id=project_id)
    return list(selectors.positions_for_project(project=project))


@router.post("/positions/close", response={200: CloseOut, **ERRORS})
def close_positions(request: HttpRequest, payload: CloseIn) -> dict[str, Any]:
    """One closing order per named position."""
    project = services.project_for_user(user=request.user, project_id=payload.project_id)
    orders, skipped = services.positions_close(
        project=project, symbols=payload.symbols, user=request.user, actor=actor_for(request)
    )
    return {"orders": orders, "skipped": skipped}


@router.post("/positions/liquidate", response={200: CloseOut, **ERRORS})
def liquidate(request: HttpRequest, payload: LiquidateIn) -> dict[str, Any]:
    """One closing order per non-zero position of the project."""
    project = services.project_for_user(user=request.user, project_id=payload.project_id)
    orders, skipped = services.positions_liquidate(
        project=project, user=request.user, actor=actor_for(request)
    )
    return {"orders": orders, "skipped": skipped}


@router.get("/projects", response={200: list[ProjectOut], **ERRORS})
def list_projects(request: HttpRequest) -> Any:
    """The projects the user is a member of."""
    return list(selectors.projects_for_user(user=request.user))


@router.post("/projects/{project_id}/trading-state", response={200: ProjectOut, **ERRORS})
def set_trading_state(request: HttpRequest, project_id: int, payload: TradingStateIn) -> Any:
    """ACTIVE / REDUCING / HALTED; HALTED is the kill switch and cancels working orders."""
    project = services.project_for_user(user=request.user, project_id=project_id)
    actor = actor_for(request)
    project = services.project_set_trading_state(project=project, state=payload.trading_state, actor=actor)
    if project.trading_state == TradingState.HALTED:
        orders_cancel_working(project=project, actor=actor)
    return project
