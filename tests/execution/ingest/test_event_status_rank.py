"""What an event's status does to its order: the status rank, unknown statuses and unmatched tags."""

from __future__ import annotations

from decimal import Decimal

import pytest

from execution.ingest.events import apply_execution_events
from orders.models import ExecutionEvent, TradeOrder
from tests.execution.ingest.event_lines import ev, order

pytestmark = pytest.mark.django_db

__all__ = ["order"]  # the fixture this module's tests use


def test_canceled_after_filled_is_recorded_not_applied(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "Filled", 1, filled=10, fill_price=1.0)])
    apply_execution_events([ev("oi_9_1_1", "Canceled", 2)])
    order.refresh_from_db()
    assert order.status == "FILLED"
    assert order.events.get(status="Canceled").outcome == "ignored"


def test_submitted_after_partially_filled_changes_nothing(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "PartiallyFilled", 2, filled=4, fill_price=1.0)])
    apply_execution_events([ev("oi_9_1_1", "Submitted", 1)])
    order.refresh_from_db()
    assert order.status == "PARTIALLY_FILLED" and order.filled_quantity == Decimal(4)


def test_late_fill_after_filled_still_counts(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "Filled", 3, filled=6, fill_price=2.0)])
    apply_execution_events([ev("oi_9_1_1", "PartiallyFilled", 2, filled=4, fill_price=1.0)])
    order.refresh_from_db()
    assert order.status == "FILLED"
    assert order.filled_quantity == Decimal(10)
    assert order.avg_fill_price == Decimal("1.6")


def test_unknown_status_name_is_stored_and_changes_nothing(order: TradeOrder) -> None:
    report = apply_execution_events([ev("oi_9_1_1", "Exploded", 1)])
    order.refresh_from_db()
    assert report.applied == 1 and order.status == "NEW"
    assert order.events.get().status == "Exploded"


def test_new_and_none_statuses_change_nothing(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "New", 1), ev("oi_9_1_1", "None", 2)])
    order.refresh_from_db()
    assert order.status == "NEW"


def test_any_engine_event_replaces_failed(order: TradeOrder) -> None:
    from orders.services import update_trade_order_status

    update_trade_order_status(order, "FAILED", message="broker down")
    apply_execution_events([ev("oi_9_1_1", "Submitted", 1)])
    order.refresh_from_db()
    assert order.status == "SUBMITTED"


def test_invalid_maps_to_rejected_with_its_message(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "Invalid", 1, message="no margin")])
    order.refresh_from_db()
    assert (order.status, order.status_message) == ("REJECTED", "no margin")


def test_last_status_ts_is_the_latest_event_time(order: TradeOrder) -> None:
    apply_execution_events([ev("oi_9_1_1", "Filled", 5, filled=10, fill_price=1.0)])
    apply_execution_events([ev("oi_9_1_1", "Submitted", 1)])
    order.refresh_from_db()
    assert order.last_status_ts.isoformat() == "2026-11-25T14:30:05+00:00"
    assert order.ib_order_id == 7


def test_unmatched_tags_are_kept_for_review() -> None:
    report = apply_execution_events([ev("oi_nobody", "Submitted", 1)])
    assert report.unmatched == 1
    assert ExecutionEvent.objects.get(tag="oi_nobody").outcome == "unmatched"
