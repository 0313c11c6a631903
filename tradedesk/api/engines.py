"""Engine state API (`/api/trade/engines`): staff see everything, traders their modes' state only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from execution.actions import engine_restart
from execution.models import EngineOpenOrder, HoldingsDiscrepancy
from execution.selectors import MODES, engines_overview
from orders.errors import Forbidden, NotFound
from tradedesk.actors import actor_from_request
from tradedesk.api.auth import api_auth
from tradedesk.api.schemas import Dec


class DiscrepancyOut(Schema):
    """A symbol whose engine holdings disagree with the ledger."""

    symbol: str
    engine_quantity: Dec
    ledger_quantity: Dec
    first_seen_at: str
    last_seen_at: str

    @staticmethod
    def resolve_first_seen_at(obj: HoldingsDiscrepancy) -> str:
        """ISO 8601."""
        return obj.first_seen_at.isoformat()

    @staticmethod
    def resolve_last_seen_at(obj: HoldingsDiscrepancy) -> str:
        """ISO 8601."""
        return obj.last_seen_at.isoformat()


class UnmatchedOpenOrderOut(Schema):
    """An order the running engine reloaded from the broker that belongs to no desk order, and why."""

    engine_order_id: int
    broker_ids: list[str]
    symbol: str
    side: str
    quantity: Dec
    order_type: str
    limit_price: Dec | None
    stop_price: Dec | None
    reason: str
    seen_at: str

    @staticmethod
    def resolve_seen_at(obj: EngineOpenOrder) -> str:
        """ISO 8601."""
        return obj.seen_at.isoformat()


class EngineOut(Schema):
    """One mode's engine. pid, run id, exit details, log tail, start refusals, preflight lines, file problems
    holdings and the unmatched reloaded orders are staff-only."""

    mode: str
    state: str
    since: str
    last_event_age_seconds: float | None
    pid: int | None = None
    run_id: str | None = None
    started_at: str | None = None
    exit_code: int | None = None
    exited_at: str | None = None
    message: str | None = None
    ended_by: str | None = Field(
        None, description='"brokerage": LEAN ended the run itself on a brokerage message (message says which)'
    )
    log_tail: list[str] | None = None
    refused: str | None = None
    preflight: list[str] | None = None
    events_file_problem: str | None = None
    discrepancies: list[DiscrepancyOut] | None = None
    unmatched_open_orders: list[UnmatchedOpenOrderOut] | None = None


router = Router(auth=api_auth, tags=["engines"])


@router.get("/engines", response=list[EngineOut])
def list_engines(request: HttpRequest) -> list[dict[str, Any]]:
    """Each visible mode's engine (running / stopped / error / not started) and how fresh its events are."""
    return engines_overview(user=request.user)


@router.post("/engines/{mode}/restart", response=EngineOut)
def restart_engine(request: HttpRequest, mode: str) -> dict[str, Any]:
    """Staff: restart a mode's engine so it reloads IB's holdings (refused while any order works)."""
    if not getattr(request.user, "is_staff", False):
        raise Forbidden("only staff may restart an engine")
    if mode not in MODES:
        raise NotFound(f"no engine mode {mode!r}")
    engine_restart(mode=mode, actor=actor_from_request(request, channel="api"))
    return next(row for row in engines_overview(user=request.user) if row["mode"] == mode)
