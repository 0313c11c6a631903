"""A parsed batch applied in one transaction: its events to the ledger, its engine and holdings lines after."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from execution.ingest import reconcile, reopen
from execution.ingest.files import EXCERPT_BYTES
from execution.ingest.lines import BadLine, IngestReport, ParsedBatch, log_batch
from execution.ingest.records import record_bad_lines, stages_record
from orders.services import apply_engine_events


def apply_parsed(batch: ParsedBatch, *, source: str, mode: str | None = None) -> IngestReport:
    """Apply a parsed batch (in the caller's transaction), segment by segment, and fold in the results.

    With `mode`, tags match only orders of that mode (the batch came from that mode's engine)."""
    report = batch.report
    for index, (events, holdings) in enumerate(batch.segments):
        if events:
            reopen.untagged_resolve(events, mode=mode)
            result = apply_engine_events(events, source=source, mode=mode)
            if result.applied:
                stages_record(events, ids=result.order_ids)
            report.applied += result.applied
            report.duplicates += result.duplicates
            report.unmatched += result.unmatched
            report.ignored += result.ignored
            report.fills += result.fills
            report.orders_changed |= result.orders_changed
        if holdings is not None and holdings.get("type") == "open_orders":
            try:
                reopen.record_open_orders(holdings, mode=mode)
            except BadLine as exc:
                line, raw = batch.holdings_lines.get(index, (0, b""))
                batch.refuse(line=line, reason=str(exc), raw=raw or repr(holdings)[:EXCERPT_BYTES].encode())
        elif holdings is not None and holdings.get("type") == "holdings":
            try:
                reconcile.record_holdings(holdings, source=source, mode=mode)
            except reconcile.UnusableHoldings as exc:
                line, raw = batch.holdings_lines.get(index, (0, b""))
                batch.refuse(line=line, reason=str(exc), raw=raw or repr(holdings).encode())
        elif holdings is not None:
            reconcile.end_of_run(holdings, mode=mode)
    return report


def apply_execution_events(
    events: list[dict[str, Any]],
    *,
    source: str = "api",
    mode: str | None = None,
    parsed: ParsedBatch | None = None,
) -> IngestReport:
    """Apply event dicts (as an engine writes them, one per line): identity and dedupe exactly as for a file.

    Tags match by tag alone, or only orders of `mode` when given. The ingest hands every batch of a file here
    (the decoded lines as `events`, with the batch it already parsed from their bytes as `parsed`); it stores
    its bad lines and logs once per chunk itself."""
    batch = parsed
    if batch is None:
        batch = ParsedBatch()
        for number, event in enumerate(events, start=1):
            batch.report.lines_read += 1
            batch.add(event, source=source, line=number, raw=repr(event)[:EXCERPT_BYTES].encode())
    with transaction.atomic():
        report = apply_parsed(batch, source=source, mode=mode)
        if parsed is None:
            record_bad_lines([(None, reason, raw) for _, reason, raw in batch.bad_lines], source=source)
    if parsed is None:
        log_batch(report, source=source)
    return report
