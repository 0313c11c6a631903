"""The API's one error shape, and the error answers every endpoint documents."""

from __future__ import annotations

from ninja import Field, Schema


class ErrorOut(Schema):
    """An error: a message, a code and, for invalid input, the reason per field.

    `confirm_required` (422) names the overridable `checks` that asked; send `confirm: true` to override."""

    detail: str
    code: str
    errors: dict[str, str] = Field(default_factory=dict, description="field -> reason; empty when none")
    checks: list[str] | None = Field(None, description="confirm_required: the checks that asked")


# The error answers every endpoint documents (one shape: ErrorOut).
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}
