"""Staff-only paths (in production the admin, its login form and the API docs are not public) and the time
zone times are shown in."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from orders.doors import time_zone_is_known, time_zone_remembered

# JSON for scripts: ISO-8601 UTC whatever the user's zone (date lookups stay in UTC too).
API_PREFIX = "/api/"


class StaffOnlyPathsMiddleware:
    """Anonymous visitors of TRADEDESK_STAFF_ONLY_PATHS go to the site's (throttled) login; non-staff get 404."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Pass staff and other paths through."""
        prefixes = tuple(settings.TRADEDESK_STAFF_ONLY_PATHS)
        if prefixes and request.path.startswith(prefixes):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not (user.is_active and user.is_staff):
                raise Http404
        return self.get_response(request)


SESSION_TIME_ZONE_KEY = "time_zone"


def time_zone_for(request: HttpRequest) -> str:
    """The zone of this request's user: the stored choice, else the setting."""
    # A full page load reads the table (a choice made in another browser applies at its next reload);
    # HTMX requests, the page's polls among them, use the session's copy.
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if user is None or not user.is_authenticated or session is None:
        return str(settings.TRADEDESK_TIME_ZONE)
    chosen = session.get(SESSION_TIME_ZONE_KEY)
    full_page = request.method == "GET" and request.headers.get("HX-Request") != "true"
    if full_page or not isinstance(chosen, str):
        stored = time_zone_remembered(user=user) or ""  # "": the user chose none
        if stored != chosen:
            session[SESSION_TIME_ZONE_KEY] = stored
        chosen = stored
    return chosen if chosen and time_zone_is_known(name=chosen) else str(settings.TRADEDESK_TIME_ZONE)


class TimeZoneMiddleware:
    """Show times in the user's zone (templates, the admin, its date filters); the API keeps UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Activate the zone for this request only (threads serve other users next)."""
        if request.path.startswith(API_PREFIX):
            return self.get_response(request)
        timezone.activate(zoneinfo.ZoneInfo(time_zone_for(request)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
