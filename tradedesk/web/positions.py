"""The live-trade page's position actions: close the ticked positions, liquidate the project."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from execution import actions
from orders.errors import TradedeskError
from orders.models import Project
from tradedesk.actors import actor_from_request
from tradedesk.web.access import (
    DeskRequest,
    desk_view,
    live_confirmed,
    page_url,
    project_or_404,
    refusal_status,
)
from tradedesk.web.presenters import base_context, order_placed_message, orders_context, positions_context
from tradedesk.web.reasons import translate_reason


def _positions_action(request: DeskRequest, action: Callable[[Project], None]) -> HttpResponse:
    """Run a close / liquidate action and answer with the positions table and the orders."""
    project = project_or_404(request, request.POST.get("project"))
    status = 200
    if not live_confirmed(request, project):
        messages.error(request, _("LIVE project: type the project name to confirm."))
        status = 422
    else:
        try:
            action(project)
        except TradedeskError as exc:
            messages.error(request, translate_reason(exc.message))
            status = refusal_status(exc)
    if not request.htmx:
        return HttpResponseRedirect(page_url(project))
    context = {
        **base_context(request, project),
        **positions_context(project),
        **orders_context(project),
        "oob_orders": True,
    }
    return render(request, "orders/partials/positions_response.html", context, status=status)


def _report_close(request: DeskRequest, result: actions.CloseResult) -> None:
    for order in result.orders:
        messages.success(request, order_placed_message(order, True))
    for symbol, reason in result.skipped.items():
        messages.warning(request, f"{symbol}: {translate_reason(reason)}")
    for symbol, warning in result.warnings.items():
        messages.warning(request, f"{symbol}: {translate_reason(warning)}")
    if not result.orders and not result.skipped:
        messages.info(request, _("No open positions."))


@desk_view
@require_POST
def positions_close(request: DeskRequest) -> HttpResponse:
    """Close the given positions (one closing market order each)."""
    symbols = [symbol for symbol in request.POST.getlist("symbols") if symbol.strip()]

    def close(project: Project) -> None:
        if not symbols:
            raise TradedeskError(_("Select at least one position to close."))
        result = actions.project_close_positions(
            project=project,
            symbols=symbols,
            user=request.user,
            actor=actor_from_request(request, channel="web"),
        )
        _report_close(request, result)

    return _positions_action(request, close)


@desk_view
@require_POST
def positions_liquidate(request: DeskRequest) -> HttpResponse:
    """Close every non-zero position of the project."""

    def liquidate(project: Project) -> None:
        result = actions.project_liquidate(
            project=project, user=request.user, actor=actor_from_request(request, channel="web")
        )
        _report_close(request, result)

    return _positions_action(request, liquidate)
