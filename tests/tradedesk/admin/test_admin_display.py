"""The admin shows numbers by the page's rule, times with seconds and the zone, and audit details readably."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import AuditLog, ExecutionEvent, Position, Project, TradeFill, TradeOrder
from orders.services import Actor, apply_fill_to_order, audit_record, project_set_trading_state
from tests.factories import TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db

WINTER = datetime(2026, 1, 15, 19, 32, 5, tzinfo=UTC)


@pytest.fixture
def lead(db: Any) -> Any:
    """A desk lead (superuser)."""
    return UserFactory(username="lead", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(lead: Any) -> Client:
    """The desk lead, logged in (the desk's default zone: America/New_York)."""
    client = Client()
    client.force_login(lead)
    return client


@pytest.fixture
def filled(project: Project, settings: Any) -> TradeOrder:
    """2 shares bought at 189.21335 (a price with more decimals than a price shows: 4 at most), fee 1."""
    settings.TRADEDESK_TIME_ZONE = "America/New_York"
    order = TradeOrderFactory(project=project, quantity=Decimal(2), client_order_id="oi_display_1")
    TradeOrder.objects.filter(pk=order.pk).update(created_at=WINTER)
    apply_fill_to_order(order, quantity=2, price="189.21335", fee=1, at=WINTER)
    return order


def body(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_order_list_shows_whole_quantities_prices_by_the_rule_and_local_times(
    admin_client: Client, filled: TradeOrder
) -> None:
    html = body(admin_client, reverse("admin:orders_tradeorder_changelist"))
    row = next(row for row in html.split("<tr") if f"/admin/orders/tradeorder/{filled.pk}/change/" in row)
    assert '<td class="field-quantity_shown">2</td>' in row
    assert '<td class="field-filled_quantity_shown">2</td>' in row
    assert '<td class="field-avg_fill_price_shown">189.2134</td>' in row
    assert "2026-01-15 14:32:05 EST" in row
    assert "2.000000" not in row and "189.21335" not in row


def test_order_page_shows_readonly_numbers_and_its_fills_and_events_by_the_same_rule(
    admin_client: Client, filled: TradeOrder
) -> None:
    html = body(admin_client, reverse("admin:orders_tradeorder_change", args=[filled.pk]))
    assert '<div class="readonly">189.2134</div>' in html  # the average price
    assert '<div class="readonly">1.00</div>' in html  # the fees
    cells = re.sub(r">\s+<", "><", html)
    assert '<td class="field-price_shown"><p>189.2134</p></td>' in cells  # the fill inline
    assert '<td class="field-fill_price_shown"><p>189.2134</p></td>' in cells  # the event inline
    assert "2026-01-15 14:32:05 EST" in html
    assert "2.000000" not in html and "189.2133500000" not in html


def test_fill_event_and_position_lists_use_the_rule(admin_client: Client, filled: TradeOrder) -> None:
    fills = body(admin_client, reverse("admin:orders_tradefill_changelist"))
    assert '<td class="field-quantity_shown">2</td>' in fills
    assert '<td class="field-price_shown">189.2134</td>' in fills
    assert '<td class="field-fee_shown">1.00</td>' in fills
    assert "2026-01-15 14:32:05 EST" in fills
    events = body(admin_client, reverse("admin:orders_executionevent_changelist"))
    assert '<td class="field-fill_price_shown">189.2134</td>' in events
    positions = body(admin_client, reverse("admin:orders_position_changelist"))
    assert '<td class="field-quantity_shown">2</td>' in positions
    assert '<td class="field-avg_cost_shown">189.2134</td>' in positions
    assert '<td class="field-realized_pnl_shown"><span class="td-signed flat">0.00</span></td>' in positions
    position = Position.objects.get(project=filled.project, symbol=filled.symbol)
    page = body(admin_client, reverse("admin:orders_position_change", args=[position.pk]))
    assert '<div class="readonly">189.2134</div>' in page
    fill = TradeFill.objects.get(order=filled)
    assert '<div class="readonly">189.2134</div>' in body(
        admin_client, reverse("admin:orders_tradefill_change", args=[fill.pk])
    )
    event = ExecutionEvent.objects.filter(order=filled, filled__isnull=False).get()
    assert '<div class="readonly">189.2134</div>' in body(
        admin_client, reverse("admin:orders_executionevent_change", args=[event.pk])
    )


def test_sub_dollar_prices_keep_their_ticks(admin_client: Client, project: Project) -> None:
    order = TradeOrderFactory(project=project, symbol="PENNY", quantity=Decimal(100))
    apply_fill_to_order(order, quantity=100, price="0.1234")
    html = body(admin_client, reverse("admin:orders_tradeorder_changelist"))
    assert '<td class="field-avg_fill_price_shown">0.1234</td>' in html
    assert '<td class="field-quantity_shown">100</td>' in html


def test_admin_times_follow_the_users_chosen_zone(
    admin_client: Client, filled: TradeOrder, lead: Any
) -> None:
    from orders.services import time_zone_remember

    time_zone_remember(user=lead, time_zone="Asia/Tokyo")
    client = Client()
    client.force_login(lead)
    html = body(client, reverse("admin:orders_tradeorder_changelist"))
    assert "2026-01-16 04:32:05 JST" in html


def test_audit_list_shows_the_trading_state_change_old_to_new(
    admin_client: Client, project: Project, lead: Any
) -> None:
    project_set_trading_state(project=project, state="HALTED", actor=Actor(user=lead, channel="web"))
    html = body(admin_client, reverse("admin:orders_auditlog_changelist"))
    assert '<td class="field-detail_short">ACTIVE → HALTED</td>' in html


def test_audit_detail_is_escaped_and_cut_in_the_list_with_the_whole_text_on_its_page(
    admin_client: Client, project: Project
) -> None:
    note = "<script>alert(1)</script> " + "checked against the broker statement " * 5
    entry = audit_record(actor=None, action="review", project=project, detail={"note": note})
    html = body(admin_client, reverse("admin:orders_auditlog_changelist"))
    cell = html.split('<td class="field-detail_short">')[1].split("</td>")[0]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in cell
    assert cell.endswith("…") and len(cell) < len(note)
    page = body(admin_client, reverse("admin:orders_auditlog_change", args=[entry.pk]))
    assert "<script>alert" not in page
    assert ("checked against the broker statement " * 5).strip() in page


def test_a_review_note_and_its_reviewer_are_in_the_audit(
    admin_client: Client, filled: TradeOrder, lead: Any
) -> None:
    url = reverse("admin:orders_tradeorder_change", args=[filled.pk])
    events = ExecutionEvent.objects.filter(order=filled).count()
    form = {
        "review_note": "matches the IB statement",
        "fills-TOTAL_FORMS": "1",
        "fills-INITIAL_FORMS": "1",
        "fills-MIN_NUM_FORMS": "0",
        "fills-MAX_NUM_FORMS": "1000",
        "events-TOTAL_FORMS": str(events),
        "events-INITIAL_FORMS": str(events),
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    assert admin_client.post(url, form).status_code == 302
    entry = AuditLog.objects.get(action="review", order=filled)
    assert entry.detail == {"reviewer": "lead", "note": "matches the IB statement"}
    html = body(admin_client, reverse("admin:orders_auditlog_changelist"))
    assert "note: matches the IB statement; reviewer: lead" in html
