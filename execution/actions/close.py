"""The close door: closing orders for the chosen positions, then the cancels they wait for."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from execution.dispatch.availability import engine_down_reason
from execution.dispatch.cancels import close_cancels_request
from orders.models import (
    Project,
)
from orders.services import (
    Actor,
    CloseResult,
    positions_close,
)

__all__ = ["CloseResult", "project_close_positions"]


def project_close_positions(
    *, project: Project, symbols: Iterable[str], user: Any = None, actor: Actor | None = None
) -> CloseResult:
    """Close positions (the entry point of page, API and admin): closing orders, then their cancels."""
    result = positions_close(
        project=project, symbols=symbols, user=user, actor=actor, engine_down=engine_down_reason
    )
    close_cancels_request(result=result, actor=actor)
    return result
