"""What the live-trade page shows: the context of each part, built from selectors (views stay thin)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from execution import engines
from execution.events import events_file_problems
from execution.models import HoldingsDiscrepancy
from execution.prices import positions_value
from orders import selectors
from orders.models import (
    CLOSED_STATUSES,
    Mode,
    OrderStatus,
    OrderType,
    Position,
    Project,
    Side,
    TradeOrder,
)
from orders.services.validation import bounded_id
from tradedesk.web.access import DeskRequest
from tradedesk.web.forms import OrderForm

# htmx stops polling an element that gets this status (the order timeline once the order is final).


ORDERS_SHOWN = 100


FINAL_STATUSES = frozenset({*CLOSED_STATUSES, OrderStatus.FAILED})


RECENT_SECONDS = 4


def positions_version(positions: Sequence[Position], project: Project) -> str:
    """A fingerprint of what the positions table shows, so a poll re-renders it only when it changed."""
    basis = (
        "|".join(f"{p.pk}:{p.symbol}:{p.quantity}:{p.avg_cost}:{p.last_fill_price}" for p in positions)
        + f"|{project.mode}|{project.trading_state}"
    )
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def status_context(project: Project) -> dict[str, Any]:
    """Header status: the mode's engine, reconciliation flags, and (shown to staff) why its events are skipped."""
    return {
        "engine": engines.engine_state(project.mode),
        "events_file_problem": events_file_problems().get(project.mode, ""),
        "discrepancies": list(
            HoldingsDiscrepancy.objects.filter(mode=project.mode).values_list("symbol", flat=True)[:50]
        ),
    }


def positions_context(
    project: Project,
    *,
    positions: list[Position] | None = None,
    row_errors: dict[str, list[str]] | None = None,
    row_values: dict[str, str] | None = None,
    row_confirm: set[str] | None = None,
) -> dict[str, Any]:
    """The positions table; rows carry their own inline errors and kept input."""
    if positions is None:
        positions = list(selectors.positions_for_project(project=project))
    snapshot = positions_value(positions, mode=project.mode)
    # The close dialog warns when an order of a dead engine run may still be live at the broker.
    unknown = (
        set(selectors.orders_unknown(project=project).values_list("symbol", flat=True))
        if positions
        else set()
    )
    for position in positions:
        position.unknown_order = position.symbol in unknown  # type: ignore[attr-defined]
        position.row_errors = (row_errors or {}).get(position.symbol, [])  # type: ignore[attr-defined]
        position.row_value = (row_values or {}).get(position.symbol, "")  # type: ignore[attr-defined]
        position.row_confirm = position.symbol in (row_confirm or set())  # type: ignore[attr-defined]
    version = positions_version(positions, project)
    return {
        "positions": positions,
        "positions_version": version,
        "prices_version": prices_version(positions, version, snapshot.version if snapshot else ""),
        "prices_poll_seconds": settings.TRADEDESK_PRICES_INTERVAL,
    }


def prices_version(positions: Sequence[Position], positions_version: str, snapshot_version: str) -> str:
    """A fingerprint of the prices the positions table shows (the file replaced, a price turning stale)."""
    stale = "".join("s" if getattr(p, "valuation", None) and p.valuation.stale else "f" for p in positions)  # type: ignore[attr-defined]
    basis = f"{positions_version}|{snapshot_version}|{stale}"
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def render_prices(request: DeskRequest, project: Project) -> HttpResponse:
    """The positions table when its prices changed since what the page shows (`prices`), else 204."""
    context = {**base_context(request, project), **positions_context(project)}
    if context["prices_version"] == request.GET.get("prices"):
        return HttpResponse(status=204)
    return render(request, "orders/partials/positions.html", context)


def orders_context(project: Project, *, selected: Any = None) -> dict[str, Any]:
    """The project's latest orders in its mode, newest first."""
    orders = list(
        TradeOrder.objects.filter(project=project, mode=project.mode).order_by("-created_at", "-id")[
            :ORDERS_SHOWN
        ]
    )
    selected_id = bounded_id(selected)
    return {
        "orders": orders,
        "orders_shown": ORDERS_SHOWN,
        "selected_order_id": selected_id,
        "final_statuses": FINAL_STATUSES,
        "recent_cutoff": timezone.now() - timedelta(seconds=RECENT_SECONDS),
    }


def ticket_form(project: Project | None, data: dict[str, Any] | None = None) -> OrderForm:
    """An unbound ticket for the project, optionally prefilled."""
    initial = {"order_type": OrderType.MKT, "side": Side.BUY, **(data or {})}
    initial["project"] = project.pk if project else ""
    return OrderForm(initial=initial)


def timeline_context(order: TradeOrder) -> dict[str, Any]:
    """One order's events and fills; the timeline polls while the order is not final."""
    return {
        "detail": order,
        "detail_polls": order.status not in FINAL_STATUSES,
        "events": list(selectors.order_events(order=order)),
        "fills": list(order.fills.order_by("filled_at", "id")),
    }


def base_context(request: DeskRequest, project: Project) -> dict[str, Any]:
    return {"project": project, "is_live": project.mode == Mode.LIVE, "mode_live": Mode.LIVE}


def desk_context(
    request: DeskRequest,
    project: Project,
    *,
    form: OrderForm | None = None,
    detail: TradeOrder | None = None,
) -> dict[str, Any]:
    """Everything the page shows for one project."""
    context = {
        **base_context(request, project),
        **status_context(project),
        **positions_context(project),
        **orders_context(project, selected=detail.pk if detail else None),
        "form": form or ticket_form(project),
        **(timeline_context(detail) if detail is not None else {}),
    }
    context["orders_version"] = orders_version(context)
    return context


def render_page(
    request: DeskRequest,
    project: Project,
    projects: Sequence[Project] | None = None,
    *,
    form: OrderForm | None = None,
    detail: TradeOrder | None = None,
    status: int = 200,
) -> HttpResponse:
    context = desk_context(request, project, form=form, detail=detail)
    if request.htmx:
        return render(request, "orders/partials/desk.html", context, status=status)
    if projects is None:
        projects = list(selectors.projects_for_user(user=request.user).order_by("name"))
    context["projects"] = projects
    return render(request, "orders/live_trade.html", context, status=status)


def render_poll(
    request: DeskRequest, project: Project, *, always_positions: bool, status: int = 200, polled: bool = False
) -> HttpResponse:
    """Orders table, plus out-of-band header status and (when they changed) positions.

    A poll whose orders and positions versions match what the page already shows gets 204 (nothing to swap),
    so an idle page costs the queries but no rendering."""
    positions = list(selectors.positions_for_project(project=project))
    context = {
        **base_context(request, project),
        **status_context(project),
        **orders_context(project, selected=request.GET.get("selected") or request.POST.get("selected")),
        **positions_context(project, positions=positions),
        "oob_status": True,
    }
    context["orders_version"] = orders_version(context)
    positions_changed = always_positions or context["positions_version"] != request.GET.get("pv")
    if polled and not positions_changed and context["orders_version"] == request.GET.get("ov"):
        return HttpResponse(status=204)
    context["oob_positions"] = positions_changed
    return render(request, "orders/partials/poll.html", context, status=status)


def orders_version(context: dict[str, Any]) -> str:
    """A fingerprint of what the orders table and the header status show."""
    cutoff = context["recent_cutoff"]
    engine = context["engine"]
    project = context["project"]
    parts = [
        f"{o.pk}:{o.status}:{o.updated_at.timestamp()}:{o.status in FINAL_STATUSES and o.updated_at > cutoff}"
        for o in context["orders"]
    ]
    parts += [
        f"sel={context['selected_order_id']}",
        f"engine={engine.state}:{engine.run_id}:{engine.message}:{engine.refused}:{engine.preflight}",
        f"project={project.mode}:{project.trading_state}",
        f"recon={','.join(context['discrepancies'])}",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
