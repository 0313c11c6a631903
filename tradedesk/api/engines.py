"""Engine state API (`/api/trade/engines`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from execution.control import engine_restart
from execution.engines import MODES
from execution.models import HoldingsDiscrepancy
from execution.services import engines_check
from orders.errors import Forbidden, NotFound
from tradedesk.actors import actor_from_request
from tradedesk.api.auth import api_auth
from tradedesk.display import decimal_text


class DiscrepancyOut(Schema):
    """A symbol whose engine holdings disagree with the ledger."""

    symbol: str
    engine_quantity: str
    ledger_quantity: str
    first_seen_at: str
    last_seen_at: str


class EngineOut(Schema):
    """One mode's engine and its reconciliation flags."""

    mode: str
    state: str
    pid: int | None
    run_id: str
    started_at: str
    exit_code: int | None
    exited_at: str
    message: str
    log_tail: list[str]
    refused: str
    preflight: list[str]
    discrepancies: list[DiscrepancyOut]


router = Router(auth=api_auth, tags=["engines"])


@router.get("/engines", response=list[EngineOut])
def list_engines(request: HttpRequest) -> list[dict[str, Any]]:
    """Each mode's engine (running / stopped / error) and symbols whose holdings disagree."""
    by_mode: dict[str, list[dict[str, str]]] = {}
    for row in HoldingsDiscrepancy.objects.all():
        by_mode.setdefault(row.mode, []).append(
            {
                "symbol": row.symbol,
                "engine_quantity": decimal_text(row.engine_quantity),
                "ledger_quantity": decimal_text(row.ledger_quantity),
                "first_seen_at": row.first_seen_at.isoformat(),
                "last_seen_at": row.last_seen_at.isoformat(),
            }
        )
    return [{**state.as_dict(), "discrepancies": by_mode.get(state.mode, [])} for state in engines_check()]


@router.post("/engines/{mode}/restart", response=EngineOut)
def restart_engine(request: HttpRequest, mode: str) -> dict[str, Any]:
    """Staff: restart a mode's engine so it reloads IB's holdings (refused while any order works)."""
    if not getattr(request.user, "is_staff", False):
        raise Forbidden("only staff may restart an engine")
    if mode not in MODES:
        raise NotFound(f"no engine mode {mode!r}")
    state = engine_restart(mode=mode, actor=actor_from_request(request, channel="api"))
    return {**state.as_dict(), "discrepancies": []}
