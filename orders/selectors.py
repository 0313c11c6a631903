"""Reads of order data, always scoped to what the user may see."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from orders.errors import NotFound
from orders.models import (
    UNKNOWN_FLAG,
    WORKING_STATUSES,
    ArchivedExecutionEvent,
    ExecutionEvent,
    Position,
    Project,
    ProjectVersion,
    TradeFill,
    TradeOrder,
    handed_to_run,
)


def projects_for_user(*, user: Any) -> QuerySet[Project]:
    """The projects a user is a member of (all of them for a superuser)."""
    if getattr(user, "is_superuser", False):
        return Project.objects.all()
    return Project.objects.filter(members=user)


def orders_for_user(
    *,
    user: Any,
    status: str | None = None,
    project_id: int | None = None,
    symbol: str | None = None,
) -> QuerySet[TradeOrder]:
    """The user's visible orders, newest first, filtered."""
    queryset = TradeOrder.objects.select_related("project")
    if not getattr(user, "is_superuser", False):
        # The membership rows alone (no join to the projects): a small table whose statistics the planner
        # has (orders.services.maintenance), so it walks an order index and checks the few project ids.
        memberships = Project.members.through.objects.filter(user_id=getattr(user, "pk", None) or 0)
        queryset = queryset.filter(project_id__in=memberships.values("project_id"))
    if status:
        queryset = queryset.filter(status=status.upper())
    if project_id is not None:
        queryset = queryset.filter(project_id=project_id)
    if symbol:
        queryset = queryset.filter(symbol=symbol.upper())
    return queryset.order_by("-created_at", "-id")


def project_with_counters(queryset: QuerySet[Project]) -> Project | None:
    """The first project of `queryset` with its change counters read in the same query."""
    project = queryset.select_related("version").first()
    if project is not None:
        try:
            version = project.version
        except ProjectVersion.DoesNotExist:
            project._counters = (0, 0, None)  # type: ignore[attr-defined]
        else:
            project._counters = (version.orders, version.positions, version.changed_at)  # type: ignore[attr-defined]
    return project


def project_counters(*, project: Project) -> tuple[int, int, datetime | None]:
    """The project's change counters (orders, positions, last change), read once per project instance."""
    cached: tuple[int, int, datetime | None] | None = getattr(project, "_counters", None)
    if cached is None:
        row = (
            ProjectVersion.objects.filter(project_id=project.pk)
            .values_list("orders", "positions", "changed_at")
            .first()
        )
        cached = row if row is not None else (0, 0, None)
        project._counters = cached  # type: ignore[attr-defined]
    return cached


def order_for_user(*, user: Any, order_id: int) -> TradeOrder:
    """One order the user may see, or NotFound."""
    # By its primary key alone: the list's newest-first order would sort the one row.
    order = orders_for_user(user=user).filter(pk=order_id).order_by("pk").first()
    if order is None:
        raise NotFound("order not found")
    return order


def positions_for_project(*, project: Project, include_flat: bool = False) -> QuerySet[Position]:
    """The project's positions in its current mode."""
    queryset = Position.objects.filter(project=project, mode=project.mode)
    if not include_flat:
        queryset = queryset.exclude(quantity=0)
    return queryset.order_by("symbol")


def positions_realized_pnl(*, project: Project) -> Decimal:
    """The project's realised P&L in its current mode, flat positions included."""
    total = Position.objects.filter(project=project, mode=project.mode).aggregate(total=Sum("realized_pnl"))
    return total["total"] or Decimal(0)


def order_events(*, order: TradeOrder) -> QuerySet[ExecutionEvent]:
    """An order's stored events in time order (its timeline), archived months included: one query."""
    # The archive has the events table's columns in their order (orders/models/archive.py), so its rows come
    # back as ExecutionEvent instances of the same ids; each side is a walk of its own timeline index.
    archived = ArchivedExecutionEvent.objects.filter(order=order).order_by()
    return order.events.order_by().union(archived, all=True).order_by("event_time", "id")


def unmatched_events() -> QuerySet[ExecutionEvent]:
    """Events whose tag matched no order, kept for review."""
    return ExecutionEvent.objects.filter(outcome=ExecutionEvent.Outcome.UNMATCHED).order_by("-received_at")


def fills_for_user(
    *,
    user: Any,
    project_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[TradeFill]:
    """Fills of the user's visible orders, in a project and a time window [since, until) when given."""
    queryset = TradeFill.objects.filter(order__project__in=projects_for_user(user=user).values("pk"))
    if project_id is not None:
        queryset = queryset.filter(order__project_id=project_id)
    if since is not None:
        queryset = queryset.filter(filled_at__gte=since)
    if until is not None:
        queryset = queryset.filter(filled_at__lt=until)
    return queryset


def fills_since(*, project: Project, since: datetime) -> list[tuple[str, str, Decimal, Decimal]]:
    """(symbol, side, quantity, price) of the project's fills in its mode since `since` (day P&L)."""
    return list(
        TradeFill.objects.filter(order__project=project, order__mode=project.mode, filled_at__gte=since)
        .order_by()
        .values_list("order__symbol", "order__side", "quantity", "price")
    )


def orders_working(*, project: Project | None = None, mode: str | None = None) -> QuerySet[TradeOrder]:
    """Orders that can still trade and whose engine is alive: what limits, closes, HALT and the page count.

    Unknown orders (their engine run died) are left out: see orders_unknown."""
    queryset = TradeOrder.objects.filter(status__in=WORKING_STATUSES).exclude(flag=UNKNOWN_FLAG)
    if project is not None:
        queryset = queryset.filter(project=project)
    if mode is not None:
        queryset = queryset.filter(mode=mode)
    return queryset


def orders_working_of_run(*, mode: str, run_id: str) -> list[int]:
    """Ids of the mode's working orders handed to this engine run, in id order."""
    return list(
        orders_working(mode=mode).filter(handed_to_run(run_id)).order_by("pk").values_list("pk", flat=True)
    )


def orders_unknown(*, project: Project | None = None, mode: str | None = None) -> QuerySet[TradeOrder]:
    """Orders whose engine run died while they were working: they may still be live at the broker."""
    queryset = TradeOrder.objects.filter(status__in=WORKING_STATUSES, flag=UNKNOWN_FLAG)
    if project is not None:
        queryset = queryset.filter(project=project)
    if mode is not None:
        queryset = queryset.filter(mode=mode)
    return queryset


SUGGESTIONS_MAX = 20
# Symbols of this many of the project's latest orders are candidates ("recent").
RECENT_ORDERS_SCANNED = 200
# What a typed prefix of a symbol may hold; anything else suggests nothing (never reaches a query).
_PREFIX = re.compile(r"(?:[A-Z][A-Z0-9.]{0,14})?")


@dataclass(frozen=True)
class SymbolSuggestion:
    """A symbol offered while the trader types one: where it comes from, the position held if any."""

    symbol: str
    source: str  # "position" | "recent" | "universe"
    quantity: Decimal | None = None


def symbol_suggestions(
    *, project: Project, prefix: str, universe: Iterable[str], limit: int = SUGGESTIONS_MAX
) -> list[SymbolSuggestion]:
    """Symbols starting with `prefix` for a project's ticket: its open positions, then its recent orders'
    symbols (newest first), then the engine's universe (alphabetical); an exact match first; at most `limit`."""
    prefix = prefix.strip().upper()
    limit = max(0, min(limit, SUGGESTIONS_MAX))
    if limit == 0 or not _PREFIX.fullmatch(prefix):
        return []
    found: dict[str, SymbolSuggestion] = {}
    held = positions_for_project(project=project).filter(symbol__startswith=prefix)
    for symbol, quantity in held.values_list("symbol", "quantity")[:limit]:
        found[symbol] = SymbolSuggestion(symbol=symbol, source="position", quantity=quantity)
    recent = (
        TradeOrder.objects.filter(project=project, symbol__startswith=prefix)
        .order_by("-created_at", "-id")
        .values_list("symbol", flat=True)[:RECENT_ORDERS_SCANNED]
    )
    for symbol in recent:
        found.setdefault(symbol, SymbolSuggestion(symbol=symbol, source="recent"))
    for symbol in sorted(s for s in universe if s.startswith(prefix)):
        found.setdefault(symbol, SymbolSuggestion(symbol=symbol, source="universe"))
    ranked = sorted(found.values(), key=lambda suggestion: suggestion.symbol != prefix)
    return ranked[:limit]
