"""Load-balancer health check and Prometheus metrics (`/healthz`, `/metrics`)."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from execution.metrics import scrape_registry


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when this web process answers and the database does, else 503; no details, no auth.

    Engines, the broker and beat are left out on purpose: a down engine or an idle simulator that exited
    must not take the page (and its kill switch) out of the load balancer. They are in /metrics.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return HttpResponse("unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def _basic_auth_staff(request: HttpRequest) -> bool:
    """True when the request carries HTTP basic credentials of an active staff user."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        username, sep, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    if not sep:
        return False
    user = authenticate(request, username=username, password=password)
    return user is not None and user.is_active and user.is_staff


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; TRADEDESK_METRICS_ACCESS=staff wants a staff session or basic auth."""
    if settings.TRADEDESK_METRICS_ACCESS != "open":
        user = getattr(request, "user", None)
        session_staff = user is not None and user.is_authenticated and user.is_staff
        if not session_staff and not _basic_auth_staff(request):
            response = HttpResponse("authentication required\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Basic realm="tradedesk metrics", charset="UTF-8"'
            return response
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
