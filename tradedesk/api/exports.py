"""Exports API (`/api/trade/fills`): the fills of the user's projects, streamed as CSV or JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema

from orders import doors, selectors
from orders.errors import OrderValidationError
from orders.exports import EXPORT_FORMATS, fills_export_chunks
from tradedesk.api.auth import api_auth
from tradedesk.api.schemas import ErrorOut

router = Router(auth=api_auth, tags=["exports"])
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


class FillExportFilters(Schema):
    """Which fills: a project (else every project of the user), filled_at in [since, until)."""

    project_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    format: str = "csv"


def _utc(value: datetime | None, *, field: str) -> datetime | None:
    """A time in UTC (one without a zone is UTC); a time UTC cannot hold is invalid input."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if timezone.is_naive(value) else value.astimezone(UTC)
    except OverflowError:
        raise OrderValidationError(f"{field} is out of range", errors={field: "out of range"}) from None


@router.get(
    "/fills",
    response={401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    openapi_extra={
        "responses": {
            200: {
                "description": "the fills, oldest first, with fee currency and engine ids",
                "content": {"text/csv": {}, "application/json": {}},
            }
        }
    },
)
def export_fills(request: HttpRequest, filters: Query[FillExportFilters]) -> StreamingHttpResponse:
    """Fills as CSV or JSON, streamed row by row (no whole table in memory)."""
    export_format = filters.format.lower()
    if export_format not in EXPORT_FORMATS:
        raise OrderValidationError("unknown format", errors={"format": "csv or json"})
    since, until = _utc(filters.since, field="since"), _utc(filters.until, field="until")
    if since is not None and until is not None and since >= until:
        raise OrderValidationError("since must be before until", errors={"until": "must be after since"})
    if filters.project_id is not None:
        doors.project_for_user(user=request.user, project_id=filters.project_id)
    fills = selectors.fills_for_user(
        user=request.user, project_id=filters.project_id, since=since, until=until
    )
    response = StreamingHttpResponse(
        fills_export_chunks(fills, export_format=export_format), content_type=CONTENT_TYPES[export_format]
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="fills-{stamp}.{export_format}"'
    return response
