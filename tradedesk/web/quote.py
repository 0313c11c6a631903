"""The ticket's quote: bid × ask of the typed symbol once it is a valid one (debounced on the page); a symbol
the engine does not price yet is asked for through the engine host's queue, and the part polls until the
quote arrives."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET

from execution import actions
from tradedesk.web.access import DeskRequest, desk_view, page_url, project_or_404

# While the quote is on its way the part asks again after this many seconds.
QUOTE_POLL_SECONDS = 1


@desk_view
@require_GET
def ticket_quote(request: DeskRequest) -> HttpResponse:
    """The symbol's bid × ask and last, or why there is none yet (asked / waiting / no engine / rate)."""
    project = project_or_404(request, request.GET.get("project"))
    if not request.htmx:
        return HttpResponseRedirect(page_url(project))
    symbol = str(request.GET.get("symbol") or "").strip().upper()[:32]
    answer = actions.quote_request(mode=project.mode, symbol=symbol, user_id=int(request.user.pk or 0))
    context = {
        "project": project,
        "answer": answer,
        "poll": answer.outcome in ("asked", "waiting"),
        "poll_seconds": QUOTE_POLL_SECONDS,
    }
    return render(request, "orders/partials/ticket_quote.html", context)
