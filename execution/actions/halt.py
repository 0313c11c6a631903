"""The trading-state door (halt, reduce-only, active): HALTED also cancels every working order."""

from __future__ import annotations

from django.db import transaction

from execution.dispatch.cancels import orders_cancel_working
from orders.models import (
    Project,
    TradingState,
)
from orders.services import (
    Actor,
    project_set_trading_state,
)


def project_trading_state_change(
    *, project: Project, state: str, actor: Actor | None = None
) -> tuple[Project, dict[str, str]]:
    """The one entry point for every interface: set the state; HALTED also cancels every working order.

    HALTED and its cancel requests commit in one transaction: the engine hosts' sweeps send the requests even
    when no task could be enqueued (the kill switch never depends on the broker)."""
    with transaction.atomic():
        project = project_set_trading_state(project=project, state=state, actor=actor)
        outcomes = orders_cancel_working(project=project, actor=actor) if state == TradingState.HALTED else {}
    return project, outcomes
