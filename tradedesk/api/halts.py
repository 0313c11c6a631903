"""Engine halts (`/api/trade/engines/halts`, `/engines/{mode}/halt`): staff halt or resume a whole mode."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Router

from execution.actions import engine_halt_set
from orders import doors
from orders.errors import NotFound
from orders.models import Mode
from tradedesk.actors import actor_from_request
from tradedesk.api.auth import api_auth
from tradedesk.api.schemas import ERRORS, EngineHaltIn, EngineHaltOut

router = Router(auth=api_auth, tags=["engine halts"])


@router.get("/engines/halts", response={200: list[EngineHaltOut], **ERRORS})
def list_engine_halts(request: HttpRequest) -> list[Any]:
    """Each mode's engine-wide halt (who halted it, when, why): what every trader of the mode is held to."""
    return [doors.engine_halt_get(mode=mode) for mode in Mode.values]


@router.post("/engines/{mode}/halt", response={200: EngineHaltOut, **ERRORS})
def set_engine_halt(
    request: HttpRequest, mode: Annotated[str, Path(pattern=r"^[a-z]{1,16}$")], payload: EngineHaltIn
) -> Any:
    """Staff (or orders.halt_engine): halt every project of the mode (only Close and Liquidate pass, cancels
    work) with a reason, or resume it (`halted: false`). Audited."""
    # Unknown modes are 404 like the engines' other routes, after the service's own staff check (403).
    if mode not in Mode.values and doors.engine_halt_permitted(user=request.user):
        raise NotFound(f"no engine mode {mode!r}")
    return engine_halt_set(
        mode=mode,
        halted=payload.halted,
        reason=payload.reason,
        actor=actor_from_request(request, channel="api"),
    )
