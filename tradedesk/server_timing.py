"""A `Server-Timing` header with the time Django spent on a request (TRADEDESK_SERVER_TIMING): the browser's
Resource Timing then tells the server's own work from the wait in front of it (bench/screen.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ServerTimingMiddleware:
    """Adds `Server-Timing: app;dur=<ms>`, measured around the rest of the stack (on the view's thread)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Time the request; streamed answers (the push stream) get no header."""
        started = time.perf_counter()
        response = self.get_response(request)
        if not response.streaming:
            response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response
