"""The one NinjaAPI: mounts the app routers and maps domain errors to JSON once."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.parser import Parser

from orders.errors import BadRequest, TradedeskError
from tradedesk.api.engines import router as engines_router
from tradedesk.api.orders import router as orders_router
from tradedesk.api.renderers import ORJSONRenderer


class ObjectParser(Parser):
    """JSON bodies must be JSON objects."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        """The body as a dict, or BadRequest."""
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise BadRequest("the request body must be a JSON object")
        return data


api = NinjaAPI(
    title="tradedesk",
    version="1.0",
    urls_namespace="api",
    parser=ObjectParser(),
    renderer=ORJSONRenderer(),
    docs_url="/docs",
)
api.add_router("/trade/", orders_router)
api.add_router("/trade/", engines_router)


@api.exception_handler(TradedeskError)
def domain_error(request: HttpRequest, exc: TradedeskError) -> HttpResponse:
    """Every domain error becomes its status with {detail, code, errors}."""
    return api.create_response(request, exc.as_dict(), status=exc.status_code)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Schema errors as {detail, code, errors: {field: reason}}."""
    errors: dict[str, str] = {}
    for error in exc.errors:
        location = [
            str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query", "filters")
        ]
        errors[".".join(location) or "body"] = str(error.get("msg", "invalid"))
    first = next(iter(errors.items()), ("body", "invalid"))
    body = {"detail": f"{first[0]}: {first[1]}", "code": "invalid", "errors": errors}
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """401 with a JSON body, never a redirect to the login page."""
    body = {
        "detail": "authentication required: log in or send Authorization: Bearer <token>",
        "code": "unauthorized",
    }
    return api.create_response(request, body, status=401)
