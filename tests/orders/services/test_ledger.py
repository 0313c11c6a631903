"""Bulk ingest: batches big enough for the set-based paths (COPY staging, key probe) end the same."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from execution.ingest.events import apply_execution_events, ingest_file
from orders.models import ExecutionEvent, Position, TradeFill, TradeOrder
from tests.factories import ProjectFactory, TradeOrderFactory

pytestmark = pytest.mark.django_db

ORDERS = 400


def order_lines(index: int) -> list[str]:
    """Submitted, three partial fills, then Filled (even orders) or Canceled (odd orders)."""
    fills = [10, 20, 30] + ([40] if index % 2 == 0 else [])
    events: list[dict[str, Any]] = [{"status": "Submitted", "filled": 0, "fill_price": 0}]
    for number, quantity in enumerate(fills, start=1):
        final = index % 2 == 0 and number == len(fills)
        events.append(
            {
                "status": "Filled" if final else "PartiallyFilled",
                "filled": quantity,
                "fill_price": 100 + number,
            }
        )
    if index % 2:
        events.append({"status": "Canceled", "filled": 0, "fill_price": 0})
    return [
        json.dumps(
            {
                "tag": f"oi_bulk_{index}",
                "order_id": index + 1,
                "event_id": number,
                "run_id": "r-bulk",
                "time": f"2026-11-25T14:{index // 60:02d}:{index % 60:02d}.{number:03d}Z",
                "fee": 1.0 if event["filled"] else 0,
                **event,
            }
        )
        + "\n"
        for number, event in enumerate(events, start=1)
    ]


@pytest.fixture
def bulk_orders() -> list[TradeOrder]:
    project = ProjectFactory(name="bulk")
    return [
        TradeOrderFactory(
            project=project,
            client_order_id=f"oi_bulk_{i}",
            symbol=f"S{i % 7}",
            side="BUY" if i % 3 else "SELL",
            quantity=Decimal(100),
        )
        for i in range(ORDERS)
    ]


def test_large_batches_and_their_replay_end_in_the_expected_state(
    tmp_path: Path, bulk_orders: list[TradeOrder]
) -> None:
    lines = [line for i in range(ORDERS) for line in order_lines(i)]
    # Every tenth line again a little later: duplicates within a batch and across batches.
    text = "".join(line + (lines[n - 3] if n % 10 == 0 and n >= 3 else "") for n, line in enumerate(lines))
    path = tmp_path / "events.jsonl"
    path.write_text(text)
    total = text.count("\n")

    report = ingest_file(path, batch_lines=600)
    assert report.lines_read == total and report.bad == 0
    assert report.applied == len(lines) and report.duplicates == total - len(lines)
    assert ExecutionEvent.objects.count() == len(lines)
    assert TradeFill.objects.count() == ORDERS * 3 + ORDERS // 2

    def state() -> dict[str, tuple[str, Decimal, Decimal | None]]:
        return {
            o.client_order_id: (o.status, o.filled_quantity, o.avg_fill_price)
            for o in TradeOrder.objects.all()
        }

    expected_positions: dict[str, Decimal] = {}
    for i, order in enumerate(bulk_orders):
        order.refresh_from_db()
        filled = Decimal(100) if i % 2 == 0 else Decimal(60)
        assert (order.status, order.filled_quantity) == ("FILLED" if i % 2 == 0 else "CANCELED", filled)
        assert order.fees == (4 if i % 2 == 0 else 3)
        assert order.ib_order_id == i + 1
        signed = filled if order.side == "BUY" else -filled
        expected_positions[order.symbol] = expected_positions.get(order.symbol, Decimal(0)) + signed
    positions = {p.symbol: p.quantity for p in Position.objects.filter(project=bulk_orders[0].project)}
    assert positions == expected_positions
    before = state()

    # The whole file again: nothing is applied twice.
    with open(path, "a") as handle:
        handle.write(text)
    replay = ingest_file(path, batch_lines=600)
    assert replay.lines_read == total and replay.applied == 0 and replay.duplicates == total
    assert state() == before and ExecutionEvent.objects.count() == len(lines)


def test_two_large_batches_in_one_transaction_each_apply_only_their_own_rows(
    bulk_orders: list[TradeOrder],
) -> None:
    # Both batches are big enough for the COPY staging tables, which the second reuses in the same transaction.
    events = [json.loads(line) for i in range(ORDERS) for line in order_lines(i)]
    first, second = events[: len(events) // 2], events[len(events) // 2 :]
    with transaction.atomic():
        one = apply_execution_events(first, source="test")
        two = apply_execution_events(second, source="test")
    assert (one.applied, two.applied) == (len(first), len(second))
    assert one.duplicates == two.duplicates == 0
    assert ExecutionEvent.objects.count() == len(events)
    assert TradeFill.objects.count() == ORDERS * 3 + ORDERS // 2
    statuses = dict(TradeOrder.objects.values_list("client_order_id", "status"))
    assert statuses == {f"oi_bulk_{i}": "FILLED" if i % 2 == 0 else "CANCELED" for i in range(ORDERS)}


def test_a_batch_without_pending_modifies_sends_no_settle_statement(bulk_orders: list[TradeOrder]) -> None:
    events = [json.loads(line) for i in range(20) for line in order_lines(i)]
    with CaptureQueriesContext(connection) as queries:
        report = apply_execution_events(events, source="test")
    assert report.applied == len(events)
    assert not [q["sql"] for q in queries.captured_queries if '"update_pending" =' in q["sql"]]


def test_a_pending_modify_is_dropped_when_its_order_closes_in_a_batch(bulk_orders: list[TradeOrder]) -> None:
    pending = bulk_orders[1]  # an odd order: Canceled at the end of its events
    TradeOrder.objects.filter(pk=pending.pk).update(
        update_pending=True, update_quantity=Decimal(150), update_requested_at=timezone.now()
    )
    events = [json.loads(line) for i in range(4) for line in order_lines(i)]
    apply_execution_events(events, source="test")
    pending.refresh_from_db()
    assert pending.status == "CANCELED"
    assert not pending.update_pending and pending.update_quantity is None and pending.quantity == 100
