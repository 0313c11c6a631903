"""The API refuses a new order, a close and a liquidation with 422 engine_down (and the reason) while the mode's
engine is known to be down and nothing starts it (execution.dispatch.engine_down_reason)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from execution.dispatch import engine_down_reason
from orders.models import Project, TradeOrder
from tests.execution.dispatch.test_availability import ORDER
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def post(api: Client, path: str, body: dict[str, Any]) -> Any:
    return api.post(path, data=json.dumps(body), content_type="application/json")


def test_a_new_order_is_422_engine_down_with_the_reason(
    api: Client, project: Project, engine_down: str
) -> None:
    response = post(api, "/api/trade/orders", {**ORDER, "project_id": project.pk})
    assert response.status_code == 422
    assert response.json() == {"detail": engine_down_reason("paper"), "code": "engine_down", "errors": {}}
    assert engine_down in response.json()["detail"] and not TradeOrder.objects.exists()


def test_close_and_liquidate_are_422_engine_down(api: Client, holding: Project, engine_down: str) -> None:
    count = TradeOrder.objects.count()
    for path, body in (
        ("/api/trade/positions/close", {"project_id": holding.pk, "symbols": ["KO"]}),
        ("/api/trade/positions/liquidate", {"project_id": holding.pk}),
    ):
        response = post(api, path, body)
        assert response.status_code == 422, path
        assert (response.json()["code"], response.json()["detail"]) == (
            "engine_down",
            engine_down_reason("paper"),
        )
    assert TradeOrder.objects.count() == count


def test_the_engines_api_shows_staff_the_run_lean_ended_as_stopped_with_the_reason(engine_down: str) -> None:
    staff = UserFactory(username="ops", is_staff=True)
    client = Client()
    client.force_login(staff)
    row = next(row for row in client.get("/api/trade/engines").json() if row["mode"] == "paper")
    assert (row["state"], row["ended_by"], row["message"]) == ("stopped", "brokerage", engine_down)
