"""The Server-Timing header: Django's own time on an answer, none on a streamed one."""

from __future__ import annotations

import re

from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from tradedesk.server_timing import ServerTimingMiddleware


def test_an_answer_names_the_time_django_spent_on_it() -> None:
    response = ServerTimingMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().get("/"))
    assert re.fullmatch(r"app;dur=\d+\.\d", response["Server-Timing"])


def test_a_streamed_answer_gets_no_header() -> None:
    middleware = ServerTimingMiddleware(lambda request: StreamingHttpResponse(iter([b"x"])))
    assert "Server-Timing" not in middleware(RequestFactory().get("/"))
