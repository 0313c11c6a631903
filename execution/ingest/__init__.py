"""Engines' files -> the orders ledger: events files read safely (files), lines parsed against the contract
(lines), batches applied (events), rotation and replay (rotation), holdings reconciliation (reconcile) and
the prices snapshots (prices)."""

from execution.ingest.events import (
    apply_execution_events,
    ingest_before_read,
    ingest_execution_events,
    ingest_file,
)
from execution.ingest.files import events_file_problems, scanned_events_files
from execution.ingest.lines import IngestReport, parse_lines
from execution.ingest.prices import (
    PositionTotals,
    PriceSnapshot,
    fresh_market_price,
    positions_totals,
    positions_value,
    prices_snapshot,
)
from execution.ingest.reconcile import record_holdings
from execution.ingest.rotation import events_file_rotate, events_files_for_replay, events_replay

__all__ = [
    "IngestReport",
    "PositionTotals",
    "PriceSnapshot",
    "apply_execution_events",
    "events_file_problems",
    "events_file_rotate",
    "events_files_for_replay",
    "events_replay",
    "fresh_market_price",
    "ingest_before_read",
    "ingest_execution_events",
    "ingest_file",
    "parse_lines",
    "positions_totals",
    "positions_value",
    "prices_snapshot",
    "record_holdings",
    "scanned_events_files",
]
