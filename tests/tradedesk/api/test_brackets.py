"""Brackets through the API: one POST makes the group, the answer and the detail carry its fields, refusals are
422 naming the field with nothing stored, a HELD child cannot be canceled alone."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orders.models import Project, TradeOrder
from tests.tradedesk.api.test_orders import URL, order_body, post

pytestmark = pytest.mark.django_db


def bracket_body(project: Project, **extra: Any) -> dict[str, Any]:
    return order_body(project, order_type="LMT", limit_price="190", quantity=5, take_profit_offset="5",
                      stop_loss_price="185", **extra)  # fmt: skip


def test_a_post_with_legs_makes_the_entry_and_its_held_children(api: Client, project: Project) -> None:
    response = post(api, URL, bracket_body(project))
    assert response.status_code == 201, response.content
    entry = response.json()
    assert (entry["bracket_role"], entry["bracket_state"], entry["parent_id"]) == ("ENTRY", "OPEN", None)
    detail = api.get(f"{URL}/{entry['id']}").json()
    take, stop = (api.get(f"{URL}/{pk}").json() for pk in detail["children"])
    assert (take["bracket_role"], take["side"], take["order_type"], take["limit_price"]) == (
        "TAKE_PROFIT", "SELL", "LMT", "195",
    )  # fmt: skip
    assert (stop["bracket_role"], stop["order_type"], stop["stop_price"], stop["status"]) == (
        "STOP_LOSS", "STP", "185", "HELD",
    )  # fmt: skip
    assert take["parent_id"] == stop["parent_id"] == entry["id"]
    listed = api.get(URL).json()["items"]
    assert {item["bracket_role"] for item in listed} == {"ENTRY", "TAKE_PROFIT", "STOP_LOSS"}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"stop_loss_price": "195"}, "stop_loss_price"),
        ({"take_profit_price": "200"}, "take_profit_offset"),
        ({"take_profit_offset": "-1"}, "take_profit_offset"),
    ],
)
def test_a_bad_leg_is_a_422_naming_it_and_nothing_is_stored(
    api: Client, project: Project, extra: dict[str, Any], field: str
) -> None:
    response = post(api, URL, {**bracket_body(project), **extra})
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not TradeOrder.objects.exists()


def test_a_held_child_cannot_be_canceled_alone(api: Client, project: Project) -> None:
    entry = post(api, URL, bracket_body(project)).json()
    child = api.get(f"{URL}/{entry['id']}").json()["children"][0]
    response = api.post(f"{URL}/{child}/cancel")
    assert response.status_code == 409 and "cancel the entry" in response.json()["detail"]
    assert TradeOrder.objects.get(pk=child).status == "HELD"
