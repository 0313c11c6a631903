"""Reads of engine state for any interface: what each user may see of the engines of their modes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Max
from django.utils import timezone

from execution.account_view import AccountView, account_for_user, account_may_see, account_view
from execution.dispatch.sweep import engines_check
from execution.engine.state import MODES, engine_state
from execution.engine.universe import universe_symbols
from execution.ingest.day_pnl import DayPnl, project_day_pnl
from execution.ingest.files import events_file_problems
from execution.ingest.prices import positions_totals, positions_value
from execution.models import EngineOpenOrder, HoldingsDiscrepancy
from execution.retention import var_clean_blockers
from orders import selectors
from orders.models import ExecutionEvent, Project
from orders.selectors import SymbolSuggestion

# Reads the interfaces use, named here so that tradedesk imports execution only through the doors
# (execution.actions), these selectors and the models.
__all__ = [
    "MODES",
    "AccountView",
    "DayPnl",
    "account_for_user",
    "account_may_see",
    "account_view",
    "engine_state",
    "engines_overview",
    "events_file_problems",
    "holdings_discrepancies",
    "open_orders_unmatched",
    "positions_totals",
    "positions_value",
    "project_day_pnl",
    "symbol_completions",
    "var_clean_blockers",
]


def holdings_discrepancies() -> dict[str, list[HoldingsDiscrepancy]]:
    """Open disagreements between an engine's holdings and the ledger, by mode."""
    by_mode: dict[str, list[HoldingsDiscrepancy]] = {}
    for row in HoldingsDiscrepancy.objects.order_by("mode", "symbol"):
        by_mode.setdefault(row.mode, []).append(row)
    return by_mode


def open_orders_unmatched(*, mode: str, run_id: str) -> list[EngineOpenOrder]:
    """The orders a run reloaded from the broker that belong to no desk order (TWS...), with the reason."""
    if not run_id:
        return []
    return list(
        EngineOpenOrder.objects.filter(
            mode=mode, run_id=run_id, outcome=EngineOpenOrder.Outcome.UNMATCHED
        ).order_by("engine_order_id")[:200]
    )


def _last_event_at() -> dict[str, datetime]:
    return dict(
        ExecutionEvent.objects.values("order__mode")
        .annotate(at=Max("received_at"))
        .values_list("order__mode", "at")
    )


def engines_overview(*, user: Any) -> list[dict[str, Any]]:
    """Each visible mode's engine: state, since, last event age; pids, run ids, logs and holdings for staff.

    Non-staff see only the modes of their projects: one engine serves every project of its mode, so its log
    tail and holdings speak of other projects' orders.
    """
    staff = bool(getattr(user, "is_staff", False))
    modes = None if staff else set(selectors.projects_for_user(user=user).values_list("mode", flat=True))
    last = _last_event_at()
    now = timezone.now()
    problems = events_file_problems() if staff else {}
    discrepancies = holdings_discrepancies() if staff else {}
    overview = []
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
            row["unmatched_open_orders"] = open_orders_unmatched(mode=state.mode, run_id=state.run_id)
        overview.append(row)
    return overview


def symbol_completions(*, project: Project, prefix: str) -> list[SymbolSuggestion]:
    """Symbols for a project's ticket: its positions, its recent orders, then the simulator's universe."""
    return selectors.symbol_suggestions(project=project, prefix=prefix, universe=universe_symbols())
