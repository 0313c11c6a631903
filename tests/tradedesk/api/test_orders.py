"""The JSON API under /api/trade/: status codes, messages, and that refused requests change nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from orders.models import ApiToken, AuditLog, Project, TradeOrder
from orders.services import api_token_revoke, apply_fill_to_order
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/trade/orders"


def post(client: Client, url: str, body: Any) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def order_body(project: Project, **extra: Any) -> dict[str, Any]:
    return {
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": 1,
        "order_type": "MKT",
        "project_id": project.pk,
        **extra,
    }


def test_post_creates_order_201_with_manual_params(api: Client, project: Project) -> None:
    response = post(api, URL, order_body(project))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "NEW" and data["quantity"] == "1" and data["source"] == "manual"
    assert data["params"] == {"source": "manual", "project_id": project.pk, "mode": "paper"}


def test_idempotent_replay_answers_200_with_the_same_order(api: Client, project: Project) -> None:
    first = post(api, URL, order_body(project, client_order_id="k-1"))
    second = post(api, URL, order_body(project, client_order_id="k-1"))
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert TradeOrder.objects.count() == 1


def test_reused_client_order_id_with_other_payload_is_409(api: Client, project: Project) -> None:
    post(api, URL, order_body(project, client_order_id="k-1"))
    response = post(api, URL, order_body(project, client_order_id="k-1", side="SELL"))
    assert response.status_code == 409 and "client_order_id" in response.json()["detail"]
    assert TradeOrder.objects.get().side == "BUY"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -5}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": 10_000_000}, "quantity"),
        ({"symbol": "not a symbol"}, "symbol"),
        ({"side": "SHORT"}, "side"),
        ({"order_type": "LMT"}, "limit_price"),
        ({"order_type": "LMT", "limit_price": -1}, "limit_price"),
        ({"mode": "live"}, "mode"),
        ({"client_order_id": "bad id!"}, "client_order_id"),
    ],
)
def test_invalid_input_is_422_with_field_and_reason(
    api: Client, project: Project, extra: dict, field: str
) -> None:
    response = post(api, URL, order_body(project, **extra))
    assert response.status_code == 422, response.content
    body = response.json()
    assert field in body["errors"] and body["errors"][field]
    assert not TradeOrder.objects.exists()


def test_missing_fields_are_422(api: Client) -> None:
    response = post(api, URL, {})
    assert response.status_code == 422
    assert {"symbol", "side", "quantity"} <= set(response.json()["errors"])


@pytest.mark.parametrize("body", ["[1, 2, 3]", '"text"', "42", "null", "{not json", b"\xff\xfe"])
def test_body_that_is_not_a_json_object_is_400(api: Client, body: Any) -> None:
    response = post(api, URL, body)
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert not TradeOrder.objects.exists()


def test_unknown_project_is_404(api: Client) -> None:
    response = post(api, URL, {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": 999999})
    assert response.status_code == 404


def test_project_of_others_is_404(api: Client) -> None:
    other = ProjectFactory(name="theirs", members=[UserFactory(username="bob")])
    response = post(api, URL, order_body(other))
    assert response.status_code == 404 and not TradeOrder.objects.exists()


def test_without_credentials_is_401_json_not_a_redirect(db: Any) -> None:
    response = post(Client(), URL, {"symbol": "AAPL", "side": "BUY", "quantity": 1})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert Client().get(URL).status_code == 401


def test_bad_and_revoked_tokens_are_401(token: str, api: Client) -> None:
    assert Client(HTTP_AUTHORIZATION="Bearer nope").get(URL).status_code == 401
    api_token_revoke(token=ApiToken.objects.get())
    assert api.get(URL).status_code == 401


def test_tokens_are_stored_hashed(token: str) -> None:
    stored = ApiToken.objects.get()
    assert token not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64


def test_session_post_without_csrf_token_is_refused(user: Any, project: Project) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = post(client, URL, order_body(project))
    assert response.status_code in (401, 403)
    assert not TradeOrder.objects.exists()


def test_session_get_works_for_the_browser(user: Any, project: Project) -> None:
    client = Client()
    client.force_login(user)
    assert client.get(URL).status_code == 200


def test_list_is_newest_first_with_count_and_filters(api: Client, project: Project) -> None:
    for symbol in ("AAPL", "MSFT", "AAPL"):
        TradeOrderFactory(project=project, symbol=symbol)
    TradeOrderFactory(project=ProjectFactory(name="hidden"))
    data = api.get(URL, {"limit": 2}).json()
    assert data["count"] == 3 and len(data["items"]) == 2
    assert data["items"][0]["id"] > data["items"][1]["id"]
    assert api.get(URL, {"symbol": "msft"}).json()["count"] == 1
    assert api.get(URL, {"status": "FILLED"}).json()["count"] == 0
    assert api.get(URL, {"limit": 0}).status_code == 422


def test_listing_orders_ingests_a_pending_events_file_first(
    api: Client, project: Project, execution_root: Path
) -> None:
    order = TradeOrderFactory(project=project, client_order_id="oi_list_1")
    path = execution_root / "engines" / "paper" / "events.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "tag": "oi_list_1",
                "status": "Filled",
                "filled": 1,
                "fill_price": 3.5,
                "time": "2026-11-25T10:00:00Z",
            }
        )
        + "\n"
    )
    data = api.get(URL).json()
    assert data["items"][0]["status"] == "FILLED"
    order.refresh_from_db()
    assert order.avg_fill_price == Decimal("3.5")


def test_order_detail_has_fills_and_events_and_404_for_others(api: Client, project: Project) -> None:
    order = TradeOrderFactory(project=project)
    apply_fill_to_order(order, quantity=1, price="12.5")
    data = api.get(f"{URL}/{order.pk}").json()
    assert data["fills"][0]["price"] == "12.5" and data["events"]
    foreign = TradeOrderFactory(project=ProjectFactory(name="x"))
    assert api.get(f"{URL}/{foreign.pk}").status_code == 404
    assert api.get(f"{URL}/999999").status_code == 404


def test_cancel_of_an_unsent_order_cancels_it_locally(api: Client, project: Project) -> None:
    order = TradeOrderFactory(project=project)
    response = api.post(f"{URL}/{order.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "CANCELED"
    assert AuditLog.objects.filter(action="order_cancel", order=order).exists()


def test_cancel_of_a_closed_order_is_409(api: Client, project: Project) -> None:
    order = TradeOrderFactory(project=project, status="FILLED")
    assert api.post(f"{URL}/{order.pk}/cancel").status_code == 409


def test_positions_close_and_liquidate(api: Client, project: Project) -> None:
    for symbol in ("AAPL", "MSFT"):
        seed = TradeOrderFactory(project=project, symbol=symbol, quantity=Decimal(3))
        apply_fill_to_order(seed, quantity=3, price=10)
    positions = api.get("/api/trade/positions", {"project_id": project.pk}).json()
    assert {p["symbol"]: p["quantity"] for p in positions} == {"AAPL": "3", "MSFT": "3"}
    closed = post(api, "/api/trade/positions/close", {"project_id": project.pk, "symbols": ["AAPL"]}).json()
    assert [(o["symbol"], o["side"], o["quantity"]) for o in closed["orders"]] == [("AAPL", "SELL", "3")]
    liquidated = post(api, "/api/trade/positions/liquidate", {"project_id": project.pk}).json()
    assert [o["symbol"] for o in liquidated["orders"]] == ["MSFT"]
    assert liquidated["skipped"] == {"AAPL": "already being closed"}


def test_positions_of_others_are_404(api: Client) -> None:
    other = ProjectFactory(name="nope")
    assert api.get("/api/trade/positions", {"project_id": other.pk}).status_code == 404
    assert post(api, "/api/trade/positions/liquidate", {"project_id": other.pk}).status_code == 404


def test_kill_switch_halts_and_cancels_working_orders(api: Client, project: Project) -> None:
    working = TradeOrderFactory(project=project)
    response = post(api, f"/api/trade/projects/{project.pk}/trading-state", {"trading_state": "HALTED"})
    assert response.status_code == 200 and response.json()["trading_state"] == "HALTED"
    working.refresh_from_db()
    assert working.status == "CANCELED"
    refused = post(api, URL, order_body(project))
    assert refused.status_code == 422 and "halted" in refused.json()["detail"]


def test_engines_endpoint_lists_the_modes_of_the_users_projects(api: Client, project: Project) -> None:
    data = api.get("/api/trade/engines").json()
    assert {e["mode"] for e in data} == {"paper"}
    assert all(e["state"] == "not started" for e in data)


def test_openapi_schema_is_served(api: Client) -> None:
    schema = api.get("/api/openapi.json").json()
    assert "/api/trade/orders" in schema["paths"]


@pytest.mark.parametrize("params", [{"status": "BOGUS"}, {"symbol": "A\x00B"}, {"status": "\x00"}])
def test_bad_list_filters_are_422(api: Client, params: dict[str, str]) -> None:
    assert api.get(URL, params).status_code == 422


def test_list_items_are_the_detail_shape_byte_for_byte(api: Client, project: Project, user: Any) -> None:
    order = TradeOrderFactory(project=project, created_by=user, quantity=Decimal("3.5"), symbol="MSFT")
    apply_fill_to_order(order, quantity=Decimal(2), price=Decimal("101.25"))
    item = api.get(URL).json()["items"][0]
    detail = api.get(f"{URL}/{order.pk}").json()
    assert item == {k: v for k, v in detail.items() if k not in ("fills", "events", "children")}
    assert item["created_by"] == user.get_username() and item["quantity"] == "3.5"


def test_count_is_capped_and_the_cursor_pages_through_everything(
    api: Client, project: Project, monkeypatch: Any
) -> None:
    from tradedesk.api import orders as orders_api

    monkeypatch.setattr(orders_api, "COUNT_CAP", 4)
    ids = sorted((TradeOrderFactory(project=project).pk for _ in range(7)), reverse=True)
    first = api.get(URL, {"limit": 3}).json()
    assert (first["count"], first["count_exact"]) == (4, False)
    seen, page = [], first
    while True:
        seen += [item["id"] for item in page["items"]]
        if page["next"] is None:
            break
        page = api.get(URL, {"limit": 3, "cursor": page["next"]}).json()
    assert seen == ids
    assert api.get(URL, {"limit": 3, "offset": 3}).json()["items"][0]["id"] == ids[3]
    small = api.get(URL, {"symbol": "NOPE"}).json()
    assert (small["count"], small["count_exact"], small["next"]) == (0, True, None)
    assert api.get(URL, {"cursor": "not-a-cursor"}).status_code == 422
