"""The liquidate door: cancel every working order of a project and close every non-zero position."""

from __future__ import annotations

from typing import Any

from execution.dispatch.availability import engine_down_reason
from execution.dispatch.cancels import close_cancels_request
from orders.models import (
    Project,
)
from orders.services import (
    Actor,
    CloseResult,
    positions_liquidate,
)


def project_liquidate(*, project: Project, user: Any = None, actor: Actor | None = None) -> CloseResult:
    """Liquidate: cancel every working order of the project and close every non-zero position."""
    result = positions_liquidate(project=project, user=user, actor=actor, engine_down=engine_down_reason)
    close_cancels_request(result=result, actor=actor)
    return result
