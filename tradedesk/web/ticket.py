"""The order ticket's helpers as the trader types: the order's value preview and the symbol options (HTMX parts
of the live-trade page; a normal request is sent to the page)."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET

from execution.selectors import symbol_completions
from orders import doors
from tradedesk.web.access import DeskRequest, desk_view, page_url, project_or_404
from tradedesk.web.forms import preview_input


@desk_view
@require_GET
def order_preview(request: DeskRequest) -> HttpResponse:
    """The value of the order being typed and its distance from the market (the ticket's and rows' preview)."""
    project = project_or_404(request, request.GET.get("project"))
    if not request.htmx:
        return HttpResponseRedirect(page_url(project))
    preview = doors.order_preview(project=project, **preview_input(request.GET))
    power = doors.buying_power_left(project=project) if preview.value is not None else None
    context = {
        "preview": preview,
        "buying_power": power,
        "buying_power_after": power - preview.value
        if power is not None and preview.value is not None
        else None,
    }
    return render(request, "orders/partials/order_preview.html", context)


@desk_view
@require_GET
def symbol_options(request: DeskRequest) -> HttpResponse:
    """The symbols the ticket offers for what is typed: the project's positions, recent orders, the universe."""
    project = project_or_404(request, request.GET.get("project"))
    if not request.htmx:
        return HttpResponseRedirect(page_url(project))
    suggestions = symbol_completions(project=project, prefix=str(request.GET.get("symbol", ""))[:32])
    return render(request, "orders/partials/symbol_options.html", {"suggestions": suggestions})
