"""Staff-only paths: in production the admin (and its login form) and the API docs are not public."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse


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
