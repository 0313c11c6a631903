"""What the live-trade page shows: the context of each part, built from selectors (views stay thin)."""

from __future__ import annotations

import hashlib
import zoneinfo
from collections.abc import Sequence
from datetime import UTC
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext, gettext_lazy

from execution.models import HoldingsDiscrepancy
from execution.selectors import (
    engine_state,
    events_file_problems,
    positions_totals,
    positions_value,
    project_day_pnl,
)
from orders import doors, selectors
from orders.doors import bounded_id, order_stage_gaps
from orders.models import (
    FINAL_STATUSES,
    EngineHalt,
    Mode,
    OrderStageTimes,
    OrderType,
    Position,
    Project,
    Side,
    TradeOrder,
    TradingState,
)
from tradedesk.web.access import DeskRequest
from tradedesk.web.account import account_context
from tradedesk.web.charts import pnl_chart
from tradedesk.web.forms import ColoursForm, OrderForm, TimeZoneForm
from tradedesk.web.orders_table import digest, orders_context, orders_version, rows_changed

# The zones offered on the page: the exchanges' and desks' cities a US-equities desk works with.
TIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Zurich",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)


def time_zone_context(form: TimeZoneForm | None = None) -> dict[str, Any]:
    """The page's time zone choice: (name, "name · abbreviation") pairs, the active zone always among them."""
    current = timezone.get_current_timezone_name()
    names = TIME_ZONES if current in TIME_ZONES else (current, *TIME_ZONES)
    now = timezone.now()
    return {
        "tz_form": form or TimeZoneForm(),
        "time_zone": current,
        "time_zones": [
            (name, f"{name} · {now.astimezone(zoneinfo.ZoneInfo(name)).tzname()}") for name in names
        ],
    }


def positions_version(positions: Sequence[Position], project: Project) -> str:
    """What the positions table shows, so a poll re-renders it only when it changed: the project's positions
    counter (bumped by every fill, orders.services.versions), its mode and trading state."""
    _orders, moved, _at = selectors.project_counters(project=project)
    return digest(f"p{moved}|{project.mode}|{project.trading_state}")


def reconciliation_flags(mode: str) -> list[str]:
    """The symbols the header flags as holdings discrepancies of the mode (at most 50)."""
    return list(HoldingsDiscrepancy.objects.filter(mode=mode).values_list("symbol", flat=True)[:50])


def status_context(project: Project, *, engine: Any = None) -> dict[str, Any]:
    """Header status: the mode's engine, reconciliation flags, and (shown to staff) why its events are skipped."""
    return {
        "engine": engine if engine is not None else engine_state(project.mode),
        "events_file_problem": events_file_problems().get(project.mode, ""),
        "discrepancies": reconciliation_flags(project.mode),
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
        # Flat positions too, for the realised P&L total (one query): the table shows the open ones.
        book = list(selectors.positions_for_project(project=project, include_flat=True))
        positions = [position for position in book if position.quantity != 0]
        realized = sum((position.realized_pnl for position in book), Decimal(0))
    else:
        realized = selectors.positions_realized_pnl(project=project)
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
    now = timezone.now()
    day = project_day_pnl(project=project, positions=positions, snapshot=snapshot, now=now)
    totals = positions_totals(positions, realized_pnl=realized)
    chart = pnl_chart(
        project=project,
        positions=positions,
        day=day,
        total_now=totals.realized_pnl + totals.unrealized_pnl,
        now=now,
    )
    return {
        "positions": positions,
        "day_pnl": day,
        **chart,
        "positions_totals": totals,
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


def order_label(order: TradeOrder) -> str:
    """An order as a trader says it: "Buy 3 MSFT @ 100" (the side in the active language)."""
    price = order.limit_price if order.limit_price is not None else order.stop_price
    at = "" if price is None else f" @ {price.normalize():f}"
    return f"{order.get_side_display()} {order.quantity.normalize():f} {order.symbol}{at}"


def order_placed_message(order: TradeOrder, created: bool) -> str:
    """The notice of a placed order, or of one placed before with the same idempotency key."""
    described = order_label(order)
    if created:
        return gettext("Order placed: %(order)s") % {"order": described}
    return gettext("Already placed (same idempotency key): %(order)s") % {"order": described}


def ticket_form(project: Project | None, data: dict[str, Any] | None = None) -> OrderForm:
    """An unbound ticket for the project, optionally prefilled."""
    initial = {"order_type": OrderType.MKT, "side": Side.BUY, **(data or {})}
    initial["project"] = project.pk if project else ""
    return OrderForm(initial=initial)


STAGE_LABELS = {
    "request": gettext_lazy("request"),
    "queue": gettext_lazy("queue"),
    "hand-over": gettext_lazy("hand-over"),
    "engine": gettext_lazy("engine"),
    "fill": gettext_lazy("fill"),
    "ingest": gettext_lazy("ingest"),
    "screen": gettext_lazy("screen"),
}


def timeline_context(order: TradeOrder) -> dict[str, Any]:
    """One order's events and fills, and where its time went; the timeline polls while it is not final."""
    gaps = order_stage_gaps(OrderStageTimes.objects.filter(order_id=order.pk).first())
    return {
        "detail": order,
        "detail_polls": order.status not in FINAL_STATUSES,
        "events": list(selectors.order_events(order=order)),
        "fills": list(order.fills.order_by("filled_at", "id")),
        "stage_gaps": [(STAGE_LABELS[gap.label], gap.milliseconds) for gap in gaps],
    }


def halt_notice(project: Project, halt: EngineHalt) -> str:
    """Why this project may only close positions now (the engine-wide halt first), or "" when it may trade."""
    if halt.halted:
        return gettext(
            "The %(mode)s engine is halted for all projects by %(who)s at %(time)s UTC: %(reason)s. "
            "Only Close and Liquidate are allowed."
        ) % {
            "mode": project.mode.upper(),
            "who": halt.changed_by_name or gettext("staff"),
            "time": halt.changed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if halt.changed_at else "?",
            "reason": halt.reason,
        }
    if project.trading_state == TradingState.HALTED:
        return gettext("Trading is halted: only Close and Liquidate are allowed")
    return ""


def base_context(request: DeskRequest, project: Project) -> dict[str, Any]:
    # Lazy: read once where a template shows it, never by an idle poll (a halt change bumps the counters).
    halt = SimpleLazyObject(lambda: doors.engine_halt_get(mode=project.mode))
    return {
        "project": project,
        "is_live": project.mode == Mode.LIVE,
        "mode_live": Mode.LIVE,
        # A callable: templates call it only where the mode switch is shown.
        "can_trade_live": lambda: doors.trade_live_permitted(user=request.user),
        "engine_halt": halt,
        # Why Buy / Sell / Place are disabled (their tooltip), or "" while the project may trade.
        "halt_reason": SimpleLazyObject(lambda: halt_notice(project, halt)),  # type: ignore[arg-type]
        "can_halt_engine": lambda: doors.engine_halt_permitted(user=request.user),
    }


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
    tz_form: TimeZoneForm | None = None,
    colours_form: ColoursForm | None = None,
) -> HttpResponse:
    context = desk_context(request, project, form=form, detail=detail)
    if request.htmx:
        return render(request, "orders/partials/desk.html", context, status=status)
    if projects is None:
        projects = list(selectors.projects_for_user(user=request.user).order_by("name"))
    context["projects"] = projects
    # The push stream where an ASGI server serves it: this request's own (`make run`), or a stream process
    # beside the WSGI workers (TRADEDESK_STREAMS); elsewhere the page polls as before.
    context["stream_on"] = settings.TRADEDESK_STREAMS or "wsgi.version" not in request.META
    context.update(time_zone_context(tz_form), colours_form=colours_form)
    context.update(account_context(request, project))
    return render(request, "orders/live_trade.html", context, status=status)


def render_poll(
    request: DeskRequest, project: Project, *, always_positions: bool, status: int = 200, polled: bool = False
) -> HttpResponse:
    """Orders table, plus out-of-band header status and (when they changed) positions; to a poll that sends
    its rows token (`rv`), only the rows that are new or changed.

    A poll whose orders and positions versions match what the page already shows gets 204 (nothing to swap):
    the versions come from the project's counters (read with the project when the view asked for them) and
    the engine's state files, before any order, position or reconciliation row is read."""
    selected = request.GET.get("selected") or request.POST.get("selected")
    context: dict[str, Any] = {
        **base_context(request, project),
        "engine": engine_state(project.mode),
        "selected_order_id": bounded_id(selected),
        "oob_status": True,
    }
    context["orders_version"] = orders_version(context)
    positions_version_now = positions_version((), project)
    positions_changed = always_positions or positions_version_now != request.GET.get("pv")
    if polled and not positions_changed and context["orders_version"] == request.GET.get("ov"):
        return HttpResponse(status=204)
    context.update(status_context(project, engine=context["engine"]))
    context.update(orders_context(project, selected=selected))
    if positions_changed:
        context.update(positions_context(project))
    context["oob_positions"] = positions_changed
    changed = (
        rows_changed(context["rendered_rows"], project=project, shown=request.GET.get("rv"))
        if polled
        else None
    )
    if changed is None:
        return render(request, "orders/partials/poll.html", context, status=status)
    # The rows the page has stay; desk.js places the new and changed ones (and asks again if another answer
    # re-rendered the table since this poll left).
    context["changed_rows"] = changed
    response = render(request, "orders/partials/poll_rows.html", context, status=status)
    response["HX-Reswap"] = "none"
    response["TD-Rows"] = "changed"
    return response
