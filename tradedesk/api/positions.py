"""Positions (`/api/trade/positions...`): the project's book valued at market, closes and liquidation."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from execution.actions import project_close_positions, project_liquidate
from execution.selectors import positions_totals, positions_value, project_day_pnl
from orders import doors, selectors
from tradedesk.actors import actor_from_request
from tradedesk.api.auth import api_auth
from tradedesk.api.schemas import (
    ERRORS,
    MAX_DB_ID,
    CloseIn,
    CloseOut,
    LiquidateIn,
    PositionOut,
    PositionTotalsOut,
)

router = Router(auth=api_auth, tags=["positions"])


@router.get("/positions", response={200: list[PositionOut], **ERRORS})
def list_positions(request: HttpRequest, project_id: Annotated[int, Query(ge=1, le=MAX_DB_ID)]) -> Any:
    """The project's non-zero positions in its mode, valued at the engine's last prices."""
    project = doors.project_for_user(user=request.user, project_id=project_id)
    positions = list(selectors.positions_for_project(project=project))
    snapshot = positions_value(positions, mode=project.mode)
    project_day_pnl(project=project, positions=positions, snapshot=snapshot, now=timezone.now())
    return positions


@router.get("/positions/totals", response={200: PositionTotalsOut, **ERRORS})
def positions_totals_get(
    request: HttpRequest, project_id: Annotated[int, Query(ge=1, le=MAX_DB_ID)]
) -> dict[str, Any]:
    """The project's totals in its mode: market value and unrealised P&L of its open positions, and the
    realised P&L of all of them (flat ones included), valued like GET /positions."""
    project = doors.project_for_user(user=request.user, project_id=project_id)
    positions = list(selectors.positions_for_project(project=project))
    snapshot = positions_value(positions, mode=project.mode)
    totals = positions_totals(positions, realized_pnl=selectors.positions_realized_pnl(project=project))
    day = project_day_pnl(project=project, positions=positions, snapshot=snapshot, now=timezone.now())
    return {
        "project_id": project.pk,
        "mode": project.mode,
        **asdict(totals),
        "day_pnl": day.total,
        "day_pnl_unknown": day.unknown,
    }


@router.post("/positions/close", response={200: CloseOut, **ERRORS})
def close_positions(request: HttpRequest, payload: CloseIn) -> dict[str, Any]:
    """One closing order per named position (skipped: already closing or flat)."""
    project = doors.project_for_user(user=request.user, project_id=payload.project_id)
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
    project = doors.project_for_user(user=request.user, project_id=payload.project_id)
    result = project_liquidate(
        project=project, user=request.user, actor=actor_from_request(request, channel="api")
    )
    return {"orders": result.orders, "skipped": result.skipped, "warnings": result.warnings}
