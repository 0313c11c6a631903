"""Reconciliation: the engine's holdings lines against tradedesk's ledger for that mode."""

from __future__ import annotations

import logging
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from execution.models import HoldingsDiscrepancy
from orders import services
from orders.models import Mode, Position

logger = logging.getLogger("execution.reconcile")


def mode_of_events_file(source: str) -> str | None:
    """engines/<mode>/events.jsonl -> mode, else None."""
    path = Path(source)
    if path.parent.parent.name == "engines" and path.parent.name in Mode.values:
        return path.parent.name
    return None


def _engine_quantities(line: dict[str, Any]) -> dict[str, Decimal] | None:
    holdings = line.get("holdings")
    if not isinstance(holdings, list):
        return None
    quantities: dict[str, Decimal] = defaultdict(Decimal)
    for item in holdings:
        if not isinstance(item, dict) or not isinstance(item.get("symbol"), str):
            return None
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int | float):
            return None
        try:
            quantities[item["symbol"].upper()] += Decimal(
                repr(quantity) if isinstance(quantity, float) else quantity
            )
        except InvalidOperation:
            return None
    return dict(quantities)


def record_holdings(line: dict[str, Any], *, source: str) -> list[HoldingsDiscrepancy]:
    """Compare one holdings line with the mode's ledger; keep a row per differing symbol, drop agreed ones."""
    mode = mode_of_events_file(source)
    engine = _engine_quantities(line)
    if mode is None or engine is None:
        logger.warning("holdings line not usable", extra={"source": source})
        return []
    ledger = {
        row["symbol"]: row["total"] or Decimal(0)
        for row in Position.objects.filter(mode=mode).values("symbol").annotate(total=Sum("quantity"))
    }
    now = timezone.now()
    run_id = str(line.get("run_id") or "")[:100]
    flagged_before = set(HoldingsDiscrepancy.objects.filter(mode=mode).values_list("symbol", flat=True))
    differing: list[HoldingsDiscrepancy] = []
    for symbol in sorted(set(engine) | set(ledger)):
        engine_qty, ledger_qty = engine.get(symbol, Decimal(0)), ledger.get(symbol, Decimal(0))
        if engine_qty == ledger_qty:
            continue
        row, created = HoldingsDiscrepancy.objects.update_or_create(
            mode=mode,
            symbol=symbol[:15],
            defaults={
                "engine_quantity": engine_qty,
                "ledger_quantity": ledger_qty,
                "run_id": run_id,
                "last_seen_at": now,
            },
            create_defaults={
                "engine_quantity": engine_qty,
                "ledger_quantity": ledger_qty,
                "run_id": run_id,
                "first_seen_at": now,
                "last_seen_at": now,
            },
        )
        if created:
            logger.warning(
                "holdings differ from ledger",
                extra={"mode": mode, "symbol": symbol, "engine": str(engine_qty), "ledger": str(ledger_qty)},
            )
        differing.append(row)
    HoldingsDiscrepancy.objects.filter(mode=mode).exclude(symbol__in=[d.symbol for d in differing]).delete()
    if {d.symbol for d in differing} != flagged_before:
        # The page's header lists the flagged symbols: its poll version is the projects' counters.
        services.project_versions_bump_for_mode(mode)
    return differing
