"""Admin review: lists, search and filters load; actions go through the services; engine-owned rows stay read-only."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from execution.models import EventFileCursor, HoldingsDiscrepancy
from orders.models import ApiToken, AuditLog, ExecutionEvent, OrderStatus, Project, TradeOrder
from orders.services import LedgerEvent, api_token_create, apply_engine_events, apply_fill_to_order
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:orders_tradeorder_changelist")


@pytest.fixture
def lead(db: Any) -> Any:
    """A desk lead (superuser)."""
    return UserFactory(username="lead", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(lead: Any) -> Client:
    """The desk lead, logged in."""
    client = Client()
    client.force_login(lead)
    return client


@pytest.fixture
def filled_order(project: Project) -> TradeOrder:
    """A filled order with a fill and events."""
    order = TradeOrderFactory(project=project, client_order_id="oi_admin_1", ib_order_id=4242)
    apply_fill_to_order(order, quantity=1, price="101.5")
    return order


def test_order_changelist_loads_for_staff(admin_client: Client, filled_order: TradeOrder) -> None:
    response = admin_client.get(ORDERS)
    assert response.status_code == 200
    body = response.content.decode()
    assert "AAPL" in body
    assert "101.5" in body and "test" in body  # avg price and params.source


@pytest.mark.parametrize(
    "query",
    [
        {"q": "oi_admin_1"},
        {"q": "AAPL"},
        {"q": "4242"},
        {"status__exact": "NEW"},
        {"mode__exact": "paper"},
        {"source": "test"},
        {"reviewed": "no"},
        {"created_at__year": "2026"},
    ],
)
def test_order_search_and_filters_load(
    admin_client: Client, filled_order: TradeOrder, project: Project, query: dict[str, str]
) -> None:
    response = admin_client.get(ORDERS, query)
    assert response.status_code == 200
    assert "errornote" not in response.content.decode()


def test_search_finds_by_engine_order_id(
    admin_client: Client, filled_order: TradeOrder, project: Project
) -> None:
    TradeOrderFactory(project=project, client_order_id="oi_other", symbol="MSFT")
    response = admin_client.get(ORDERS, {"q": "4242"})
    assert list(response.context["cl"].result_list) == [filled_order]


def test_filter_by_project_and_source(admin_client: Client, filled_order: TradeOrder) -> None:
    other = TradeOrderFactory(project=ProjectFactory(name="bravo"), params={"source": "manual"})
    by_source = admin_client.get(ORDERS, {"source": "manual"})
    assert list(by_source.context["cl"].result_list) == [other]
    by_project = admin_client.get(ORDERS, {"project__id__exact": filled_order.project_id})
    assert list(by_project.context["cl"].result_list) == [filled_order]


def test_non_staff_is_sent_to_the_admin_login(user: Any) -> None:
    client = Client()
    client.force_login(user)
    response = client.get(ORDERS)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_order_page_shows_fills_and_events_read_only(admin_client: Client, filled_order: TradeOrder) -> None:
    response = admin_client.get(reverse("admin:orders_tradeorder_change", args=[filled_order.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "101.5" in body  # the fill
    assert 'name="review_note"' in body
    assert 'name="status"' not in body and 'name="quantity"' not in body  # engine-owned and order fields
    assert 'name="fills-0-price"' not in body


def test_saving_a_review_note_records_the_reviewer(
    admin_client: Client, filled_order: TradeOrder, lead: Any
) -> None:
    url = reverse("admin:orders_tradeorder_change", args=[filled_order.pk])
    form = {
        "review_note": "checked against the broker statement",
        "fills-TOTAL_FORMS": "1",
        "fills-INITIAL_FORMS": "1",
        "fills-MIN_NUM_FORMS": "0",
        "fills-MAX_NUM_FORMS": "1000",
        "events-TOTAL_FORMS": "3",
        "events-INITIAL_FORMS": "3",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    filled_order.refresh_from_db()
    assert filled_order.reviewed_by == lead
    assert filled_order.reviewed_at is not None
    assert filled_order.review_note == "checked against the broker statement"
    assert AuditLog.objects.filter(action="review", order=filled_order).exists()


def test_orders_cannot_be_added_or_deleted(admin_client: Client, filled_order: TradeOrder) -> None:
    assert admin_client.get(reverse("admin:orders_tradeorder_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:orders_tradeorder_delete", args=[filled_order.pk])).status_code == 403
    )


def test_mark_reviewed_action(admin_client: Client, filled_order: TradeOrder, lead: Any) -> None:
    response = admin_client.post(
        ORDERS, {"action": "mark_reviewed", "_selected_action": [filled_order.pk]}, follow=True
    )
    assert response.status_code == 200
    filled_order.refresh_from_db()
    assert filled_order.reviewed_by == lead
    assert "Marked 1 order(s) reviewed" in response.content.decode()


def test_cancel_selected_cancels_working_orders_and_explains_refusals(
    admin_client: Client, project: Project, filled_order: TradeOrder
) -> None:
    working = TradeOrderFactory(project=project)
    update_done = TradeOrder.objects.filter(pk=filled_order.pk).update(status=OrderStatus.FILLED)
    assert update_done == 1
    response = admin_client.post(
        ORDERS, {"action": "cancel_selected", "_selected_action": [working.pk, filled_order.pk]}, follow=True
    )
    body = response.content.decode()
    working.refresh_from_db()
    assert working.status == OrderStatus.CANCELED
    assert "Cancel requested for 1 order(s)" in body
    assert "oi_admin_1: order is filled and cannot be canceled" in body.lower()


def test_reingest_events_action_reads_the_engine_files(
    admin_client: Client, filled_order: TradeOrder, execution_root: Any
) -> None:
    order = TradeOrderFactory(project=filled_order.project, client_order_id="oi_from_file")
    events = execution_root / "engines" / "paper" / "events.jsonl"
    events.parent.mkdir(parents=True)
    events.write_text(
        '{"tag": "oi_from_file", "status": "Submitted", "order_id": 7, "event_id": 1, "run_id": "r1",'
        ' "time": "2026-01-02T03:04:05.000Z"}\n'
    )
    response = admin_client.post(
        ORDERS, {"action": "reingest_events", "_selected_action": [order.pk]}, follow=True
    )
    assert "Events ingested" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED
    assert EventFileCursor.objects.exists()


def test_unmatched_events_have_their_own_list(admin_client: Client, filled_order: TradeOrder) -> None:
    stray = LedgerEvent(
        key="k-unmatched",
        tag="nobody",
        status="Filled",
        payload={"tag": "nobody"},
        run_id="r9",
        time=datetime(2026, 1, 2, tzinfo=UTC),
    )
    apply_engine_events([stray], source="test")
    response = admin_client.get(reverse("admin:orders_unmatchedevent_changelist"))
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert [event.tag for event in shown] == ["nobody"]
    assert ExecutionEvent.objects.exclude(outcome="unmatched").exists()  # the others are not listed
    searched = admin_client.get(reverse("admin:orders_unmatchedevent_changelist"), {"q": "nobody"})
    assert [event.tag for event in searched.context["cl"].result_list] == ["nobody"]
    assert admin_client.get(reverse("admin:orders_executionevent_changelist")).status_code == 200


def test_project_switch_to_live_needs_the_permission(project: Project) -> None:
    staff = UserFactory(username="staffer", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["change_project", "view_project"]))
    client = Client()
    client.force_login(staff)
    url = reverse("admin:orders_project_change", args=[project.pk])
    form = {"name": project.name, "mode": "live", "trading_state": "ACTIVE", "members": []}
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "orders.trade_live" in refused.content.decode()
    project.refresh_from_db()
    assert project.mode == "paper"
    staff.user_permissions.add(Permission.objects.get(codename="trade_live"))
    client.force_login(UserFactory(username="staffer"))  # fresh permission cache
    assert client.post(url, form).status_code == 302
    project.refresh_from_db()
    assert project.mode == "live"
    assert AuditLog.objects.filter(action="mode_switch", project=project).exists()


def test_project_with_working_orders_keeps_its_mode(admin_client: Client, project: Project) -> None:
    TradeOrderFactory(project=project)
    url = reverse("admin:orders_project_change", args=[project.pk])
    response = admin_client.post(url, {"name": project.name, "mode": "live", "trading_state": "ACTIVE"})
    assert response.status_code == 200
    assert "working orders" in response.content.decode()
    project.refresh_from_db()
    assert project.mode == "paper"


def test_project_halt_from_admin_goes_through_the_kill_switch(admin_client: Client, project: Project) -> None:
    working = TradeOrderFactory(project=project)
    url = reverse("admin:orders_project_change", args=[project.pk])
    response = admin_client.post(url, {"name": project.name, "mode": "paper", "trading_state": "HALTED"})
    assert response.status_code == 302
    project.refresh_from_db()
    working.refresh_from_db()
    assert project.trading_state == "HALTED"
    assert working.status == OrderStatus.CANCELED
    assert AuditLog.objects.filter(action="trading_state", project=project).exists()


def test_api_token_admin_shows_hashes_and_revokes(admin_client: Client, user: Any) -> None:
    token, raw = api_token_create(user=user, name="script")
    response = admin_client.get(reverse("admin:orders_apitoken_changelist"))
    assert response.status_code == 200
    assert raw not in response.content.decode()
    assert admin_client.get(reverse("admin:orders_apitoken_add")).status_code == 403
    admin_client.post(
        reverse("admin:orders_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiToken.objects.get(pk=token.pk).token_hash == token.token_hash


def test_the_admin_revoke_ends_a_token_seen_a_moment_ago(
    admin_client: Client, user: Any, project: Any
) -> None:
    token, raw = api_token_create(user=user, name="script")
    script = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert script.get("/api/trade/orders").status_code == 200  # now in the shared auth cache
    assert script.get("/api/trade/orders").status_code == 200
    admin_client.post(
        reverse("admin:orders_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert script.get("/api/trade/orders").status_code == 401


def test_audit_log_is_read_only(admin_client: Client, filled_order: TradeOrder) -> None:
    entry = AuditLog.objects.create(username="x", action="order_create")
    assert admin_client.get(reverse("admin:orders_auditlog_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:orders_auditlog_add")).status_code == 403
    assert admin_client.get(reverse("admin:orders_auditlog_delete", args=[entry.pk])).status_code == 403
    page = admin_client.get(reverse("admin:orders_auditlog_change", args=[entry.pk]))
    assert (
        page.status_code == 200 and 'type="submit"' not in page.content.decode().split('id="content-main"')[1]
    )


def test_execution_bookkeeping_is_read_only(admin_client: Client) -> None:
    now = datetime(2026, 1, 2, tzinfo=UTC)
    row = HoldingsDiscrepancy.objects.create(
        mode="paper",
        symbol="AAPL",
        engine_quantity=Decimal(5),
        ledger_quantity=Decimal(4),
        first_seen_at=now,
        last_seen_at=now,
    )
    cursor = EventFileCursor.objects.create(path="/tmp/x/events.jsonl", offset=10)
    for name, pk in (("holdingsdiscrepancy", row.pk), ("eventfilecursor", cursor.pk)):
        assert admin_client.get(reverse(f"admin:execution_{name}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:execution_{name}_add")).status_code == 403
        assert admin_client.get(reverse(f"admin:execution_{name}_delete", args=[pk])).status_code == 403
    filtered = admin_client.get(
        reverse("admin:execution_holdingsdiscrepancy_changelist"), {"mode__exact": "paper"}
    )
    assert list(filtered.context["cl"].result_list) == [row]


def test_staff_clear_a_pending_update_from_the_order_page_with_a_reason(
    admin_client: Client, project: Project, user: Any, lead: Any
) -> None:
    from django.utils import timezone

    from orders.services.modify import order_modify_record

    order = TradeOrderFactory(
        project=project, order_type="LMT", limit_price=Decimal(100), status=OrderStatus.SUBMITTED,
        ib_order_id=7, dispatched_at=timezone.now(),
        params={"source": "manual", "manual_execution": {"run_id": "r-1", "handover": "command"}},
    )  # fmt: skip
    order_modify_record(order=order, limit_price="99", user=user)
    url = reverse("admin:orders_tradeorder_change", args=[order.pk])
    page = admin_client.get(url).content.decode()
    assert "clear_update_reason" in page and "update_requested_at" in page.replace("field-", "")
    form = {
        "review_note": "",
        "clear_update_reason": "no answer from the engine for an hour; IB shows 100",
        "fills-TOTAL_FORMS": "0",
        "fills-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    assert not order.update_pending and order.limit_price == 100 and order.update_requested_at is None
    entry = AuditLog.objects.get(action="order_update_cleared", order=order)
    assert entry.user == lead and entry.channel == "admin" and entry.detail["reason"].startswith("no answer")
