"""The live-trade page (HTMX): thin views over the doors (execution.actions, orders.doors) and the selectors.

Every view answers an HTMX request with a partial and a normal request with the page (or a redirect to it).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from execution import actions
from execution.actions import (
    CANCEL_REQUESTED,
    ingest_before_read,
    order_cancel_request,
    project_set_mode,
    project_trading_state_change,
)
from orders import doors, selectors
from orders.doors import bounded_id
from orders.errors import Forbidden, NotFound, TradedeskError
from orders.models import (
    FINAL_STATUSES,
    Mode,
    Project,
    TradingState,
)
from tradedesk.actors import actor_from_request
from tradedesk.web.access import (
    SESSION_PROJECT_KEY,
    DeskRequest,
    desk_view,
    live_confirmed,
    order_or_404,
    page_url,
    pick_project,
    project_or_404,
    refusal_status,
)
from tradedesk.web.forms import OrderForm, translate_refusal
from tradedesk.web.presenters import (
    base_context,
    order_label,
    order_placed_message,
    orders_context,
    positions_context,
    render_page,
    render_poll,
    render_prices,
    ticket_form,
    timeline_context,
)
from tradedesk.web.reasons import translate_reason

# htmx stops polling an element that gets this status (the order timeline once the order is final).
STOP_POLLING = 286


def home(request: DeskRequest) -> HttpResponse:
    """The site root opens the live-trade page (keeping ?lang=)."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(reverse("live-trade") + (f"?{query}" if query else ""))


@desk_view
@require_GET
def live_trade(request: DeskRequest) -> HttpResponse:
    """The live-trade page of `?project=` (else the project used last, which the URL then names)."""
    projects = list(selectors.projects_for_user(user=request.user).order_by("name"))
    raw = request.GET.get("project")
    if raw in (None, ""):
        chosen = pick_project(request, projects)
        if chosen is None:
            return render(request, "orders/no_projects.html", {})
        return HttpResponseRedirect(page_url(chosen))
    try:
        project = next(p for p in projects if str(p.pk) == raw.strip())
    except StopIteration:
        raise Http404(_("Project not found")) from None
    if request.session.get(SESSION_PROJECT_KEY) != project.pk:
        request.session[SESSION_PROJECT_KEY] = project.pk
        doors.project_remember(user=request.user, project=project)
    detail = None
    if request.GET.get("order"):
        detail = order_or_404(request, request.GET["order"], project=project)
    return render_page(request, project, projects, detail=detail)


@desk_view
@require_GET
def orders_panel(request: DeskRequest) -> HttpResponse:
    """The orders table (polled every second): new engine events are ingested first."""
    project = project_or_404(request, request.GET.get("project"), with_counters=True)
    if not request.htmx:
        return HttpResponseRedirect(page_url(project))
    ingest_before_read()
    return render_poll(request, project, always_positions=False, polled=True)


@desk_view
@require_GET
def positions_prices(request: DeskRequest) -> HttpResponse:
    """The positions table again when the engine's prices changed (polled; 204 when nothing did)."""
    project = project_or_404(request, request.GET.get("project"))
    if not request.htmx:
        return HttpResponseRedirect(page_url(project))
    return render_prices(request, project)


@desk_view
@require_GET
def order_detail(request: DeskRequest, order_id: int) -> HttpResponse:
    """One order's timeline (its events and fills); polled while the order is working."""
    ingest_before_read()
    order = order_or_404(request, order_id)
    if not request.htmx:
        return HttpResponseRedirect(page_url(order.project_id, order=order.pk))
    final = order.status in FINAL_STATUSES
    context = timeline_context(order)
    polled = request.htmx.trigger == f"timeline-{order.pk}"
    return render(
        request,
        "orders/partials/order_detail.html",
        context,
        status=STOP_POLLING if polled and final else 200,
    )


@desk_view
@require_POST
def order_create(request: DeskRequest) -> HttpResponse:
    """Place an order from the ticket or a positions row (idempotent on the rendered client_order_id)."""
    origin = "row" if request.POST.get("origin") == "row" else "ticket"
    form = OrderForm(request.POST)
    try:
        project: Project | None = doors.project_for_user(
            user=request.user, project_id=bounded_id(request.POST.get("project"))
        )
    except NotFound:
        project = None
    created = False
    refusal = 422
    if form.is_valid() and project is None:
        form.add_error("project", _("unknown project"))
    elif form.is_valid() and project is not None:
        try:
            result = actions.create_trade_order(
                form.payload(project_id=project.pk, mode=project.mode),
                user=request.user,
                actor=actor_from_request(request, channel="web"),
                project=project,
            )
        except TradedeskError as exc:
            form.add_service_error(exc)
            refusal = refusal_status(exc)
        else:
            created = True
            messages.success(request, order_placed_message(result.order, result.created))
    status = 200 if created else refusal

    if not request.htmx:
        if created and project is not None:
            return HttpResponseRedirect(page_url(project))
        fallback = project or pick_project(request, list(selectors.projects_for_user(user=request.user)))
        if fallback is None:
            raise Http404(_("Project not found"))
        return render_page(request, fallback, form=form, status=status)

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
            **base_context(request, project),
            **positions_context(
                project,
                row_errors=row_errors,
                row_values={symbol: request.POST.get("quantity", "")},
                row_confirm={symbol} if form.needs_confirm else set(),
            ),
            **(orders_context(project) if created else {}),
            "oob_orders": created,
        }
        return render(request, "orders/partials/positions_response.html", context, status=status)

    if created:
        keep = {
            key: form.cleaned_data.get(key)
            for key in (
                "symbol",
                "side",
                "quantity",
                "order_type",
                "limit_price",
                "stop_price",
                "trailing_amount",
                "trailing_as_percent",
                "trigger_price",
            )
        }
        form = ticket_form(project, keep)
    context = {
        **(base_context(request, project) if project else {"project": None}),
        **(orders_context(project) if created and project else {}),
        "form": form,
        "oob_orders": created and project is not None,
    }
    return render(request, "orders/partials/ticket_response.html", context, status=status)


@desk_view
@require_POST
def trading_state(request: DeskRequest) -> HttpResponse:
    """ACTIVE / REDUCING / HALTED; HALTED is the kill switch and cancels the project's working orders."""
    project = project_or_404(request, request.POST.get("project"))
    state = request.POST.get("state", "")
    status = 200
    # Leaving HALTED or reduce-only adds risk: on LIVE the project name is typed (the service checks the right).
    toward_active = state == TradingState.ACTIVE or (
        state == TradingState.REDUCING and project.trading_state == TradingState.HALTED
    )
    if toward_active and not live_confirmed(request, project):
        messages.error(request, _("LIVE project: type the project name to confirm."))
        status = 422
    else:
        try:
            actor = actor_from_request(request, channel="web")
            project, outcomes = project_trading_state_change(project=project, state=state, actor=actor)
            if project.trading_state == TradingState.HALTED:
                requested = sum(1 for outcome in outcomes.values() if outcome == CANCEL_REQUESTED)
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
                refused = {key: outcome for key, outcome in outcomes.items() if outcome != CANCEL_REQUESTED}
                labels = {
                    order.client_order_id: order_label(order)
                    for order in selectors.orders_for_user(user=request.user, project_id=project.pk).filter(
                        client_order_id__in=list(refused)
                    )
                }
                for client_order_id, outcome in refused.items():
                    label = labels.get(client_order_id, client_order_id)
                    messages.error(request, f"{label}: {translate_reason(outcome)}")
            else:
                messages.success(
                    request, _("Trading state: %(state)s") % {"state": project.get_trading_state_display()}
                )
        except TradedeskError as exc:
            messages.error(request, translate_reason(exc.message))
            status = refusal_status(exc)
    if not request.htmx:
        return HttpResponseRedirect(page_url(project))
    return render_poll(request, project, always_positions=True, status=status)


@desk_view
@require_POST
def order_cancel(request: DeskRequest, order_id: int) -> HttpResponse:
    """Cancel a working order (locally if it never left tradedesk, else a request its engine host sends)."""
    order = order_or_404(request, order_id)
    status = 200
    try:
        result = order_cancel_request(order=order, actor=actor_from_request(request, channel="web"))
        if result.requested:
            messages.info(request, _("Cancel requested: %(order)s") % {"order": order_label(order)})
        else:
            messages.info(request, _("Canceled: %(order)s") % {"order": order_label(order)})
    except TradedeskError as exc:
        messages.error(request, translate_reason(exc.message))
        status = 409
    if not request.htmx:
        return HttpResponseRedirect(page_url(order.project_id))
    return render_poll(request, order.project, always_positions=False, status=status)


@desk_view
@require_POST
def order_modify(request: DeskRequest, order_id: int) -> HttpResponse:
    """Modify a working order inline (an update command to its engine; shown as pending until confirmed)."""
    order = order_or_404(request, order_id)
    status = 200
    try:
        actions.order_modify(
            order=order,
            quantity=request.POST.get("quantity") or None,
            limit_price=request.POST.get("limit_price") or None,
            stop_price=request.POST.get("stop_price") or None,
            trigger_price=request.POST.get("trigger_price") or None,
            trailing_amount=request.POST.get("trailing_amount") or None,
            user=request.user,
            actor=actor_from_request(request, channel="web"),
        )
        messages.info(request, _("Update requested: %(order)s") % {"order": order_label(order)})
    except TradedeskError as exc:
        messages.error(request, translate_refusal(exc))
        status = refusal_status(exc)
    if not request.htmx:
        return HttpResponseRedirect(page_url(order.project_id))
    return render_poll(request, order.project, always_positions=False, status=status)


@desk_view
@require_POST
def orders_cancel_all(request: DeskRequest) -> HttpResponse:
    """Cancel every working order of the project (the blotter's Cancel all, confirmed in the page)."""
    project = project_or_404(request, request.POST.get("project"))
    working = list(selectors.orders_working(project=project).order_by("id"))
    outcomes = actions.orders_cancel(orders=working, actor=actor_from_request(request, channel="web"))
    requested = sum(1 for outcome in outcomes.values() if outcome == CANCEL_REQUESTED)
    messages.info(request, _("Cancel requested for %(count)s working orders.") % {"count": requested})
    for order in working:
        outcome = outcomes.get(order.client_order_id)
        if outcome is not None and outcome != CANCEL_REQUESTED:
            messages.error(request, f"{order_label(order)}: {translate_reason(outcome)}")
    if not request.htmx:
        return HttpResponseRedirect(page_url(project))
    return render_poll(request, project, always_positions=False)


@desk_view
@require_POST
def project_mode(request: DeskRequest) -> HttpResponse:
    """Switch the project between paper and live (LIVE needs orders.trade_live and the typed project name)."""
    project = project_or_404(request, request.POST.get("project"))
    mode = request.POST.get("mode", "")
    if mode == Mode.LIVE and request.POST.get("confirm_name", "").strip() != project.name:
        messages.error(request, _("Switching to LIVE: type the project name to confirm."))
    else:
        try:
            project = project_set_mode(
                project=project, mode=mode, actor=actor_from_request(request, channel="web")
            )
            messages.success(request, _("Mode: %(mode)s") % {"mode": project.get_mode_display()})
        except Forbidden as exc:
            messages.error(request, translate_reason(exc.message))
            if request.htmx:
                return render_poll(request, project, always_positions=True, status=refusal_status(exc))
            return HttpResponseRedirect(page_url(project))
        except TradedeskError as exc:
            messages.error(request, translate_reason(exc.message))
    # The whole page depends on the mode (badge, positions, ticket): reload it.
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": page_url(project)})
    return HttpResponseRedirect(page_url(project))
