"""Engine state API (`/api/trade/engines`): staff see everything, traders their modes' state only."""

from __future__ import annotations

from typing import Any

from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from execution.events import events_file_problems
from execution.models import HoldingsDiscrepancy
from execution.services import engines_check
from orders import selectors
from orders.models import ExecutionEvent
from tradedesk.api.auth import api_auth


class DiscrepancyOut(Schema):
    """A symbol whose engine holdings disagree with the ledger."""

    symbol: str
    engine_quantity: str
    ledger_quantity: str
    first_seen_at: str
    last_seen_at: str


class EngineOut(Schema):
    """One mode's engine. pid, run id, exit details, log tail, file problems and holdings are staff-only."""

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
    log_tail: list[str] | None = None
    events_file_problem: str | None = None
    discrepancies: list[DiscrepancyOut] | None = None


router = Router(auth=api_auth, tags=["engines"])


def _discrepancies() -> dict[str, list[dict[str, str]]]:
    by_mode: dict[str, list[dict[str, str]]] = {}
    for row in HoldingsDiscrepancy.objects.all():
        by_mode.setdefault(row.mode, []).append(
            {
                "symbol": row.symbol,
                "engine_quantity": format(row.engine_quantity.normalize(), "f"),
                "ledger_quantity": format(row.ledger_quantity.normalize(), "f"),
                "first_seen_at": row.first_seen_at.isoformat(),
                "last_seen_at": row.last_seen_at.isoformat(),
            }
        )
    return by_mode


@router.get("/engines", response=list[EngineOut])
def list_engines(request: HttpRequest) -> list[dict[str, Any]]:
    """Each visible mode's engine (running / stopped / error / not started) and how fresh its events are."""
    staff = bool(getattr(request.user, "is_staff", False))
    modes = (
        None if staff else set(selectors.projects_for_user(user=request.user).values_list("mode", flat=True))
    )
    last = dict(
        ExecutionEvent.objects.values("order__mode")
        .annotate(at=Max("received_at"))
        .values_list("order__mode", "at")
    )
    now = timezone.now()
    problems = events_file_problems() if staff else {}
    discrepancies = _discrepancies() if staff else {}
    answer = []
    for state in engines_check():
        if modes is not None and state.mode not in modes:
            continue
        at = last.get(state.mode)
        row: dict[str, Any] = {
            "mode": state.mode,
            "state": state.state,
            "since": state.exited_at if state.state in ("stopped", "error") else state.started_at,
            "last_event_age_seconds": round((now - at).total_seconds(), 3) if at else None,
        }
        if staff:
            row.update(state.as_dict())
            row["events_file_problem"] = problems.get(state.mode)
            row["discrepancies"] = discrepancies.get(state.mode, [])
        answer.append(row)
    return answer
