"""The API's time in force and outside regular hours: in the body, in every answer, 422 where IB refuses."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import Project, TradeOrder

pytestmark = pytest.mark.django_db
URL = "/api/trade/orders"


def post(api: Client, project: Project, **extra: Any) -> Any:
    body = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "order_type": "LMT", "limit_price": 100}
    return api.post(
        URL, data=json.dumps({**body, "project_id": project.pk, **extra}), content_type="application/json"
    )


def test_a_gtd_outside_rth_limit_is_created_and_read_back_everywhere(api: Client, project: Project) -> None:
    day = (timezone.now() + timedelta(days=10)).date()
    response = post(api, project, time_in_force="GTD", good_till_date=day.isoformat(), outside_rth=True)
    assert response.status_code == 201
    created = response.json()
    assert (created["time_in_force"], created["good_till_date"], created["outside_rth"]) == (
        "GTD",
        day.isoformat(),
        True,
    )
    detail = api.get(f"{URL}/{created['id']}").json()
    listed = api.get(URL).json()["items"][0]
    for body in (detail, listed):
        assert (body["time_in_force"], body["good_till_date"], body["outside_rth"]) == (
            "GTD",
            day.isoformat(),
            True,
        )


def test_an_order_without_them_is_day_in_regular_hours(api: Client, project: Project) -> None:
    body = post(api, project, order_type="MKT", limit_price=None).json()
    assert (body["time_in_force"], body["good_till_date"], body["outside_rth"]) == ("DAY", None, False)


def test_gtc_is_taken(api: Client, project: Project) -> None:
    assert post(api, project, time_in_force="GTC").json()["time_in_force"] == "GTC"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"order_type": "MKT", "limit_price": None, "outside_rth": True}, "outside_rth"),
        ({"time_in_force": "GTD"}, "good_till_date"),
        ({"time_in_force": "GTD", "good_till_date": "2020-01-02"}, "good_till_date"),
        ({"time_in_force": "GTC", "good_till_date": "2030-01-02"}, "good_till_date"),
        ({"time_in_force": "FOK"}, "time_in_force"),
    ],
)
def test_combinations_ib_does_not_take_are_422_naming_the_field(
    api: Client, project: Project, extra: dict[str, Any], field: str
) -> None:
    response = post(api, project, **extra)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and list(body["errors"]) == [field]
    assert not TradeOrder.objects.exists()


def test_outside_rth_must_be_a_json_boolean(api: Client, project: Project) -> None:
    response = post(api, project, outside_rth="true")
    assert response.status_code == 422 and not TradeOrder.objects.exists()
