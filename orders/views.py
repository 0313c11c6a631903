"""The live-trade page (HTMX): thin views over orders.services / selectors and execution.services.

Every view answers an HTMX request with a partial and a normal request with the page (or a redirect to it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from execution import engines
from execution.events import ingest_execution_events
from execution.models import HoldingsDiscrepancy
from execution.services import order_cancel, orders_cancel_working
from orders import selectors, services
from orders.errors import NotFound, TradedeskError
from orders.forms import OrderForm, translate_reason
from orders.models import (
    CLOSED_STATUSES,
    Mode,
    OrderStatus,
    OrderType,
    Position,
    Project,
    Side,
    TradeOrder,
    TradingState,
)

ORDERS_SHOWN = 100
SESSION_PROJECT_KEY = "live_trade_project"
FINAL_STATUSES = frozenset({*CLOSED_STATUSES, OrderStatus.FAILED})
RECENT_SECONDS = 4
# htmx stops polling an element that gets this status (the order timeline once the order is final).
STOP_POLLING = 286

View = Callable[..., HttpResponse]


# --------------------------------------------------------------------------------------------------------
# Plumbing: login, language, project
# --------------------------------------------------------------------------------------------------------


def _activate_requested_language(request: HttpRequest) -> str | None:
    """Activate `?lang=` (en, zh-hans) for this request; the caller stores it in the language cookie."""
    wanted = (request.GET.get("lang") or "").strip().lower()
    codes = {code.lower(): code for code, _name in settings.LANGUAGES}
    if wanted not in codes:
        return None
    translation.activate(codes[wanted])
    request.LANGUAGE_CODE = translation.get_language()
    return codes[wanted]


def desk_view(view: View) -> View:
    """Login required (HTMX gets HX-Redirect, not a login page swapped into a panel) and `?lang=`."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.htmx:
                response = HttpResponse(status=401)
                response["HX-Redirect"] = f"{settings.LOGIN_URL}?{urlencode({'next': reverse('live-trade')})}"
                return response
            return redirect_to_login(request.get_full_path())
        language = _activate_requested_language(request)
        response = view(request, *args, **kwargs)
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE or 365 * 24 * 3600,
                path=settings.LANGUAGE_COOKIE_PATH,
                samesite="Lax",
            )
        return response

    return wrapper


def _actor(request: HttpRequest) -> services.Actor:
    return services.Actor(user=request.user, source_address=request.META.get("REMOTE_ADDR"), channel="web")


def _project_or_404(request: HttpRequest, raw: Any) -> Project:
    """A project the user is a member of; unknown and someone else's look the same (404)."""
    try:
        return services.project_for_user(user=request.user, project_id=raw)
    except NotFound:
        raise Http404(_("Project not found")) from None


def _pick_project(request: HttpRequest, projects: Sequence[Project]) -> Project | None:
    """The project used last, else the first one holding positions, else the first one."""
    if not projects:
        return None
    by_pk = {project.pk: project for project in projects}
    remembered = request.session.get(SESSION_PROJECT_KEY)
    if remembered in by_pk:
        return by_pk[remembered]
    holding = set(
        Position.objects.filter(project_id__in=by_pk, mode=F("project__mode"))
        .exclude(quantity=0)
        .values_list("project_id", flat=True)
    )
    return next((project for project in projects if project.pk in holding), projects[0])


def _page_url(project: Project | int, **extra: Any) -> str:
    pk = project if isinstance(project, int) else project.pk
    return f"{reverse('live-trade')}?{urlencode({'project': pk, **extra})}"


# --------------------------------------------------------------------------------------------------------
# Context of the page's parts
# --------------------------------------------------------------------------------------------------------


def _positions_version(positions: Sequence[Position], project: Project) -> str:
    """A fingerprint of what the positions table shows, so a poll re-renders it only when it changed."""
    basis = (
        "|".join(f"{p.pk}:{p.symbol}:{p.quantity}:{p.avg_cost}:{p.last_fill_price}" for p in positions)
        + f"|{project.mode}|{project.trading_state}"
    )
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def _status_context(project: Project) -> dict[str, Any]:
    """Header status: the mode's engine, reconciliation flags."""
    return {
        "engine": engines.engine_state(project.mode),
        "discrepancies": list(
            HoldingsDiscrepancy.objects.filter(mode=project.mode).values_list("symbol", flat=True)[:50]
        ),
    }


def _positions_context(
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
    for position in positions:
        position.row_errors = (row_errors or {}).get(position.symbol, [])  # type: ignore[attr-defined]
        position.row_value = (row_values or {}).get(position.symbol, "")  # type: ignore[attr-defined]
        position.row_confirm = position.symbol in (row_confirm or set())  # type: ignore[attr-defined]
    return {"positions": positions, "positions_version": _positions_version(positions, project)}


def _orders_context(project: Project, *, selected: Any = None) -> dict[str, Any]:
    """The project's latest orders in its mode, newest first."""
    orders = list(
        TradeOrder.objects.filter(project=project, mode=project.mode).order_by("-created_at", "-id")[
            :ORDERS_SHOWN
        ]
    )
    try:
        selected_id = int(selected) if selected not in (None, "") else None
    except (TypeError, ValueError):
        selected_id = None
    return {
        "orders": orders,
        "orders_shown": ORDERS_SHOWN,
        "selected_order_id": selected_id,
        "final_statuses": FINAL_STATUSES,
        "recent_cutoff": timezone.now() - timedelta(seconds=RECENT_SECONDS),
    }


def _ticket_form(project: Project | None, data: dict[str, Any] | None = None) -> OrderForm:
    """An unbound ticket for the project, optionally prefilled."""
    initial = {"order_type": OrderType.MKT, "side": Side.BUY, **(data or {})}
    initial["project"] = project.pk if project else ""
    return OrderForm(initial=initial)


def _timeline_context(order: TradeOrder) -> dict[str, Any]:
    """One order's events and fills; the timeline polls while the order is not final."""
    return {
        "detail": order,
        "detail_polls": order.status not in FINAL_STATUSES,
        "events": list(selectors.order_events(order=order)),
        "fills": list(order.fills.order_by("filled_at", "id")),
    }


def _base_context(request: HttpRequest, project: Project) -> dict[str, Any]:
    return {"project": project, "is_live": project.mode == Mode.LIVE, "mode_live": Mode.LIVE}


def _desk_context(
    request: HttpRequest,
    project: Project,
    *,
    form: OrderForm | None = None,
    detail: TradeOrder | None = None,
) -> dict[str, Any]:
    """Everything the page shows for one project."""
    context = {
        **_base_context(request, project),
        **_status_context(project),
        **_positions_context(project),
        **_orders_context(project, selected=detail.pk if detail else None),
        "form": form or _ticket_form(project),
        **(_timeline_context(detail) if detail is not None else {}),
    }
    context["orders_version"] = _orders_version(context)
    return context


# --------------------------------------------------------------------------------------------------------
# Pages and partials
# --------------------------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    """The site root opens the live-trade page (keeping ?lang=)."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(reverse("live-trade") + (f"?{query}" if query else ""))


def _render_page(
    request: HttpRequest,
    project: Project,
    projects: Sequence[Project] | None = None,
    *,
    form: OrderForm | None = None,
    detail: TradeOrder | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _desk_context(request, project, form=form, detail=detail)
    if request.htmx:
        return render(request, "orders/partials/desk.html", context, status=status)
    if projects is None:
        projects = list(selectors.projects_for_user(user=request.user).order_by("name"))
    context["projects"] = projects
    return render(request, "orders/live_trade.html", context, status=status)


@desk_view
@require_GET
def live_trade(request: HttpRequest) -> HttpResponse:
    """The live-trade page of `?project=` (else the project used last, which the URL then names)."""
    projects = list(selectors.projects_for_user(user=request.user).order_by("name"))
    raw = request.GET.get("project")
    if raw in (None, ""):
        chosen = _pick_project(request, projects)
        if chosen is None:
            return render(request, "orders/no_projects.html", {})
        return HttpResponseRedirect(_page_url(chosen))
    try:
        project = next(p for p in projects if str(p.pk) == raw.strip())
    except StopIteration:
        raise Http404(_("Project not found")) from None
    if request.session.get(SESSION_PROJECT_KEY) != project.pk:
        request.session[SESSION_PROJECT_KEY] = project.pk
    detail = None
    if request.GET.get("order"):
        detail = _order_or_404(request, request.GET["order"], project=project)
    return _render_page(request, project, projects, detail=detail)


@desk_view
@require_GET
def orders_panel(request: HttpRequest) -> HttpResponse:
    """The orders table (polled every second): new engine events are ingested first."""
    project = _project_or_404(request, request.GET.get("project"))
    if not request.htmx:
        return HttpResponseRedirect(_page_url(project))
    ingest_execution_events()
    return _render_poll(request, project, always_positions=False, polled=True)


def _render_poll(
    request: HttpRequest, project: Project, *, always_positions: bool, status: int = 200, polled: bool = False
) -> HttpResponse:
    """Orders table, plus out-of-band header status and (when they changed) positions.

    A poll whose orders and positions versions match what the page already shows gets 204 (nothing to swap),
    so an idle page costs the queries but no rendering."""
    positions = list(selectors.positions_for_project(project=project))
    context = {
        **_base_context(request, project),
        **_status_context(project),
        **_orders_context(project, selected=request.GET.get("selected") or request.POST.get("selected")),
        **_positions_context(project, positions=positions),
        "oob_status": True,
    }
    context["orders_version"] = _orders_version(context)
    positions_changed = always_positions or context["positions_version"] != request.GET.get("pv")
    if polled and not positions_changed and context["orders_version"] == request.GET.get("ov"):
        return HttpResponse(status=204)
    context["oob_positions"] = positions_changed
    return render(request, "orders/partials/poll.html", context, status=status)


def _orders_version(context: dict[str, Any]) -> str:
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


def _order_or_404(request: HttpRequest, raw: Any, *, project: Project | None = None) -> TradeOrder:
    try:
        order = selectors.order_for_user(user=request.user, order_id=int(raw))
    except (NotFound, TypeError, ValueError):
        raise Http404(_("Order not found")) from None
    if project is not None and order.project_id != project.pk:
        raise Http404(_("Order not found"))
    return order


@desk_view
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    """One order's timeline (its events and fills); polled while the order is working."""
    ingest_execution_events()
    order = _order_or_404(request, order_id)
    if not request.htmx:
        return HttpResponseRedirect(_page_url(order.project_id, order=order.pk))
    final = order.status in FINAL_STATUSES
    context = _timeline_context(order)
    polled = request.htmx.trigger == f"timeline-{order.pk}"
    return render(
        request,
        "orders/partials/order_detail.html",
        context,
        status=STOP_POLLING if polled and final else 200,
    )


# --------------------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------------------


def _placed_message(order: TradeOrder, created: bool) -> str:
    described = f"{order.get_side_display()} {order.quantity.normalize():f} {order.symbol}"
    if created:
        return _("Order placed: %(order)s") % {"order": described}
    return _("Already placed (same idempotency key): %(order)s") % {"order": described}


def _live_confirmed(request: HttpRequest, project: Project) -> bool:
    """LIVE destructive actions need the project name typed in the confirmation dialog."""
    return project.mode != Mode.LIVE or request.POST.get("confirm_name", "").strip() == project.name


@desk_view
@require_POST
def order_create(request: HttpRequest) -> HttpResponse:
    """Place an order from the ticket or a positions row (idempotent on the rendered client_order_id)."""
    origin = "row" if request.POST.get("origin") == "row" else "ticket"
    form = OrderForm(request.POST)
    try:
        project: Project | None = services.project_for_user(
            user=request.user, project_id=request.POST.get("project")
        )
    except NotFound:
        project = None
    created = False
    if form.is_valid() and project is None:
        form.add_error("project", _("unknown project"))
    elif form.is_valid() and project is not None:
        try:
            result = services.create_trade_order(
                form.payload(project_id=project.pk, mode=project.mode),
                user=request.user,
                actor=_actor(request),
            )
        except TradedeskError as exc:
            form.add_service_error(exc)
        else:
            created = True
            messages.success(request, _placed_message(result.order, result.created))
    status = 200 if created else 422

    if not request.htmx:
        if created and project is not None:
            return HttpResponseRedirect(_page_url(project))
        fallback = project or _pick_project(request, list(selectors.projects_for_user(user=request.user)))
        if fallback is None:
            raise Http404(_("Project not found"))
        return _render_page(request, fallback, form=form, status=status)

    if origin == "row":
        if project is None:
            raise Http404(_("Project not found"))
        symbol = (request.POST.get("symbol") or "").strip().upper()
        row_errors: dict[str, list[str]] = {}
        if not created:
            row_errors[symbol] = [str(error) for errors in form.errors.values() for error in errors]
            for error in row_errors[symbol]:
                messages.error(request, f"{symbol}: {error}")
        context = {
            **_base_context(request, project),
            **_positions_context(
                project,
                row_errors=row_errors,
                row_values={symbol: request.POST.get("quantity", "")},
                row_confirm={symbol} if form.needs_confirm else set(),
            ),
            **(_orders_context(project) if created else {}),
            "oob_orders": created,
        }
        return render(request, "orders/partials/positions_response.html", context, status=status)

    if created:
        keep = {
            key: form.cleaned_data.get(key)
            for key in ("symbol", "side", "quantity", "order_type", "limit_price")
        }
        form = _ticket_form(project, keep)
    context = {
        **(_base_context(request, project) if project else {"project": None}),
        **(_orders_context(project) if created and project else {}),
        "form": form,
        "oob_orders": created and project is not None,
    }
    return render(request, "orders/partials/ticket_response.html", context, status=status)


def _positions_action(request: HttpRequest, action: Callable[[Project], None]) -> HttpResponse:
    """Run a close / liquidate action and answer with the positions table and the orders."""
    project = _project_or_404(request, request.POST.get("project"))
    status = 200
    if not _live_confirmed(request, project):
        messages.error(request, _("LIVE project: type the project name to confirm."))
        status = 422
    else:
        try:
            action(project)
        except TradedeskError as exc:
            messages.error(request, translate_reason(exc.message))
            status = 422
    if not request.htmx:
        return HttpResponseRedirect(_page_url(project))
    context = {
        **_base_context(request, project),
        **_positions_context(project),
        **_orders_context(project),
        "oob_orders": True,
    }
    return render(request, "orders/partials/positions_response.html", context, status=status)


def _report_close(request: HttpRequest, created: list[TradeOrder], skipped: dict[str, str]) -> None:
    for order in created:
        messages.success(request, _placed_message(order, True))
    for symbol, reason in skipped.items():
        messages.warning(request, f"{symbol}: {translate_reason(reason)}")
    if not created and not skipped:
        messages.info(request, _("No open positions."))


@desk_view
@require_POST
def positions_close(request: HttpRequest) -> HttpResponse:
    """Close the given positions (one closing market order each)."""
    symbols = [symbol for symbol in request.POST.getlist("symbols") if symbol.strip()]

    def close(project: Project) -> None:
        if not symbols:
            raise TradedeskError(_("Select at least one position to close."))
        created, skipped = services.positions_close(
            project=project, symbols=symbols, user=request.user, actor=_actor(request)
        )
        _report_close(request, created, skipped)

    return _positions_action(request, close)


@desk_view
@require_POST
def positions_liquidate(request: HttpRequest) -> HttpResponse:
    """Close every non-zero position of the project."""

    def liquidate(project: Project) -> None:
        created, skipped = services.positions_liquidate(
            project=project, user=request.user, actor=_actor(request)
        )
        _report_close(request, created, skipped)

    return _positions_action(request, liquidate)


@desk_view
@require_POST
def trading_state(request: HttpRequest) -> HttpResponse:
    """ACTIVE / REDUCING / HALTED; HALTED is the kill switch and cancels the project's working orders."""
    project = _project_or_404(request, request.POST.get("project"))
    state = request.POST.get("state", "")
    status = 200
    if state == TradingState.ACTIVE and not _live_confirmed(request, project):
        messages.error(request, _("LIVE project: type the project name to confirm."))
        status = 422
    else:
        try:
            actor = _actor(request)
            project = services.project_set_trading_state(project=project, state=state, actor=actor)
            if project.trading_state == TradingState.HALTED:
                outcomes = orders_cancel_working(project=project, actor=actor)
                requested = sum(1 for outcome in outcomes.values() if outcome == "cancel requested")
                if outcomes:
                    messages.warning(
                        request,
                        _(
                            "Trading halted. Working orders: %(requested)s cancel requested, %(refused)s refused."
                        )
                        % {"requested": requested, "refused": len(outcomes) - requested},
                    )
                else:
                    messages.warning(request, _("Trading halted. No working orders to cancel."))
                for client_order_id, outcome in outcomes.items():
                    if outcome != "cancel requested":
                        messages.error(request, f"{client_order_id}: {outcome}")
            else:
                messages.success(
                    request, _("Trading state: %(state)s") % {"state": project.get_trading_state_display()}
                )
        except TradedeskError as exc:
            messages.error(request, translate_reason(exc.message))
            status = 422
    if not request.htmx:
        return HttpResponseRedirect(_page_url(project))
    return _render_poll(request, project, always_positions=True, status=status)


@desk_view
@require_POST
def order_cancel_view(request: HttpRequest, order_id: int) -> HttpResponse:
    """Cancel a working order (locally if it never left tradedesk, else a cancel command to its engine)."""
    order = _order_or_404(request, order_id)
    status = 200
    try:
        order_cancel(order=order, actor=_actor(request))
        messages.info(request, _("Cancel requested: %(order)s") % {"order": order.client_order_id})
    except TradedeskError as exc:
        messages.error(request, translate_reason(exc.message))
        status = 409
    if not request.htmx:
        return HttpResponseRedirect(_page_url(order.project_id))
    return _render_poll(request, order.project, always_positions=False, status=status)


@desk_view
@require_POST
def project_mode(request: HttpRequest) -> HttpResponse:
    """Switch the project between paper and live (LIVE needs orders.trade_live and the typed project name)."""
    project = _project_or_404(request, request.POST.get("project"))
    mode = request.POST.get("mode", "")
    if mode == Mode.LIVE and request.POST.get("confirm_name", "").strip() != project.name:
        messages.error(request, _("Switching to LIVE: type the project name to confirm."))
    else:
        try:
            project = services.project_set_mode(project=project, mode=mode, actor=_actor(request))
            messages.success(request, _("Mode: %(mode)s") % {"mode": project.get_mode_display()})
        except TradedeskError as exc:
            messages.error(request, translate_reason(exc.message))
    # The whole page depends on the mode (badge, positions, ticket): reload it.
    response = HttpResponseRedirect(_page_url(project))
    if request.htmx:
        response = HttpResponse(status=204, headers={"HX-Redirect": _page_url(project)})
    return response
