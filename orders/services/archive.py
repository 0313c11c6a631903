"""Retention by month: the engine events of closed orders and the audit log, moved into the archive tables.

The books (orders, fills, positions) are never archived. An engine event moves only when its order is closed
(FILLED, CANCELED, REJECTED) with no modify pending: nothing applies to such an order any more, and the
ingest's exactly-once holds across both tables (the ledger counts a key stored in the archive as a
duplicate: orders.db.bulk archived_event_keys). Unmatched events stay for review. The timeline reads both tables as one
(orders.selectors.order_events); the audit admin lists the archive beside the log.

The events table has no index on received_at (every ingest insert would pay for one): the archive walks it in
primary-key chunks up to the last id at its start, one transaction per chunk that has rows before the bound
(a chunk with none costs one index range read). The audit log is walked by its `at` index. On PostgreSQL a chunk is one `WITH moved AS (DELETE ... RETURNING) INSERT` statement (one
snapshot: what is deleted is exactly what is archived); on SQLite (one writer at a time) an INSERT ... SELECT
and the DELETE of the ids it archived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from orders.models import (
    CLOSED_STATUSES,
    ArchivedAuditLog,
    ArchivedExecutionEvent,
    AuditLog,
    ExecutionEvent,
    TradeOrder,
)

# Rows per transaction: a chunk locks its orders and moves at most this many ids' rows.
CHUNK_IDS = 20_000


@dataclass
class ArchiveReport:
    """What one archive run moved."""

    before: datetime
    events: int = 0
    audit: int = 0
    chunks: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"before": self.before.isoformat(), "events": self.events, "audit": self.audit,
                "chunks": self.chunks}  # fmt: skip


def month_start(*, keep_months: int, now: datetime | None = None) -> datetime:
    """The first instant (UTC) of the month `keep_months` whole months before the current one."""
    now = (now or timezone.now()).astimezone(UTC)
    index = now.year * 12 + now.month - 1 - keep_months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _columns(model: type) -> list[str]:
    return [field.column for field in model._meta.concrete_fields]  # type: ignore[attr-defined]


def _quoted(names: list[str]) -> str:
    return ", ".join(connection.ops.quote_name(name) for name in names)


def _events_chunk(low: int, high: int, before: datetime) -> int:
    """Move the chunk's events of closed orders received before `before`; returns the rows moved."""
    events, archive = ExecutionEvent._meta.db_table, ArchivedExecutionEvent._meta.db_table
    orders = TradeOrder._meta.db_table
    columns = _quoted(_columns(ExecutionEvent))
    closed = sorted(CLOSED_STATUSES)
    marks = ", ".join(["%s"] * len(closed))
    # The orders whose events move, locked in id order as the ingest locks them before it stores their
    # events: an ingest of the same orders waits for this chunk, and its insert then sees the archived keys.
    moving = ExecutionEvent.objects.filter(id__range=(low, high), received_at__lt=before).values("order_id")
    locked = list(
        TradeOrder.objects.select_for_update()
        .filter(pk__in=moving, status__in=closed, update_pending=False)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not locked:
        return 0
    params: list[Any]
    if connection.vendor == "postgresql":
        # Exactly the locked orders: one closed after the lock was taken waits for the next run.
        where = "e.id BETWEEN %s AND %s AND e.received_at < %s AND e.order_id = ANY(%s)"
        params = [low, high, before, locked]
    else:  # SQLite has one writer at a time: nothing closes or ingests meanwhile
        where = (
            f"e.id BETWEEN %s AND %s AND e.received_at < %s AND e.order_id IN "
            f"(SELECT o.id FROM {orders} o WHERE o.status IN ({marks}) AND NOT o.update_pending)"
        )
        params = [low, high, before, *closed]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH moved AS (DELETE FROM {events} e WHERE {where} RETURNING {columns}) "
                f"INSERT INTO {archive} ({columns}) SELECT {columns} FROM moved",
                params,
            )
            return int(cursor.rowcount)
        cursor.execute(
            f"INSERT INTO {archive} ({columns}) SELECT {columns} FROM {events} e WHERE {where}", params
        )
        moved = int(cursor.rowcount)
        cursor.execute(
            f"DELETE FROM {events} WHERE id BETWEEN %s AND %s AND id IN "
            f"(SELECT id FROM {archive} WHERE id BETWEEN %s AND %s)",
            [low, high, low, high],
        )
    return moved


def _audit_chunk(before: datetime) -> int:
    """Move the oldest CHUNK_IDS audit entries made before `before`; returns the rows moved."""
    log, archive = AuditLog._meta.db_table, ArchivedAuditLog._meta.db_table
    columns = _quoted(_columns(AuditLog))
    oldest = f"SELECT id FROM {log} WHERE at < %s ORDER BY at, id LIMIT {CHUNK_IDS}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH moved AS (DELETE FROM {log} WHERE id IN ({oldest}) RETURNING {columns}) "
                f"INSERT INTO {archive} ({columns}) SELECT {columns} FROM moved",
                [before],
            )
            return int(cursor.rowcount)
        cursor.execute(f"SELECT id FROM {log} WHERE at < %s ORDER BY at, id LIMIT {CHUNK_IDS}", [before])
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0
        low, high = min(ids), max(ids)
        cursor.execute(
            f"INSERT INTO {archive} ({columns}) SELECT {columns} FROM {log} "
            f"WHERE id BETWEEN %s AND %s AND at < %s",
            [low, high, before],
        )
        moved = int(cursor.rowcount)
        cursor.execute(
            f"DELETE FROM {log} WHERE id BETWEEN %s AND %s AND id IN "
            f"(SELECT id FROM {archive} WHERE id BETWEEN %s AND %s)",
            [low, high, low, high],
        )
    return moved


def history_archive(*, before: datetime) -> ArchiveReport:
    """Move closed orders' events received before `before` (a month's first instant) and the audit entries made
    before it into the archive tables, a transaction per chunk; returns what moved."""
    if before.tzinfo is None or before.astimezone(UTC) != month_start(keep_months=0, now=before):
        raise ValueError("the archive's bound is the first instant of a month (UTC)")
    report = ArchiveReport(before=before)
    bounds = ExecutionEvent.objects.order_by().values_list("id", flat=True)
    first, last = bounds.order_by("id").first(), bounds.order_by("-id").first()
    low = first or 0
    while first is not None and last is not None and low <= last:
        high = low + CHUNK_IDS - 1
        received = ExecutionEvent.objects.filter(id__range=(low, high)).order_by("received_at")
        oldest = received.values_list("received_at", flat=True).first()
        # Every chunk up to the last id at the start, one index range each: ids grow with received_at for the
        # ingest's rows, but not for rows loaded otherwise (a restore, a bulk load), so no early stop.
        if oldest is not None and oldest < before:
            with transaction.atomic():
                report.events += _events_chunk(low, high, before)
            report.chunks += 1
        low = high + 1
    while True:
        with transaction.atomic():
            moved = _audit_chunk(before)
        report.audit += moved
        if not moved:
            break
        report.chunks += 1
    if connection.vendor == "postgresql" and (report.events or report.audit):
        # The ledger probes the archive's key index: the planner must know the archive's size.
        with connection.cursor() as cursor:
            cursor.execute(
                f"ANALYZE {ArchivedExecutionEvent._meta.db_table}, {ArchivedAuditLog._meta.db_table}"
            )
    return report
