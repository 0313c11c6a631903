"""Who may see what on the page: login and language for every view, the project and order of a request."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_htmx.middleware import HtmxDetails

from orders import doors, selectors
from orders.doors import bounded_id
from orders.errors import Conflict, Forbidden, NotFound, TradedeskError
from orders.models import (
    Mode,
    Position,
    Project,
    TradeOrder,
)

logger = logging.getLogger("tradedesk.web")

# Raised on to Django: its own answers (404, 403, 400) are no server fault.
_DJANGO_ANSWERS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation)


class DeskRequest(HttpRequest):
    """A request that passed django-htmx's middleware."""

    htmx: HtmxDetails


SESSION_PROJECT_KEY = "live_trade_project"


View = Callable[..., HttpResponse]


def activate_requested_language(request: DeskRequest) -> str | None:
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
    def wrapper(request: DeskRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.htmx:
                response = HttpResponse(status=401)
                response["HX-Redirect"] = f"{settings.LOGIN_URL}?{urlencode({'next': reverse('live-trade')})}"
                return response
            return redirect_to_login(request.get_full_path())
        language = activate_requested_language(request)
        if not request.htmx:
            response = view(request, *args, **kwargs)
        else:
            try:
                response = view(request, *args, **kwargs)
            except _DJANGO_ANSWERS:
                raise
            except Exception as exc:
                response = page_error(request, exc)
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


def page_error(request: DeskRequest, exc: Exception) -> HttpResponse:
    """A page partial's own error state (the API answers JSON): 503 while the database is unreachable, else
    500; the page shows it as not live (a poll) or as a notice (an action), never a Django error page."""
    unavailable = isinstance(exc, OperationalError | InterfaceError)
    logger.exception("page partial failed", extra={"path": request.path, "unavailable": unavailable})
    status = 503 if unavailable else 500
    if unavailable:
        message = _("The desk's database is not answering. Nothing is shown as live until it is back.")
    else:
        message = _("The server could not answer this request. The page tries again; reload if it persists.")
    response = render(
        request, "orders/partials/error.html", {"status": status, "message": message}, status=status
    )
    if unavailable:
        response["Retry-After"] = "2"
    return response


def project_or_404(request: DeskRequest, raw: Any, *, with_counters: bool = False) -> Project:
    """A project the user is a member of; unknown and someone else's look the same (404)."""
    try:
        # Bounded first: an id beyond the database's integer range would overflow in SQL.
        return doors.project_for_user(
            user=request.user, project_id=bounded_id(raw), with_counters=with_counters
        )
    except NotFound:
        raise Http404(_("Project not found")) from None


def pick_project(request: DeskRequest, projects: Sequence[Project]) -> Project | None:
    """The project used last, else the first one holding positions, else the first one."""
    if not projects:
        return None
    by_pk = {project.pk: project for project in projects}
    remembered = request.session.get(SESSION_PROJECT_KEY)
    if remembered not in by_pk:
        # A new session (another browser, a new login): the project this user opened last.
        remembered = doors.project_remembered(user=request.user)
    if remembered in by_pk:
        return by_pk[remembered]
    holding = set(
        Position.objects.filter(project_id__in=by_pk, mode=F("project__mode"))
        .exclude(quantity=0)
        .values_list("project_id", flat=True)
    )
    return next((project for project in projects if project.pk in holding), projects[0])


def page_url(project: Project | int, **extra: Any) -> str:
    pk = project if isinstance(project, int) else project.pk
    return f"{reverse('live-trade')}?{urlencode({'project': pk, **extra})}"


def order_or_404(request: DeskRequest, raw: Any, *, project: Project | None = None) -> TradeOrder:
    try:
        pk = bounded_id(raw)
        if pk is None:
            raise NotFound("order not found")
        order = selectors.order_for_user(user=request.user, order_id=pk)
    except NotFound:
        raise Http404(_("Order not found")) from None
    if project is not None and order.project_id != project.pk:
        raise Http404(_("Order not found"))
    return order


def refusal_status(exc: TradedeskError) -> int:
    """The page's one status for a refused action: a missing right 403, a state that conflicts 409 (as the
    API answers both), every other refusal 422 (the input, a risk rule, a confirmation asked for)."""
    return exc.status_code if isinstance(exc, Forbidden | Conflict) else 422


def live_confirmed(request: DeskRequest, project: Project) -> bool:
    """LIVE destructive actions need the project name typed in the confirmation dialog."""
    return project.mode != Mode.LIVE or request.POST.get("confirm_name", "").strip() == project.name
