"""The page header's account strip: the IB login's cash, buying power and net liquidation (shared by every
project of the mode, so labelled as the account's), polled like the prices (204 while nothing changed)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from execution import actions
from execution.selectors import account_may_see, account_view, engine_state
from orders.errors import TradedeskError
from orders.models import Mode, Project
from tradedesk.actors import actor_from_request
from tradedesk.web.access import DeskRequest, desk_view, page_url, project_or_404, refusal_status
from tradedesk.web.reasons import translate_reason


def account_label(*, mode: str, account_id: str) -> str:
    """ "IB paper account DU1234567" (or "IB LIVE account U…"); the simulator's account says it is simulated."""
    if mode == Mode.LIVE:
        label = gettext("IB LIVE account %(account)s")
    else:
        label = gettext("IB paper account %(account)s")
    return label % {"account": account_id or gettext("(simulated)")}


def account_context(request: DeskRequest, project: Project) -> dict[str, Any]:
    """The strip's context: nothing of the account for a user who may not see it (a LIVE one without
    trade_live), and whether the mode's engine runs (stopped: prices are the last fills')."""
    engine = engine_state(project.mode)
    visible = account_may_see(user=request.user, mode=project.mode)
    view = account_view(mode=project.mode) if visible else None
    snapshot = view.snapshot if view is not None else None
    basis = "|".join(
        (
            str(visible),
            snapshot.version if snapshot else "",
            str(view.stale if view else ""),
            engine.state,
            str(request.user.is_staff),
        )
    )
    return {
        "account": view,
        "account_snapshot": snapshot,
        "account_label": account_label(mode=project.mode, account_id=view.account_id if view else ""),
        "account_version": hashlib.sha256(basis.encode()).hexdigest()[:16],
        "account_engine": engine,
        "account_poll_seconds": settings.TRADEDESK_PRICES_INTERVAL,
    }


@desk_view
@require_GET
def account_strip(request: DeskRequest) -> HttpResponse:
    """The account strip again when the account snapshot or the engine's state changed (`v`), else 204."""
    project = project_or_404(request, request.GET.get("project"))
    if not request.htmx:
        return HttpResponseRedirect(page_url(project))
    context = {"project": project, **account_context(request, project)}
    if context["account_version"] == request.GET.get("v"):
        return HttpResponse(status=204)
    return render(request, "orders/partials/account.html", context)


@desk_view
@require_POST
def engine_start(request: DeskRequest) -> HttpResponse:
    """Staff: start the project's mode's engine (the engine command's start, audited); answers the strip."""
    project = project_or_404(request, request.POST.get("project"))
    if not request.user.is_staff:
        raise PermissionDenied
    status = 200
    try:
        actions.engine_start_requested(mode=project.mode, actor=actor_from_request(request, channel="web"))
    except TradedeskError as exc:
        messages.error(request, translate_reason(exc.message))
        status = refusal_status(exc)
    if not request.htmx:
        return HttpResponseRedirect(page_url(project))
    context = {"project": project, **account_context(request, project)}
    return render(request, "orders/partials/account_response.html", context, status=status)
