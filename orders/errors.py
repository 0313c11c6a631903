"""Domain errors: one base class, each subclass carrying the HTTP status it maps to (tradedesk/api.py)."""

from __future__ import annotations


class TradedeskError(Exception):
    """Base of every error a caller may be shown."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    def as_dict(self) -> dict[str, object]:
        """The JSON body of this error: `errors` always present (empty when no field is to blame)."""
        return {"detail": self.message, "code": self.code, "errors": dict(self.errors)}


class BadRequest(TradedeskError):
    """The request is malformed (not a JSON object, say)."""


class OrderValidationError(TradedeskError):
    """An order field is invalid; `errors` maps field to reason."""

    status_code = 422
    code = "invalid"


class RiskRejected(TradedeskError):
    """A pre-trade risk check refused the order."""

    status_code = 422
    code = "risk_rejected"


class EngineHalted(RiskRejected):
    """Staff halted the mode's engine for every project: only orders that reduce a position pass."""

    code = "engine_halted"


class EngineDown(TradedeskError):
    """The mode's engine is known to be down and nothing would start it for this order (autostart off)."""

    status_code = 422
    code = "engine_down"


class NotFound(TradedeskError):
    """The object does not exist or belongs to someone else."""

    status_code = 404
    code = "not_found"


class Forbidden(TradedeskError):
    """The user may see the object but not do this to it."""

    status_code = 403
    code = "forbidden"


class Conflict(TradedeskError):
    """The request conflicts with what is stored (a client_order_id reused with another payload)."""

    status_code = 409
    code = "conflict"


class Unauthorized(TradedeskError):
    """No valid credentials (no session, a bad or revoked token)."""

    status_code = 401
    code = "unauthorized"


class CsrfFailed(TradedeskError):
    """A session request that changes state without the CSRF token."""

    status_code = 403
    code = "csrf_failed"


class PayloadTooLarge(TradedeskError):
    """The request body is larger than the configured cap."""

    status_code = 413
    code = "payload_too_large"


class ConfirmRequired(TradedeskError):
    """A check the user may override asked for confirmation; `checks` names it (send confirm to override)."""

    status_code = 422
    code = "confirm_required"

    def __init__(self, message: str, *, checks: list[str], errors: dict[str, str] | None = None) -> None:
        super().__init__(message, errors=errors or {"confirm": message})
        self.checks = list(checks)

    def as_dict(self) -> dict[str, object]:
        """The JSON body, with the checks that asked."""
        return {**super().as_dict(), "checks": self.checks}
