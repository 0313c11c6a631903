"""API authentication: a session (the browser, with CSRF) or `Authorization: Bearer <token>` (scripts)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from orders.services import api_token_authenticate


class BearerToken(HttpBearer):
    """A hashed API token from `manage.py create_api_token`."""

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
        super().__init__(csrf=True)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        """The session's user when logged in."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


api_auth = [BearerToken(), SessionAuth()]
