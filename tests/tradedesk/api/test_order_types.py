"""The API's trailing stop, market on close and limit if touched: placed with their fields, refused with a 422
naming the field where IB or LEAN would not take them, nothing stored then."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from orders.models import Project, TradeOrder

pytestmark = pytest.mark.django_db
URL = "/api/trade/orders"
# 15:00 and 15:50 New York on a Monday (EST): before and inside LEAN's 15.5-minute MarketOnClose buffer.
BEFORE_CUTOFF = "2026-12-07T20:00:00Z"
AFTER_CUTOFF = "2026-12-07T20:50:00Z"
AFTER_CLOSE = "2026-12-07T21:05:00Z"


def post(api: Client, project: Project, **extra: Any) -> Any:
    body = {"symbol": "AAPL", "side": "SELL", "quantity": 5, "project_id": project.pk}
    return api.post(URL, data=json.dumps({**body, **extra}), content_type="application/json")


def test_a_trailing_stop_by_percent_is_placed_and_read_back(api: Client, project: Project) -> None:
    response = post(api, project, order_type="TRAIL", trailing_amount="2.5", trailing_as_percent=True)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["order_type"], body["trailing_amount"], body["trailing_as_percent"]) == (
        "TRAIL",
        "2.5",
        True,
    )
    assert body["stop_price"] is None and body["trigger_price"] is None
    listed = api.get(URL, {"project_id": project.pk}).json()["items"][0]
    assert (listed["trailing_amount"], listed["trailing_as_percent"]) == ("2.5", True)


def test_a_limit_if_touched_is_placed_with_its_trigger(api: Client, project: Project) -> None:
    response = post(api, project, order_type="LIT", trigger_price=210, limit_price="209.95")
    assert response.status_code == 201, response.json()
    body = api.get(f"{URL}/{response.json()['id']}").json()
    assert (body["trigger_price"], body["limit_price"]) == ("210", "209.95")


def test_a_market_on_close_before_the_cutoff_is_placed(api: Client, project: Project, settings: Any) -> None:
    settings.TRADEDESK_SIM_CLOCK = BEFORE_CUTOFF
    response = post(api, project, order_type="MOC")
    assert response.status_code == 201, response.json()
    assert response.json()["order_type"] == "MOC"


def test_a_market_on_close_inside_leans_buffer_is_a_422(api: Client, project: Project, settings: Any) -> None:
    settings.TRADEDESK_SIM_CLOCK = AFTER_CUTOFF
    response = post(api, project, order_type="MOC")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert "15.5 minutes before the close" in body["errors"]["order_type"]
    assert "15:44:30 New York" in body["errors"]["order_type"]
    assert not TradeOrder.objects.exists()


def test_a_market_on_close_after_the_close_is_for_the_next_session(
    api: Client, project: Project, settings: Any
) -> None:
    settings.TRADEDESK_SIM_CLOCK = AFTER_CLOSE
    assert post(api, project, order_type="MOC").status_code == 201


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"order_type": "TRAIL"}, "trailing_amount"),
        ({"order_type": "TRAIL", "trailing_amount": 120, "trailing_as_percent": True}, "trailing_amount"),
        ({"order_type": "TRAIL", "trailing_amount": -1}, "trailing_amount"),
        ({"order_type": "TRAIL", "trailing_amount": 1, "stop_price": 180}, "stop_price"),
        ({"order_type": "LIT", "limit_price": 180}, "trigger_price"),
        ({"order_type": "LIT", "trigger_price": 180}, "limit_price"),
        ({"order_type": "MOC", "limit_price": 180}, "limit_price"),
        ({"order_type": "MKT", "trailing_amount": 1}, "trailing_amount"),
        ({"order_type": "LMT", "limit_price": 180, "trigger_price": 179}, "trigger_price"),
        ({"order_type": "MIT"}, "order_type"),
    ],
)
def test_combinations_ib_or_lean_refuse_are_422s_naming_the_field(
    api: Client, project: Project, extra: dict[str, Any], field: str
) -> None:
    response = post(api, project, **extra)
    assert response.status_code == 422, response.json()
    assert field in response.json()["errors"]
    assert not TradeOrder.objects.exists()


def test_trailing_as_percent_must_be_a_json_boolean(api: Client, project: Project) -> None:
    response = post(api, project, order_type="TRAIL", trailing_amount=2, trailing_as_percent="true")
    assert response.status_code == 422
    assert not TradeOrder.objects.exists()


def test_a_trailing_stop_reported_stop_is_its_stop_price(api: Client, project: Project) -> None:
    order_id = post(api, project, order_type="TRAIL", trailing_amount=2).json()["id"]
    TradeOrder.objects.filter(pk=order_id).update(stop_price=Decimal("187.25"))
    assert api.get(f"{URL}/{order_id}").json()["stop_price"] == "187.25"
