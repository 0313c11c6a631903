"""PATCH /api/trade/orders/{id}: a modify through the worker to the simulator, and the refusals' shape."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from orders.models import OrderStatus
from tests.factories import TradeOrderFactory
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
