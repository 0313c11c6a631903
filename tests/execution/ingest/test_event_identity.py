"""An event's identity: the id triple's or the canonical JSON's hash, so each event is applied once."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from execution.ingest.events import apply_execution_events, ingest_execution_events
from orders.models import ExecutionEvent, TradeOrder
from tests.execution.ingest.event_lines import ev, line, order, write
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db

__all__ = ["order"]  # the fixture this module's tests use


def test_duplicate_event_is_applied_once(tmp_path: Path, order: TradeOrder) -> None:
    fill = line(**ev("oi_9_1_1", "Filled", 2, filled=10, fill_price=5.0))
    path = write(tmp_path / "e.jsonl", fill + fill)
    report = ingest_execution_events(path)
    order.refresh_from_db()
    assert report.applied == 1 and report.duplicates == 1
    assert order.filled_quantity == Decimal(10)


def test_replaying_a_copied_file_applies_nothing_twice(tmp_path: Path, copy_fixture: Any) -> None:
    order = TradeOrderFactory(client_order_id="oi_1_1_500", symbol="MSFT", quantity=Decimal(100))
    first = copy_fixture("partial-fills.jsonl", "a.jsonl")
    second = copy_fixture("partial-fills.jsonl", "b.jsonl")
    ingest_execution_events(first)
    report = ingest_execution_events(second)
    order.refresh_from_db()
    assert report.applied == 0 and report.duplicates == 4
    assert order.filled_quantity == Decimal(100)


def test_events_without_ids_are_identified_by_canonical_json_hash(copy_fixture: Any) -> None:
    TradeOrderFactory(client_order_id="oi_0_0_123")
    ingest_execution_events(copy_fixture("seed-basic.jsonl"))
    first = json.loads(
        (Path(__file__).parents[2] / "fixtures" / "seed-basic.jsonl").read_text().splitlines()[0]
    )
    expected = hashlib.sha256(
        json.dumps(first, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    assert ExecutionEvent.objects.filter(event_key=expected).exists()


def test_dict_and_file_forms_of_an_event_share_one_identity(tmp_path: Path, order: TradeOrder) -> None:
    event = {
        "tag": "oi_9_1_1",
        "status": "Filled",
        "filled": 10,
        "fill_price": 5.0,
        "time": "2026-11-25T14:30:00Z",
    }
    apply_execution_events([event])
    report = ingest_execution_events(write(tmp_path / "e.jsonl", json.dumps(event) + "\n"))
    order.refresh_from_db()
    assert report.duplicates == 1 and order.filled_quantity == Decimal(10)


def test_order_ids_reused_by_a_new_run_are_new_events(order: TradeOrder) -> None:
    other = TradeOrderFactory(client_order_id="oi_9_1_2", quantity=Decimal(5))
    apply_execution_events([ev("oi_9_1_1", "Filled", 1, run="r-1", order_id=1, filled=10, fill_price=1.0)])
    report = apply_execution_events(
        [ev("oi_9_1_2", "Filled", 1, run="r-2", order_id=1, filled=5, fill_price=2.0)]
    )
    order.refresh_from_db()
    other.refresh_from_db()
    assert report.applied == 1
    assert (order.filled_quantity, other.filled_quantity) == (Decimal(10), Decimal(5))


@pytest.mark.parametrize("run_id", ["r-1", 'r"quoted\\', "r-\u00e9\u4e2d", "r\ttab"])
def test_identity_is_the_hash_of_the_canonical_id_triple(run_id: str) -> None:
    from execution.contract import canonical_json, event_identity

    event = {"tag": "t", "status": "Filled", "run_id": run_id, "order_id": 12, "event_id": -3}
    expected = hashlib.sha256(("id:" + canonical_json([run_id, 12, -3])).encode()).hexdigest()
    assert event_identity(event) == expected
