"""PATCH /api/trade/orders/{id}: a modify through the worker to the simulator, and the refusals' shape."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import AuditLog, OrderStatus, TradeOrder
from orders.services import api_token_create
from orders.services.modify import order_modify_record
from tests.factories import TradeOrderFactory, UserFactory
from tests.waiting import wait_for

URL = "/api/trade/orders"


def patch(client: Client, order_id: int, body: Any) -> Any:
    return client.patch(f"{URL}/{order_id}", data=json.dumps(body), content_type="application/json")


@pytest.mark.django_db(transaction=True)
def test_a_far_limit_is_modified_through_the_engine_which_confirms_the_new_price(
    api: Client, project: Any, celery_worker_thread: Any
) -> None:
    # Far below the market on purpose (it must keep working): the project's price bands are widened for it.
    project.price_band_soft_pct = project.price_band_hard_pct = Decimal("99.9")
    project.save(update_fields=["price_band_soft_pct", "price_band_hard_pct"])
    body = {"symbol": "AAPL", "side": "BUY", "quantity": 2, "order_type": "LMT", "limit_price": 1,
            "project_id": project.pk}  # fmt: skip
    order_id = api.post(URL, data=json.dumps(body), content_type="application/json").json()["id"]

    def acknowledged() -> Any:
        data = api.get(f"{URL}/{order_id}").json()
        return data["status"] == "SUBMITTED" and data["ib_order_id"] is not None

    assert wait_for(acknowledged, timeout=20)
    response = patch(api, order_id, {"limit_price": 1.5, "quantity": "3"})
    assert response.status_code == 202, response.content
    assert response.json()["update_pending"] is True and response.json()["update_limit_price"] == "1.5"

    def confirmed() -> Any:
        data = api.get(f"{URL}/{order_id}").json()
        return data if not data["update_pending"] else None

    data = wait_for(confirmed, timeout=20)
    assert data, api.get(f"{URL}/{order_id}").json()
    assert (data["limit_price"], data["quantity"], data["status"]) == ("1.5", "3", "SUBMITTED")
    assert "UpdateSubmitted" in [e["status"] for e in data["events"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "body", "status", "code"),
    [
        ({"status": OrderStatus.FILLED}, {"limit_price": 2}, 409, "conflict"),
        ({}, {"limit_price": 2}, 409, "conflict"),  # never sent to an engine
        ({"order_type": "MKT", "limit_price": None}, {"limit_price": 2}, 409, "conflict"),
        ({}, {"limit_price": 2, "side": "SELL"}, 422, "invalid"),  # StrictIn: unknown field
    ],
)
def test_refusals_answer_detail_code_and_errors(
    api: Client, project: Any, fields: dict[str, Any], body: dict[str, Any], status: int, code: str
) -> None:
    values: dict[str, Any] = {"project": project, "order_type": "LMT", "limit_price": 1, **fields}
    order = TradeOrderFactory(**values)
    response = patch(api, order.pk, body)
    assert response.status_code == status, response.content
    assert {"detail", "code", "errors"} <= response.json().keys() and response.json()["code"] == code
    order.refresh_from_db()
    assert not order.update_pending


def held_by_run_r1(project: Any) -> TradeOrder:
    """A LMT BUY 10 @ 100 handed to engine run r-1 (not running here), acknowledged as engine order 7."""
    return TradeOrderFactory(
        project=project, quantity=Decimal(10), order_type="LMT", limit_price=Decimal(100),
        status=OrderStatus.SUBMITTED, ib_order_id=7, dispatched_at=timezone.now(),
        params={"source": "manual", "manual_execution": {"run_id": "r-1", "handover": "command"}},
    )  # fmt: skip


@pytest.mark.django_db
def test_a_modify_of_an_order_whose_engine_run_has_ended_is_409_saying_so(api: Client, project: Any) -> None:
    order = held_by_run_r1(project)
    response = patch(api, order.pk, {"limit_price": 99})
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "conflict" and body["errors"] == {}
    assert (
        body["detail"] == "the engine run that holds this order is no longer running: it cannot be modified"
    )
    order.refresh_from_db()
    assert not order.update_pending and order.limit_price == 100


@pytest.mark.django_db
def test_staff_clear_an_update_the_engine_never_answered_and_traders_are_refused(
    api: Client, project: Any, user: Any
) -> None:
    order = held_by_run_r1(project)
    order_modify_record(order=order, limit_price="99", user=user)
    url = f"{URL}/{order.pk}/clear-update"
    listed = api.get(URL).json()["items"][0]
    assert listed["update_pending"] is True and listed["update_requested_at"] is not None
    refused = api.post(url, data=json.dumps({"reason": "stuck"}), content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    lead = UserFactory(username="lead", is_staff=True)
    project.members.add(lead)
    staff = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=lead)[1]}")
    assert staff.post(url, data="{}", content_type="application/json").json()["errors"].keys() == {"reason"}
    response = staff.post(
        url, data=json.dumps({"reason": "IB shows 10 @ 100"}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["update_pending"] is False and data["update_requested_at"] is None
    assert data["limit_price"] == "100" and data["update_limit_price"] is None
    entry = AuditLog.objects.get(action="order_update_cleared")
    assert (entry.user, entry.channel, entry.detail["reason"]) == (lead, "api", "IB shows 10 @ 100")
    again = staff.post(url, data=json.dumps({"reason": "twice"}), content_type="application/json")
    assert again.status_code == 409 and again.json()["detail"] == "no update is pending for this order"
