"""Events belong to their engine's mode; overfills and far-future times are kept, flagged and shown."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from execution.ingest.events import apply_execution_events, ingest_execution_events
from orders.models import ExecutionEvent, OrderFlag, OrderStatus, Position, Project, TradeOrder
from orders.services import trade_orders_flag, update_trade_order_status
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def line(tag: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "tag": tag,
        "status": status,
        "order_id": 7,
        "run_id": "r-x",
        "time": "2026-01-05T14:30:00Z",
        **extra,
    }


def append(path: Path, *events: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        for event in events:
            handle.write(json.dumps(event) + "\n")
    return path


@pytest.fixture
def live_order(user: Any) -> TradeOrder:
    """A CANCELED LIVE order."""
    live = ProjectFactory(name="live-book", mode="live", members=[user])
    order = TradeOrderFactory(project=live, client_order_id="oi_live_1", quantity=Decimal(2))
    update_trade_order_status(order, OrderStatus.CANCELED)
    return order


def test_a_line_in_the_paper_file_never_touches_a_live_order(
    live_order: TradeOrder, execution_root: Path
) -> None:
    append(
        execution_root / "engines" / "paper" / "events.jsonl",
        line("oi_live_1", "Filled", event_id=1, filled=5, fill_price=10),
    )
    report = ingest_execution_events()
    assert report.unmatched == 1 and report.applied == 0
    live_order.refresh_from_db()
    assert live_order.status == OrderStatus.CANCELED and live_order.filled_quantity == 0
    assert not Position.objects.filter(mode="live").exists()
    event = ExecutionEvent.objects.get(outcome="unmatched")
    assert event.order is None and "live order" in event.reason and "paper engine" in event.reason


def test_a_line_in_the_live_file_applies_to_the_live_order(user: Any, execution_root: Path) -> None:
    live = ProjectFactory(name="live-book", mode="live", members=[user])
    order = TradeOrderFactory(project=live, client_order_id="oi_live_2", quantity=Decimal(2))
    append(
        execution_root / "engines" / "live" / "events.jsonl",
        line("oi_live_2", "Filled", event_id=1, filled=2, fill_price=10),
    )
    ingest_execution_events()
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED and order.filled_quantity == 2


def test_public_calls_match_by_tag_alone_unless_given_a_mode(live_order: TradeOrder, tmp_path: Path) -> None:
    narrowed = apply_execution_events([line("oi_live_1", "Submitted", event_id=1)], mode="paper")
    assert narrowed.unmatched == 1
    by_tag = apply_execution_events([line("oi_live_1", "Filled", event_id=2, filled=1, fill_price=3)])
    assert by_tag.applied == 1
    outside = append(
        tmp_path / "elsewhere" / "events.jsonl",
        line("oi_live_1", "Filled", event_id=3, filled=1, fill_price=3),
    )
    assert ingest_execution_events(outside).applied == 1
    live_order.refresh_from_db()
    assert live_order.filled_quantity == 2


def test_an_overfill_counts_and_is_flagged_beside_engine_down(project: Project) -> None:
    order = TradeOrderFactory(project=project, client_order_id="oi_over", quantity=Decimal(2))
    trade_orders_flag(order_ids=[order.pk], flag=OrderFlag.ENGINE_DOWN, message="run died")
    apply_execution_events(
        [line("oi_over", "PartiallyFilled", event_id=1, filled=50, fill_price=10, origin="x")]
    )
    order.refresh_from_db()
    assert order.filled_quantity == 50 and order.overfilled
    assert Position.objects.get(project=project, symbol="AAPL").quantity == 50
    # The engine event cleared ENGINE_DOWN; flag it again: both flags stand together.
    trade_orders_flag(order_ids=[order.pk], flag=OrderFlag.ENGINE_DOWN, message="run died")
    order.refresh_from_db()
    assert order.flags == ["ENGINE_DOWN", "OVERFILL"]


def test_a_fill_within_the_quantity_is_not_an_overfill(project: Project) -> None:
    order = TradeOrderFactory(project=project, client_order_id="oi_ok", quantity=Decimal(2))
    apply_execution_events([line("oi_ok", "Filled", event_id=1, filled=2, fill_price=10)])
    order.refresh_from_db()
    assert not order.overfilled and order.flags == []


def test_an_event_dated_far_ahead_is_stored_flagged_and_never_pins_the_clock(project: Project) -> None:
    order = TradeOrderFactory(project=project, client_order_id="oi_future", quantity=Decimal(2))
    apply_execution_events([line("oi_future", "Submitted", event_id=1, time="9999-12-31T00:00:00Z")])
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED and order.last_status_ts is None and order.future_event_time
    assert "more than a day ahead" in ExecutionEvent.objects.get(tag="oi_future").reason
    apply_execution_events([line("oi_future", "Filled", event_id=2, filled=2, fill_price=10)])
    order.refresh_from_db()
    assert order.last_status_ts is not None and order.last_status_ts.year == 2026
    assert order.status == OrderStatus.FILLED and "FUTURE_TIME" in order.flags


def test_flags_are_shown_in_the_api_the_page_and_the_admin(api: Client, project: Project, user: Any) -> None:
    order = TradeOrderFactory(project=project, client_order_id="oi_shown", quantity=Decimal(1))
    apply_execution_events(
        [line("oi_shown", "Filled", event_id=1, filled=3, fill_price=10, time="9999-01-01T00:00:00Z")]
    )
    data = api.get(f"/api/trade/orders/{order.pk}").json()
    assert data["flags"] == ["OVERFILL", "FUTURE_TIME"] and data["unknown"] is False
    browser = Client()
    browser.force_login(user)
    page = browser.get(reverse("live-trade-orders"), {"project": project.pk}, HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert 'data-testid="order-flag-overfill"' in html and 'data-testid="order-flag-future-time"' in html
    staff = UserFactory(username="lead", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)
    listing = admin.get(reverse("admin:orders_tradeorder_changelist")).content.decode()
    assert "OVERFILL, FUTURE_TIME" in listing
