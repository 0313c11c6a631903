"""Projects (`/api/trade/projects...`): the user's books and their trading state (HALTED is the kill switch)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from execution.actions import project_trading_state_change
from orders import doors, selectors
from tradedesk.actors import actor_from_request
from tradedesk.api.auth import api_auth
from tradedesk.api.schemas import (
    ERRORS,
    PathId,
    ProjectOut,
    TradingStateIn,
)

router = Router(auth=api_auth, tags=["projects"])


@router.get("/projects", response={200: list[ProjectOut], **ERRORS})
def list_projects(request: HttpRequest) -> Any:
    """The projects the user is a member of."""
    return list(selectors.projects_for_user(user=request.user))


@router.post("/projects/{project_id}/trading-state", response={200: ProjectOut, **ERRORS})
def set_trading_state(request: HttpRequest, project_id: PathId, payload: TradingStateIn) -> Any:
    """ACTIVE / REDUCING / HALTED; HALTED is the kill switch and cancels working orders."""
    project = doors.project_for_user(user=request.user, project_id=project_id)
    actor = actor_from_request(request, channel="api")
    project, _outcomes = project_trading_state_change(
        project=project, state=payload.trading_state, actor=actor
    )
    return project
