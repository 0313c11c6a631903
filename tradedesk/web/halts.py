"""The page's engine-wide halt control (staff): halt or resume every project of the project's mode."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from execution.actions import engine_halt_set
from orders.errors import TradedeskError
from tradedesk.actors import actor_from_request
from tradedesk.web.access import DeskRequest, desk_view, page_url, project_or_404, refusal_status
from tradedesk.web.reasons import translate_reason


@desk_view
@require_POST
def engine_halt(request: DeskRequest) -> HttpResponse:
    """Halt (with a reason) or resume the engine of the page's project's mode; the service checks staff."""
    project = project_or_404(request, request.POST.get("project"))
    halted = request.POST.get("halted", "") == "true"
    status = 200
    try:
        engine_halt_set(
            mode=project.mode,
            halted=halted,
            reason=request.POST.get("reason", ""),
            actor=actor_from_request(request, channel="web"),
        )
    except TradedeskError as exc:
        messages.error(request, translate_reason(exc.message))
        status = refusal_status(exc)
    else:
        mode = project.mode.upper()
        if halted:
            messages.warning(request, _("The %(mode)s engine is halted for all projects.") % {"mode": mode})
        else:
            messages.success(
                request, _("The %(mode)s engine is running for all projects again.") % {"mode": mode}
            )
    # Status, positions and ticket all change: reload the page (it shows the notices).
    if request.htmx:
        return HttpResponse(
            status=204 if status == 200 else status, headers={"HX-Redirect": page_url(project)}
        )
    return HttpResponseRedirect(page_url(project))
