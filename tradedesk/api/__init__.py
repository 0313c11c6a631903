"""The one NinjaAPI: mounts the app routers and maps every error to {detail, code, errors} once."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from orders.errors import BadRequest, PayloadTooLarge, TradedeskError, Unauthorized
from tradedesk.api.account import router as account_router
from tradedesk.api.engines import router as engines_router
from tradedesk.api.errors import error_body
from tradedesk.api.exports import router as exports_router
from tradedesk.api.halts import router as halts_router
from tradedesk.api.orders import router as orders_router
from tradedesk.api.positions import router as positions_router
from tradedesk.api.projects import router as projects_router
from tradedesk.api.renderers import ORJSONRenderer


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


class ObjectParser(Parser):
    """JSON bodies must be JSON objects; decimals stay exact and NaN/Infinity are refused."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        """The body as a dict, or BadRequest."""
        data = json.loads(request.body, parse_float=Decimal, parse_constant=_refuse_constant)
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
api.add_router("/trade/", positions_router)
api.add_router("/trade/", projects_router)
api.add_router("/trade/", halts_router)
api.add_router("/trade/", engines_router)
api.add_router("/trade/", exports_router)
api.add_router("/trade/", account_router)


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
        reason = str(error.get("msg", "invalid"))
        if error.get("type") == "extra_forbidden":
            reason = "unknown field"
        errors[".".join(location) or "body"] = reason
    first = next(iter(errors.items()), ("body", "invalid"))
    body = {"detail": f"{first[0]}: {first[1]}", "code": "invalid", "errors": errors}
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """401 with a JSON body, never a redirect to the login page."""
    error = Unauthorized("authentication required: log in or send Authorization: Bearer <token>")
    return domain_error(request, error)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """ninja's own refusals (a body that is not JSON, say) in the same shape."""
    if isinstance(exc.__cause__, TradedeskError):
        return domain_error(request, exc.__cause__)
    return api.create_response(request, error_body(exc.status_code, str(exc)), status=exc.status_code)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    """404 in the same shape."""
    return api.create_response(request, error_body(404, "not found"), status=404)


@api.exception_handler(RequestDataTooBig)
def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413, nothing read."""
    return domain_error(request, PayloadTooLarge("the request body is too large"))
