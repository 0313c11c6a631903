"""Unknown orders (their engine run died): out of `working`, listed by HALT, never blocking a close, and
settled by staff (API, admin) once the dead run's events file is fully read; engines stop only when forced."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from execution import actions as services
from execution.actions import engine as control
from execution.ingest.events import ingest_execution_events
from orders.errors import Conflict
from orders.models import AuditLog, OrderFlag, OrderStatus, Position, Project, TradeOrder
from orders.selectors import orders_unknown, orders_working
from orders.services import (
    apply_fill_to_order,
    create_trade_order,
    trade_orders_flag,
    update_trade_order_status,
)
from tests.factories import TradeOrderFactory, UserFactory
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def unknown(project: Project) -> TradeOrder:
    """A SELL 2 KO (of a 5-share position) handed to run r-dead, which died: unknown."""
    seed = TradeOrderFactory(project=project, symbol="KO", quantity=Decimal(5))
    apply_fill_to_order(seed, quantity=5, price=50)
    update_trade_order_status(seed, OrderStatus.FILLED)
    order = TradeOrderFactory(
        project=project,
        symbol="KO",
        side="SELL",
        quantity=Decimal(2),
        ib_order_id=11,
        params={"source": "manual", "manual_execution": {"run_id": "r-dead"}},
    )
    update_trade_order_status(order, OrderStatus.SUBMITTED)
    trade_orders_flag(order_ids=[order.pk], flag=OrderFlag.ENGINE_DOWN, message="engine run r-dead exited")
    order.refresh_from_db()
    return order


@pytest.fixture
def staff_api(unknown: TradeOrder, user: Any) -> Client:
    """Alice as staff, with a token."""
    from orders.services import api_token_create

    user.is_staff = True
    user.save()
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user)[1]}")


def test_an_unknown_order_is_not_working_and_does_not_count_against_limits(
    unknown: TradeOrder, project: Project, user: Any
) -> None:
    assert unknown.is_unknown and list(orders_unknown(project=project)) == [unknown]
    assert not orders_working(project=project).exists()
    Project.objects.filter(pk=project.pk).update(max_working_orders=1)
    payload = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}
    assert create_trade_order(payload, user=user).created


def test_an_unknown_order_does_not_block_a_close_which_warns_about_it(
    api: Client, unknown: TradeOrder, project: Project
) -> None:
    response = post(api, "/api/trade/positions/close", {"project_id": project.pk, "symbols": ["KO"]})
    body = response.json()
    assert response.status_code == 200 and len(body["orders"]) == 1
    assert body["orders"][0]["quantity"] == "5" and "may still be live" in body["warnings"]["KO"]
    assert TradeOrder.objects.get(pk=body["orders"][0]["id"]).params["hold_until_cancels"] == []


def test_cancel_of_an_unknown_order_is_recorded_and_says_the_engine_is_down(
    api: Client, unknown: TradeOrder
) -> None:
    response = post(api, f"/api/trade/orders/{unknown.pk}/cancel", {})
    assert (
        response.status_code == 409 and "engine run that held this order is down" in response.json()["detail"]
    )
    assert AuditLog.objects.filter(action="order_cancel_requested", order=unknown).exists()
    unknown.refresh_from_db()
    assert unknown.status == OrderStatus.SUBMITTED


def test_halt_lists_unknown_orders(unknown: TradeOrder, project: Project) -> None:
    _project, outcomes = services.project_trading_state_change(project=project, state="HALTED")
    assert outcomes[unknown.client_order_id].startswith("unknown")


def test_only_staff_resolve_and_a_note_is_required(api: Client, unknown: TradeOrder, user: Any) -> None:
    path = f"/api/trade/orders/{unknown.pk}/resolve"
    assert post(api, path, {"status": "CANCELED", "note": "IB says canceled"}).status_code == 403
    user.is_staff = True
    user.save()
    assert post(api, path, {"status": "CANCELED", "note": ""}).status_code == 422
    assert post(api, path, {"status": "FILLED", "note": "x"}).status_code == 422
    unknown.refresh_from_db()
    assert unknown.is_unknown


def test_staff_resolve_an_unknown_order_as_filled_with_the_brokers_numbers(
    staff_api: Client, unknown: TradeOrder, project: Project
) -> None:
    response = post(
        staff_api,
        f"/api/trade/orders/{unknown.pk}/resolve",
        {"status": "FILLED", "quantity": "2", "price": "51", "note": "IB execution report 123"},
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "FILLED" and data["filled_quantity"] == "2" and data["flags"] == []
    assert Position.objects.get(project=project, symbol="KO").quantity == 3
    entry = AuditLog.objects.get(action="order_resolve")
    assert entry.order_id == unknown.pk and entry.detail["note"] == "IB execution report 123"
    again = post(staff_api, f"/api/trade/orders/{unknown.pk}/resolve", {"status": "CANCELED", "note": "x"})
    assert again.status_code == 409


def test_resolve_waits_until_the_events_file_is_fully_read(
    staff_api: Client, unknown: TradeOrder, execution_root: Path
) -> None:
    events = execution_root / "engines" / "paper" / "events.jsonl"
    events.parent.mkdir(parents=True)
    fill = {"tag": unknown.client_order_id, "status": "PartiallyFilled", "order_id": 11, "event_id": 5,
            "run_id": "r-dead", "time": "2026-01-05T14:30:00Z", "filled": 1, "fill_price": 50}  # fmt: skip
    events.write_text(json.dumps(fill) + "\n" + '{"tag": "torn')
    path = f"/api/trade/orders/{unknown.pk}/resolve"
    refused = post(
        staff_api, path, {"status": "CANCELED", "quantity": "1", "note": "IB: 1 filled, rest canceled"}
    )
    assert refused.status_code == 409 and "unfinished line" in refused.json()["detail"]
    # The dead run's fill was read on the way (once); the order stays unknown.
    unknown.refresh_from_db()
    assert unknown.filled_quantity == 1 and unknown.is_unknown
    events.write_text(json.dumps(fill) + "\n")
    done = post(
        staff_api, path, {"status": "CANCELED", "quantity": "1", "note": "IB: 1 filled, rest canceled"}
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "CANCELED" and done.json()["filled_quantity"] == "1"


def test_staff_resolve_an_unknown_order_from_the_admin(unknown: TradeOrder) -> None:
    lead = UserFactory(username="lead", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(lead)
    url = reverse("admin:orders_tradeorder_change", args=[unknown.pk])
    events = unknown.events.count()
    form = {
        "review_note": "",
        "resolve_status": "CANCELED",
        "resolve_quantity": "0",
        "resolve_note": "IB: canceled",
        "fills-TOTAL_FORMS": "0",
        "fills-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": str(events),
        "events-INITIAL_FORMS": str(events),
    }
    response = admin.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    unknown.refresh_from_db()
    assert unknown.status == OrderStatus.CANCELED and not unknown.flags
    assert AuditLog.objects.filter(action="order_resolve", order=unknown).exists()


@pytest.mark.django_db(transaction=True)
def test_an_engine_with_working_orders_stops_only_when_forced_and_they_become_unknown(
    project: Project, user: Any
) -> None:
    resting = create_trade_order(
        {"symbol": "KO", "side": "BUY", "quantity": 1, "order_type": "LMT", "limit_price": "0.01",
         "project_id": project.pk},
        user=user,
    ).order  # fmt: skip
    services.order_dispatch(order_id=resting.pk)

    def submitted() -> bool:
        ingest_execution_events()
        resting.refresh_from_db()
        return resting.status == OrderStatus.SUBMITTED

    assert wait_for(submitted, timeout=30)
    with pytest.raises(Conflict):
        control.engine_stop(mode="paper")
    assert services.engines_check()[0].state == "running"
    control.engine_stop(mode="paper", force=True)
    resting.refresh_from_db()
    assert resting.is_unknown and resting.flag == OrderFlag.ENGINE_DOWN
    assert AuditLog.objects.filter(action="engine_stop_forced").exists()
