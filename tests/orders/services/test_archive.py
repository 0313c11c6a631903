"""Retention by month (issue 22): old months of closed orders' events and of the audit log move to the archive
tables; the timeline and the audit read the same rows, and the ingest stays exactly-once across both tables."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from execution.ingest.events import apply_execution_events
from orders import selectors
from orders.models import (
    ArchivedAuditLog,
    ArchivedExecutionEvent,
    AuditLog,
    ExecutionEvent,
    Position,
    TradeFill,
    TradeOrder,
)
from orders.services import Actor, audit_record
from orders.services.archive import history_archive, month_start
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory
from tests.orders.services.test_ledger import order_lines

OLD = datetime(2026, 1, 15, 12, tzinfo=UTC)
BEFORE = datetime(2026, 2, 1, tzinfo=UTC)
ORDERS = 80  # 80 x 5-6 events: past the COPY threshold (256 rows) of the events insert


def desk(count: int = ORDERS) -> tuple[list[TradeOrder], list[dict[str, Any]]]:
    """`count` orders, their events applied (even: FILLED, odd: CANCELED) and received in January."""
    project = ProjectFactory(name="archive")
    orders = [
        TradeOrderFactory(project=project, client_order_id=f"oi_bulk_{i}", symbol=f"S{i % 3}",
                          side="BUY", quantity=Decimal(100))
        for i in range(count)
    ]  # fmt: skip
    events = [json.loads(line) for i in range(count) for line in order_lines(i)]
    report = apply_execution_events(events, source="test")
    assert report.applied == len(events)
    ExecutionEvent.objects.update(received_at=OLD)
    return orders, events


def books() -> tuple[Any, ...]:
    """Everything the desk keeps for ever: orders, fills, positions."""
    return (
        sorted(TradeOrder.objects.values_list("id", "status", "filled_quantity", "fees", "status_ts")),
        sorted(TradeFill.objects.values_list("id", "event_key", "quantity", "price")),
        sorted(Position.objects.values_list("symbol", "quantity", "avg_cost", "realized_pnl")),
    )


def timeline(order: TradeOrder) -> list[tuple[Any, ...]]:
    return [
        (e.id, e.event_key, e.status, e.event_time, e.filled, e.fill_price, e.outcome, e.payload)
        for e in selectors.order_events(order=order)
    ]


@pytest.mark.django_db
def test_old_months_of_closed_orders_move_and_the_timeline_reads_them_as_before() -> None:
    orders, events = desk()
    working = TradeOrderFactory(project=orders[0].project, client_order_id="oi_working", quantity=Decimal(5))
    apply_execution_events([{"tag": "oi_working", "status": "Submitted", "order_id": 900, "event_id": 1,
                             "run_id": "r-bulk", "time": "2026-01-15T10:00:00Z"}], source="test")  # fmt: skip
    apply_execution_events([{"tag": "oi_nobody", "status": "Submitted", "order_id": 901, "event_id": 1,
                             "run_id": "r-bulk", "time": "2026-01-15T10:00:00Z"}], source="test")  # fmt: skip
    ExecutionEvent.objects.update(received_at=OLD)
    recent = orders[0]
    apply_execution_events([{"tag": recent.client_order_id, "status": "Filled", "order_id": 1, "event_id": 99,
                             "run_id": "r-bulk", "time": "2026-03-01T10:00:00Z"}], source="test")  # fmt: skip
    timelines = {order.pk: timeline(order) for order in [*orders, working]}
    stored = books()

    report = history_archive(before=BEFORE)

    assert report.events == len(events)
    assert ArchivedExecutionEvent.objects.count() == len(events)
    # Kept: the working order's event, the unmatched one (for review), the closed order's March event.
    kept = set(ExecutionEvent.objects.values_list("tag", "outcome"))
    assert kept == {
        ("oi_working", "applied"),
        ("oi_nobody", "unmatched"),
        (recent.client_order_id, "applied"),
    }
    assert {order.pk: timeline(order) for order in [*orders, working]} == timelines
    assert books() == stored
    assert history_archive(before=BEFORE).events == 0  # a second run finds nothing more


@pytest.mark.django_db
@pytest.mark.parametrize("batch", [5, 1000], ids=["arrays", "copy"])
def test_a_replay_after_the_archive_stores_and_applies_nothing(batch: int) -> None:
    _, events = desk()
    history_archive(before=BEFORE)
    stored = books()
    replayed = [
        apply_execution_events(events[n : n + batch], source="test") for n in range(0, len(events), batch)
    ]
    assert sum(r.applied for r in replayed) == 0
    assert sum(r.duplicates for r in replayed) == len(events)
    assert ExecutionEvent.objects.count() == 0 and ArchivedExecutionEvent.objects.count() == len(events)
    assert books() == stored


@pytest.mark.django_db
def test_the_audit_log_moves_by_month_with_every_column() -> None:
    user = UserFactory(username="auditor")
    project = ProjectFactory(name="audited")
    order = TradeOrderFactory(project=project)
    old = [audit_record(actor=Actor(user=user, source_address="10.0.0.1", channel="web"), action="order.create",
                        project=project, order=order, detail={"n": n}) for n in range(3)]  # fmt: skip
    AuditLog.objects.filter(pk__in=[entry.pk for entry in old]).update(at=OLD)
    new = audit_record(actor=Actor(user=user), action="order.cancel", project=project, order=order)
    columns = ("id", "at", "user_id", "username", "action", "source_address", "channel", "project_id",
               "order_id", "detail")  # fmt: skip
    expected = sorted(AuditLog.objects.filter(at__lt=BEFORE).values_list(*columns))

    report = history_archive(before=BEFORE)

    assert report.audit == 3
    assert sorted(ArchivedAuditLog.objects.values_list(*columns)) == expected
    assert list(AuditLog.objects.values_list("id", flat=True)) == [new.pk]
    with pytest.raises(ValueError):
        ArchivedAuditLog.objects.get(pk=old[0].pk).delete()


def test_the_bound_is_a_month_start() -> None:
    assert month_start(keep_months=3, now=datetime(2026, 2, 10, tzinfo=UTC)) == datetime(
        2025, 11, 1, tzinfo=UTC
    )
    assert month_start(keep_months=0, now=datetime(2026, 12, 31, 23, tzinfo=UTC)) == datetime(2026, 12, 1,
                                                                                              tzinfo=UTC)  # fmt: skip
    with pytest.raises(ValueError):
        history_archive(before=datetime(2026, 2, 2, tzinfo=UTC))


@pytest.mark.django_db
def test_the_command_archives_before_the_month_named_or_kept() -> None:
    _, events = desk(4)
    out = io.StringIO()
    call_command("history_archive", "--before", "2026-01", stdout=out)
    assert json.loads(out.getvalue())["events"] == 0
    out = io.StringIO()
    call_command("history_archive", "--keep-months", "0", stdout=out)
    assert json.loads(out.getvalue()) | {"before": ""} == {"before": "", "events": len(events), "audit": 0,
                                                           "chunks": 1}  # fmt: skip
    for bad in (["--before", "2026-13"], ["--before", "26-01"], ["--keep-months", "-1"]):
        with pytest.raises(CommandError):
            call_command("history_archive", *bad, stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks between two connections")
def test_an_archive_and_a_replay_in_parallel_keep_every_event_once() -> None:
    # Real threads, each its own connection: the archive locks the closed orders it moves, as the ingest locks
    # them before it stores their events, so a replay either finds the key in the events table or the archive.
    _, events = desk()
    stored = books()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(call: Any) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    def replay() -> None:
        for n in range(0, len(events), 40):
            report = apply_execution_events(events[n : n + 40], source="test")
            assert report.applied == 0

    threads = [
        threading.Thread(target=run, args=(call,))
        for call in (replay, lambda: history_archive(before=BEFORE))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    hot = list(ExecutionEvent.objects.values_list("event_key", flat=True))
    archived = list(ArchivedExecutionEvent.objects.values_list("event_key", flat=True))
    assert len(hot) + len(archived) == len(set(hot) | set(archived)) == len(events)
    assert books() == stored


@pytest.mark.django_db
def test_the_admin_shows_the_archive_beside_the_tables() -> None:
    from django.test import Client

    orders, _ = desk(2)
    audit_record(actor=Actor(), action="order.create", order=orders[0])
    AuditLog.objects.update(at=OLD)
    history_archive(before=BEFORE)
    archived = ArchivedExecutionEvent.objects.filter(order=orders[0]).order_by("id").first()
    assert archived is not None
    client = Client()
    client.force_login(UserFactory(username="lead", is_staff=True, is_superuser=True))
    page = client.get(f"/admin/orders/tradeorder/{orders[0].pk}/change/")
    assert page.status_code == 200 and b"archived engine event" in page.content.lower()
    for path in ("/admin/orders/archivedexecutionevent/", "/admin/orders/archivedauditlog/",
                 f"/admin/orders/archivedexecutionevent/?q={archived.event_key}",
                 f"/admin/orders/archivedexecutionevent/{archived.pk}/change/"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
    listed = client.get(f"/admin/orders/archivedexecutionevent/?q={archived.event_key}")
    assert listed.context["cl"].result_count == 1
    assert client.get("/admin/orders/archivedauditlog/").context["cl"].result_count == 1


@pytest.mark.django_db
def test_every_chunk_is_walked_whatever_order_the_rows_were_received_in(monkeypatch: Any) -> None:
    # Rows loaded otherwise than by the ingest (a restore) need not have ids growing with received_at.
    from orders.services import archive

    monkeypatch.setattr(archive, "CHUNK_IDS", 50)
    desk()
    ids = sorted(ExecutionEvent.objects.values_list("id", flat=True))
    newer, older = ids[: len(ids) // 2], ids[len(ids) // 2 :]
    ExecutionEvent.objects.filter(id__in=newer).update(received_at=datetime(2026, 3, 1, tzinfo=UTC))
    report = history_archive(before=BEFORE)
    assert report.events == len(older) and report.chunks >= len(older) // 50
    assert sorted(ArchivedExecutionEvent.objects.values_list("id", flat=True)) == older
    assert sorted(ExecutionEvent.objects.values_list("id", flat=True)) == newer
