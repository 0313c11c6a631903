"""Projects: access, trading state, mode."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from orders.errors import Conflict, Forbidden, NotFound, OrderValidationError
from orders.models import Mode, Project, ProjectChoice, TradingState
from orders.selectors import orders_working, project_with_counters, projects_for_user
from orders.services.audit import Actor, audit_record

DEFAULT_PROJECT_NAME = "default"
# Lower is riskier: a move to a lower rank adds risk (un-halt, leave reduce-only).
_STATE_RISK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def project_lock(*, project_id: int) -> Project:
    """Lock the project row (inside the caller's transaction): the one serialization point of its orders.

    Every check-then-act on a project's orders (place, close, liquidate, modify, the dispatch of a held close)
    takes it first, then order rows; the ingest never takes it."""
    # FOR NO KEY UPDATE, not FOR UPDATE: it excludes every other holder of this lock just the same, but not the
    # FOR KEY SHARE that PostgreSQL's deferred foreign-key checks take at COMMIT. A transaction that inserted a
    # row pointing at this project (its first change counter, a position) would otherwise wait at its COMMIT
    # for this lock while the holder waits for that row: a deadlock, seen as a 500 on an order POST.
    return Project.objects.select_for_update(no_key=True).get(pk=project_id)


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
    """The project an order without project_id goes to: `default` or the user's only project; never created."""
    visible = Project.objects.all() if user is None else projects_for_user(user=user)
    chosen = visible.filter(name=DEFAULT_PROJECT_NAME).first()
    if chosen is not None:
        return chosen
    projects = list(visible.order_by("name")[:2])
    if len(projects) == 1:
        return projects[0]
    if not projects:
        raise OrderValidationError(
            "you are not a member of any project: ask a desk lead for access",
            errors={"project_id": "no project: ask a desk lead for access"},
        )
    raise OrderValidationError(
        "you are a member of several projects: say which one (project_id)",
        errors={"project_id": "required: you trade in several projects"},
    )


TRADE_LIVE_PERMISSION = "orders.trade_live"


def trade_live_permitted(*, user: Any) -> bool:
    """Whether this user holds orders.trade_live (None: tradedesk itself, which may)."""
    return user is None or bool(user.has_perm(TRADE_LIVE_PERMISSION))


def live_permitted(*, user: Any, project: Project) -> bool:
    """Whether this user may add risk to / change the set-up of this project (orders.trade_live for LIVE)."""
    return project.mode != Mode.LIVE or trade_live_permitted(user=user)


def require_live_permission(*, user: Any, project: Project) -> None:
    """Forbidden unless the user may add risk to this project (LIVE needs orders.trade_live)."""
    if not live_permitted(user=user, project=project):
        raise Forbidden("LIVE trading needs the orders.trade_live permission")


def project_check_mode_switch(*, project: Project, mode: str, user: Any) -> None:
    """Forbidden or Conflict when this user may not switch the project to `mode` now."""
    if mode == project.mode:
        return
    # Either direction touches a LIVE set-up: to LIVE adds risk, from LIVE strands its LIVE positions.
    if Mode.LIVE in (mode, project.mode) and not trade_live_permitted(user=user):
        raise Forbidden("switching to or from LIVE needs the orders.trade_live permission")
    if project.pk is not None and orders_working(project=project).exists():
        raise Conflict("the project has working orders; cancel them before switching mode")


def project_check_trading_state(*, project: Project, state: str, user: Any) -> None:
    """Forbidden when the move adds risk (towards ACTIVE: un-halt, leave reduce-only) on a LIVE project
    without orders.trade_live; HALTED and REDUCING from ACTIVE are open to every member."""
    if state not in TradingState.values:
        raise OrderValidationError("unknown trading state", errors={"trading_state": "unknown value"})
    if _STATE_RISK[TradingState(state)] < _STATE_RISK[TradingState(project.trading_state)]:
        require_live_permission(user=user, project=project)


def project_set_trading_state(*, project: Project, state: str, actor: Actor | None = None) -> Project:
    """Set ACTIVE / REDUCING / HALTED; towards ACTIVE on a LIVE project needs orders.trade_live.

    HALTED is the kill switch: execution.actions.project_trading_state_change also cancels working orders."""
    if state not in TradingState.values:
        raise OrderValidationError("unknown trading state", errors={"trading_state": "unknown value"})
    with transaction.atomic():
        locked = project_lock(project_id=project.pk)
        project_check_trading_state(project=locked, state=state, user=actor.user if actor else None)
        previous = locked.trading_state
        Project.objects.filter(pk=project.pk).update(trading_state=state, updated_at=timezone.now())
        project.refresh_from_db()
        audit_record(
            actor=actor,
            action="trading_state",
            project=project,
            detail={"previous": previous, "state": state},
        )
    return project


def project_set_mode(*, project: Project, mode: str, actor: Actor | None = None) -> Project:
    """Switch a project between paper and live; LIVE needs orders.trade_live and no working orders."""
    if mode not in Mode.values:
        raise OrderValidationError("mode must be paper or live", errors={"mode": "must be paper or live"})
    with transaction.atomic():
        locked = project_lock(project_id=project.pk)
        if locked.mode == mode:
            return locked
        project_check_mode_switch(project=locked, mode=mode, user=actor.user if actor else None)
        previous = locked.mode
        locked.mode = mode
        locked.save(update_fields=["mode", "updated_at"])
        audit_record(
            actor=actor, action="mode_switch", project=locked, detail={"previous": previous, "mode": mode}
        )
    return locked


def project_remember(*, user: Any, project: Project) -> None:
    """Remember the project the user opened, for the page's next session (one row per user)."""
    ProjectChoice.objects.update_or_create(
        user=user, defaults={"project": project, "chosen_at": timezone.now()}
    )


def project_remembered(*, user: Any) -> int | None:
    """The id of the project the user opened last (whether still a member is the caller's check)."""
    return ProjectChoice.objects.filter(user=user).values_list("project_id", flat=True).first()
