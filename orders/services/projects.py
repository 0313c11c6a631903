"""Projects: access, trading state, mode."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from orders.errors import Conflict, Forbidden, NotFound, OrderValidationError
from orders.models import (
    WORKING_STATUSES,
    Mode,
    Project,
    TradeOrder,
    TradingState,
)
from orders.selectors import project_with_counters
from orders.services.audit import Actor, audit_record

DEFAULT_PROJECT_NAME = "default"


def project_for_user(*, user: Any, project_id: Any, with_counters: bool = False) -> Project:
    """The project the user may trade in, or NotFound (no difference between unknown and not a member).

    with_counters: its change counters come in the same query (orders.selectors.project_counters)."""
    if isinstance(project_id, bool) or project_id is None:
        raise NotFound("project not found")
    try:
        pk = int(project_id)
    except (TypeError, ValueError):
        raise NotFound("project not found") from None
    queryset = Project.objects.filter(pk=pk)
    if user is not None and not getattr(user, "is_superuser", False):
        queryset = queryset.filter(members=user)
    project = project_with_counters(queryset) if with_counters else queryset.first()
    if project is None:
        raise NotFound("project not found")
    return project


def project_default_for(*, user: Any) -> Project:
    """The project named `default`, created when missing (its creator becomes a member)."""
    project, created = Project.objects.get_or_create(name=DEFAULT_PROJECT_NAME)
    if user is not None and getattr(user, "is_authenticated", False):
        if created:
            project.members.add(user)
        elif not getattr(user, "is_superuser", False) and not project.members.filter(pk=user.pk).exists():
            raise NotFound("project not found")
    return project


def require_live_permission(*, user: Any, project: Project) -> None:
    if project.mode == Mode.LIVE and user is not None and not user.has_perm("orders.trade_live"):
        raise Forbidden("LIVE trading needs the orders.trade_live permission")


def project_check_mode_switch(*, project: Project, mode: str, user: Any) -> None:
    """Forbidden or Conflict when this user may not switch the project to `mode` now."""
    if mode == project.mode:
        return
    if mode == Mode.LIVE and user is not None and not user.has_perm("orders.trade_live"):
        raise Forbidden("switching to LIVE needs the orders.trade_live permission")
    if (
        project.pk is not None
        and TradeOrder.objects.filter(project=project, status__in=WORKING_STATUSES).exists()
    ):
        raise Conflict("the project has working orders; cancel them before switching mode")


def project_set_trading_state(*, project: Project, state: str, actor: Actor | None = None) -> Project:
    """Set ACTIVE / REDUCING / HALTED; HALTED is the kill switch (the caller cancels working orders)."""
    if state not in TradingState.values:
        raise OrderValidationError("unknown trading state", errors={"trading_state": "unknown value"})
    with transaction.atomic():
        Project.objects.filter(pk=project.pk).update(trading_state=state, updated_at=timezone.now())
        project.refresh_from_db()
        audit_record(actor=actor, action="trading_state", project=project, detail={"state": state})
    return project


def project_set_mode(*, project: Project, mode: str, actor: Actor | None = None) -> Project:
    """Switch a project between paper and live; LIVE needs orders.trade_live and no working orders."""
    if mode not in Mode.values:
        raise OrderValidationError("mode must be paper or live", errors={"mode": "must be paper or live"})
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.mode == mode:
            return locked
        project_check_mode_switch(project=locked, mode=mode, user=actor.user if actor else None)
        locked.mode = mode
        locked.save(update_fields=["mode", "updated_at"])
        audit_record(actor=actor, action="mode_switch", project=locked, detail={"mode": mode})
    return locked
