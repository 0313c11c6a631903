"""The engine-halt routes (staff only, one error shape, a clear 422 for refused orders) and the positions'
realised P&L and totals, with exact decimals from fills."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from orders.models import AuditLog, Project, TradeOrder
from orders.services import Actor, api_token_create, apply_fill_to_order, engine_halt_set
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def staff(db: Any) -> Any:
    return UserFactory(username="desk-lead", is_staff=True)


@pytest.fixture
def staff_api(staff: Any) -> Client:
    _row, raw = api_token_create(user=staff, name="ops")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def fill(project: Project, symbol: str, side: str, quantity: str, price: str) -> None:
    order = TradeOrderFactory(project=project, symbol=symbol, side=side, quantity=Decimal(quantity))
    apply_fill_to_order(order, quantity=quantity, price=price)


def test_staff_halt_the_paper_engine_and_the_answer_says_who_and_why(staff_api: Client) -> None:
    response = post(staff_api, "/api/trade/engines/paper/halt", {"halted": True, "reason": "IB reconnecting"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("mode", "halted", "reason", "changed_by")} == {
        "mode": "paper",
        "halted": True,
        "reason": "IB reconnecting",
        "changed_by": "desk-lead",
    }
    assert body["changed_at"]
    entry = AuditLog.objects.get(action="engine_halt")
    assert (entry.channel, entry.detail["reason"]) == ("api", "IB reconnecting")


def test_a_trader_gets_403_in_the_error_shape_and_nothing_changes(api: Client) -> None:
    response = post(api, "/api/trade/engines/paper/halt", {"halted": True, "reason": "mine"})
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "forbidden" and body["errors"] == {}
    assert "staff" in body["detail"]
    assert post(api, "/api/trade/engines/nope/halt", {"halted": True, "reason": "x"}).status_code == 403
    assert not AuditLog.objects.filter(action__startswith="engine_").exists()
    assert [row["halted"] for row in api.get("/api/trade/engines/halts").json()] == [False, False]


def test_staff_unknown_mode_is_404_and_a_halt_without_reason_422(staff_api: Client) -> None:
    assert post(staff_api, "/api/trade/engines/demo/halt", {"halted": True, "reason": "x"}).status_code == 404
    response = post(staff_api, "/api/trade/engines/paper/halt", {"halted": True})
    assert response.status_code == 422
    assert response.json()["errors"] == {"reason": "required"}
    unknown_field = post(
        staff_api, "/api/trade/engines/paper/halt", {"halted": True, "reason": "x", "why": 1}
    )
    assert unknown_field.status_code == 422 and unknown_field.json()["code"] == "invalid"


def test_an_order_in_a_halted_mode_is_a_422_engine_halted(api: Client, project: Project, staff: Any) -> None:
    engine_halt_set(mode="paper", halted=True, reason="broker outage", actor=Actor(user=staff))
    response = post(
        api, "/api/trade/orders", {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "the PAPER engine is halted for all projects by desk-lead: broker outage; "
        "only Close and Liquidate are allowed",
        "code": "engine_halted",
        "errors": {"project_id": "engine halted"},
    }
    assert not TradeOrder.objects.exists()


def test_the_halts_list_shows_every_mode_to_traders(api: Client, staff: Any) -> None:
    engine_halt_set(mode="live", halted=True, reason="end of day", actor=Actor(user=staff))
    rows = {row["mode"]: row for row in api.get("/api/trade/engines/halts").json()}
    assert (rows["paper"]["halted"], rows["live"]["halted"], rows["live"]["reason"]) == (
        False,
        True,
        "end of day",
    )


def test_staff_resume_through_the_api(staff_api: Client, api: Client, project: Project) -> None:
    post(staff_api, "/api/trade/engines/paper/halt", {"halted": True, "reason": "drill"})
    resumed = post(staff_api, "/api/trade/engines/paper/halt", {"halted": False})
    assert resumed.status_code == 200 and resumed.json()["halted"] is False
    order = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}
    assert post(api, "/api/trade/orders", order).status_code == 201


def test_positions_carry_their_realised_pnl_as_text(api: Client, project: Project) -> None:
    fill(project, "AAPL", "BUY", "10", "100.10")
    fill(project, "AAPL", "SELL", "4", "112.60")
    (position,) = api.get("/api/trade/positions", {"project_id": project.pk}).json()
    assert (position["quantity"], position["avg_cost"], position["realized_pnl"]) == ("6", "100.1", "50")


def test_totals_add_open_positions_and_the_realised_pnl_of_flat_ones(api: Client, project: Project) -> None:
    fill(project, "AAPL", "BUY", "10", "100.10")
    fill(project, "AAPL", "SELL", "4", "112.60")  # realised +50.00, 6 left, last 112.60
    fill(project, "MSFT", "BUY", "2", "50")
    fill(project, "MSFT", "SELL", "2", "47.25")  # flat, realised -5.50
    fill(project, "KO", "SELL", "3", "60.5")  # short 3, last 60.5
    other = ProjectFactory(members=[UserFactory()])
    fill(other, "AAPL", "BUY", "1", "1000")  # another project: not counted
    response = api.get("/api/trade/positions/totals", {"project_id": project.pk})
    assert response.status_code == 200
    assert response.json() == {
        "project_id": project.pk,
        "mode": "paper",
        # AAPL 6 * 112.60 + KO -3 * 60.5
        "market_value": "494.1",
        # AAPL 6 * (112.60 - 100.10) + KO 0
        "unrealized_pnl": "75",
        "realized_pnl": "44.5",
        "open_positions": 2,
        "unpriced_positions": 0,
        # Every fill is today's: AAPL 675.60 - (1,001.00 - 450.40), MSFT -(100 - 94.50), KO 0.
        "day_pnl": "119.5",
        "day_pnl_unknown": 0,
    }


def test_totals_of_a_foreign_project_are_404(api: Client) -> None:
    other = ProjectFactory(members=[UserFactory()])
    response = api.get("/api/trade/positions/totals", {"project_id": other.pk})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_the_new_routes_are_in_the_openapi_schema(api: Client) -> None:
    schema = Client().get("/api/openapi.json").json()
    assert "post" in schema["paths"]["/api/trade/engines/{mode}/halt"]
    assert "get" in schema["paths"]["/api/trade/engines/halts"]
    assert "get" in schema["paths"]["/api/trade/positions/totals"]
    assert "realized_pnl" in schema["components"]["schemas"]["PositionOut"]["properties"]
