"""Reconciliation: the engine's holdings lines against tradedesk's ledger for that mode."""

from __future__ import annotations

import logging
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from execution.contract import HOLDINGS_PART_KEYS
from execution.models import HoldingsDiscrepancy, HoldingsPart
from orders import services
from orders.models import Position

logger = logging.getLogger("execution.ingest.reconcile")


class UnusableHoldings(Exception):
    """A holdings line breaks the contract: counted and kept with the batch's other bad lines, never logged
    on its own."""


# More parts than this is no engine's snapshot (10,000 lines of 1 MiB): the line is unusable.
MAX_PARTS = 10_000


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


def _drop_pending(mode: str, *, reason: str, keep: tuple[str, str] | None = None) -> None:
    """Forget the parts of the mode's incomplete snapshot (all but `keep`'s (run_id, snapshot)), logging why."""
    pending = HoldingsPart.objects.filter(mode=mode)
    if keep is not None:
        pending = pending.exclude(run_id=keep[0], snapshot=keep[1])
    dropped: dict[tuple[str, str], tuple[int, int]] = {}
    for run_id, snapshot, parts in pending.values_list("run_id", "snapshot", "parts"):
        received, _ = dropped.get((run_id, snapshot), (0, parts))
        dropped[(run_id, snapshot)] = (received + 1, parts)
    if not dropped:
        return
    pending.delete()
    for (run_id, snapshot), (received, parts) in sorted(dropped.items()):
        logger.warning(
            "incomplete holdings snapshot dropped",
            extra={
                "mode": mode,
                "run_id": run_id,
                "snapshot": snapshot,
                "parts_received": received,
                "parts": parts,
                "reason": reason,
            },
        )


def _part_numbers(line: dict[str, Any]) -> tuple[str, int, int] | None:
    """(snapshot, part, parts) of a part line, or None when they break the contract."""
    snapshot, part, parts = (line.get(key) for key in HOLDINGS_PART_KEYS)
    if isinstance(snapshot, bool) or not isinstance(snapshot, int | str) or snapshot == "":
        return None
    if type(part) is not int or type(parts) is not int:  # a bool is no part number
        return None
    if not 1 <= part <= parts <= MAX_PARTS or len(str(snapshot)) > 100:
        return None
    return str(snapshot), part, parts


def _whole_snapshot(line: dict[str, Any], *, mode: str, source: str) -> dict[str, Any] | None:
    """Keep one part; once every part of its snapshot is kept, the snapshot as a single line, else None.

    Parts are stored, not held in memory, because a snapshot's parts may be read by different ingest batches.
    """
    numbers = _part_numbers(line)
    run_id = str(line.get("run_id") or "")[:100]
    if numbers is None or _engine_quantities(line) is None:
        raise UnusableHoldings("holdings part not usable: its numbers or holdings break the contract")
    snapshot, part, parts = numbers
    _drop_pending(mode, reason="a later snapshot started", keep=(run_id, snapshot))
    kept = HoldingsPart.objects.filter(mode=mode, run_id=run_id, snapshot=snapshot)
    if kept.exclude(parts=parts).exists():
        # Parts that disagree on the count cannot be put together into one account.
        _drop_pending(mode, reason="its parts disagree on the number of parts")
        raise UnusableHoldings(
            f"holdings part not usable: snapshot {snapshot}'s parts disagree on their count"
        )
    HoldingsPart.objects.update_or_create(
        mode=mode, run_id=run_id, snapshot=snapshot, part=part, defaults={"parts": parts, "line": line}
    )
    lines = [row.line for row in kept.order_by("part")]
    if len(lines) < parts:
        return None
    kept.delete()
    whole = {key: value for key, value in lines[0].items() if key not in HOLDINGS_PART_KEYS}
    whole["holdings"] = [item for each in lines for item in each["holdings"]]
    return whole


def end_of_run(line: dict[str, Any], *, mode: str | None) -> None:
    """An engine's started or stopped line: the missing parts of a snapshot before it will never come."""
    if mode is not None:
        status = line.get("status")
        _drop_pending(mode, reason="a new run started" if status == "started" else "the run ended")


def record_holdings(line: dict[str, Any], *, source: str, mode: str | None) -> list[HoldingsDiscrepancy]:
    """Compare one holdings snapshot with the mode's ledger; keep a row per differing symbol, drop agreed ones.

    `mode` is the mode of the engine whose file the line is from (None: no engine's, nothing to compare).
    A part of a split snapshot is kept until the snapshot's last part arrives, which compares the whole.
    Raises UnusableHoldings for a line that breaks the contract (the batch counts it as a bad line)."""
    if mode is not None and any(key in line for key in HOLDINGS_PART_KEYS):
        whole = _whole_snapshot(line, mode=mode, source=source)
        if whole is None:
            return []
        line = whole
    elif mode is not None:
        _drop_pending(mode, reason="a later snapshot started")
    engine = _engine_quantities(line)
    if mode is None:
        raise UnusableHoldings("holdings line not usable: not in an engine's events file")
    if engine is None:
        raise UnusableHoldings("holdings line not usable: its holdings break the contract")
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
