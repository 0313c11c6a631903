"""The events-file rules of the engine contract end to end: the three sample files, and ingest handing a file's events to the batch apply."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from execution.ingest import apply as apply_module
from execution.ingest import events as events_module
from execution.ingest.events import ingest_execution_events
from orders.models import Position, TradeFill, TradeOrder
from tests.execution.ingest.event_lines import ev, line, order, write
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db

__all__ = ["order"]  # the fixture this module's tests use


def test_seed_basic_file_fills_the_order(copy_fixture: Any) -> None:
    order = TradeOrderFactory(client_order_id="oi_0_0_123", symbol="AAPL", side="BUY", quantity=Decimal(1))
    report = ingest_execution_events(copy_fixture("seed-basic.jsonl"))
    order.refresh_from_db()
    assert (order.status, order.filled_quantity, order.avg_fill_price, order.ib_order_id) == (
        "FILLED",
        Decimal(1),
        Decimal(100),
        1001,
    )
    assert report.lines_read == 2 and report.applied == 2 and report.bad == 0


def test_partial_fills_file_sums_fills_and_weights_the_average(copy_fixture: Any) -> None:
    order = TradeOrderFactory(client_order_id="oi_1_1_500", symbol="MSFT", side="BUY", quantity=Decimal(100))
    ingest_execution_events(copy_fixture("partial-fills.jsonl"))
    order.refresh_from_db()
    assert order.status == "FILLED"
    assert order.filled_quantity == Decimal(100)
    assert order.avg_fill_price == Decimal("410.45")
    assert order.fees == Decimal("3.0")
    assert TradeFill.objects.filter(order=order).count() == 3
    position = Position.objects.get(project=order.project, mode="paper", symbol="MSFT")
    assert position.quantity == Decimal(100) and position.avg_cost == Decimal("410.45")


def test_mixed_bad_lines_file_report_and_torn_line_left_pending(copy_fixture: Any) -> None:
    rejected = TradeOrderFactory(client_order_id="oi_2_1_77")
    pending = TradeOrderFactory(client_order_id="oi_2_1_78")
    path = copy_fixture("mixed-bad-lines.jsonl")
    report = ingest_execution_events(path)
    assert (report.lines_read, report.applied, report.bad) == (7, 2, 3)
    assert report.blank == 1 and report.engine_lines == 1
    rejected.refresh_from_db()
    pending.refresh_from_db()
    assert rejected.status == "REJECTED"
    assert rejected.status_message == "Order quantity must not be zero"
    assert pending.status == "NEW"
    # The torn line is completed later: only then is it applied.
    write(path, 'me": "2026-11-25T14:30:01Z"}\n', "a")
    report = ingest_execution_events(path)
    pending.refresh_from_db()
    assert report.lines_read == 1 and report.applied == 1
    assert pending.status == "SUBMITTED"


def test_two_line_file_hands_both_events_to_apply(
    tmp_path: Path, monkeypatch: Any, order: TradeOrder
) -> None:
    seen: list[list[Any]] = []
    real = apply_module.apply_engine_events

    def recorder(batch: Any, **kwargs: Any) -> Any:
        seen.append(list(batch))
        return real(batch, **kwargs)

    monkeypatch.setattr(apply_module, "apply_engine_events", recorder)
    path = write(
        tmp_path / "e.jsonl",
        line(**ev("oi_9_1_1", "Submitted", 1))
        + line(**ev("oi_9_1_1", "Filled", 2, filled=10, fill_price=5.0)),
    )
    ingest_execution_events(path)
    assert [e.status for batch in seen for e in batch] == ["Submitted", "Filled"]


def test_ingest_hands_the_files_parsed_events_to_the_public_batch_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"tag": "oi_1", "status": "Submitted", "order_id": 1, "event_id": 1, "run_id": "r1"}\n'
        '{"tag": "oi_1", "status": "Filled", "order_id": 1, "event_id": 2, "run_id": "r1", '
        '"filled": 1, "fill_price": 100}\n'
    )
    seen: list[dict[str, Any]] = []

    def fake_apply(events: list[dict[str, Any]], **kwargs: Any) -> Any:
        seen.extend(events)
        return kwargs["parsed"].report

    monkeypatch.setattr(events_module, "apply_execution_events", fake_apply)
    events_module.ingest_execution_events(path)
    assert [(event["tag"], event["status"]) for event in seen] == [("oi_1", "Submitted"), ("oi_1", "Filled")]
