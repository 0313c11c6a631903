"""The API's one error shape, {detail, code, errors}, for responses no exception handler made."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid",
    429: "throttled",
}


def error_body(status: int, detail: str = "") -> dict[str, object]:
    """The JSON body of an error answer with this status."""
    code = CODES.get(status, "server_error" if status >= 500 else "error")
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = "error"
    return {"detail": detail or phrase, "code": code, "errors": {}}


def _has_shape(response: HttpResponse) -> bool:
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        data = json.loads(response.content)
    except (ValueError, AttributeError):
        return False
    return isinstance(data, dict) and {"detail", "code", "errors"} <= set(data)


class ApiErrorShapeMiddleware:
    """Under /api/, an error answer Django or ninja made itself (404 route, 405, 413, 500) becomes JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Pass through; rewrite a non-2xx /api/ answer that is not yet in the shape."""
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code < 400 or _has_shape(response):
            return response
        detail = ""
        if response.status_code == 405:
            detail = f"method {request.method} not allowed"
        shaped = JsonResponse(error_body(response.status_code, detail), status=response.status_code)
        if response.has_header("Allow"):
            shaped["Allow"] = response["Allow"]
        return shaped
