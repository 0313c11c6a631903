"""Who is acting, from a request: the one place the audit log's actor is built for every interface."""

from __future__ import annotations

from django.http import HttpRequest

from orders.doors import Actor


def actor_from_request(request: HttpRequest, *, channel: str) -> Actor:
    """The request's user and address, tagged with the interface (web, api, admin)."""
    return Actor(user=request.user, source_address=request.META.get("REMOTE_ADDR"), channel=channel)
