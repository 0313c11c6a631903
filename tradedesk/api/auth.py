"""API authentication: a session (the browser, with CSRF) or `Authorization: Bearer <token>` (scripts)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from orders.doors import api_token_authenticate
from orders.errors import CsrfFailed


class BearerToken(HttpBearer):
    """A hashed API token from `manage.py create_api_token`; never subject to CSRF (no cookie is involved)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        """The token's user, set on the request, or None."""
        user = api_token_authenticate(raw=token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods need the CSRF token."""

    param_name = "sessionid"

    def __init__(self) -> None:
        # CSRF is checked in authenticate(), once a session user is found: a request with no session
        # (or a bad Bearer token) is a 401, not a 403 about a token it never needed.
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        """The session's user when logged in; CsrfFailed when an unsafe request lacks the token."""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.headers.get("Authorization"):
            # Credentials were sent and refused: the session must not quietly stand in for them.
            return None
        if check_csrf(request) is not None:
            raise CsrfFailed("CSRF token missing or incorrect")
        return user


api_auth = [BearerToken(), SessionAuth()]
