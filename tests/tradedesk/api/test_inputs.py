"""Hostile API and form input: bounded numbers and ids, one error shape, strict JSON bodies (issue 11)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import ApiToken, Project, TradeOrder
from orders.services import api_token_revoke
from tests.factories import ProjectFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]
URL = "/api/trade/orders"
HUGE = "99999999999999999999"


def post(client: Client, body: Any, url: str = URL) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def order(project: Project, **extra: Any) -> dict[str, Any]:
    return {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk, **extra}


def assert_shape(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "code", "errors"} and isinstance(body["errors"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body


# --- 1. numbers and ids bound before arithmetic or SQL --------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"quantity": "1e999999999"},
        {"quantity": "-1e999999999"},
        {"quantity": "1e-999999999"},
        {"order_type": "LMT", "limit_price": "1e999999999"},
        {"quantity": "9" * 70},
    ],
)
def test_huge_exponents_are_422_naming_the_field_not_a_500(
    api: Client, project: Project, extra: dict[str, Any]
) -> None:
    body = assert_shape(post(api, order(project, **extra)), 422, "invalid")
    field = "limit_price" if "limit_price" in extra else "quantity"
    assert field in body["errors"]
    assert not TradeOrder.objects.exists()


@pytest.mark.parametrize(
    ("number", "status", "field"),
    [("1e999999999", 422, "quantity"), ("-1e999999999", 422, "quantity"), ("1" + "0" * 5000, 400, None)],
)
def test_a_json_number_with_a_huge_exponent_is_422(
    api: Client, project: Project, number: str, status: int, field: str | None
) -> None:
    # A number too long for Python's int parser is a body that cannot be read: 400, still in the one shape.
    raw = json.dumps(order(project)).replace('"quantity": 1', f'"quantity": {number}')
    body = assert_shape(post(api, raw), status)
    assert (field in body["errors"]) if field else body["errors"] == {}
    assert not TradeOrder.objects.exists()


def test_page_form_with_a_huge_exponent_shows_the_field_error(user: Any, project: Project) -> None:
    client = Client()
    client.force_login(user)
    data = {"project": project.pk, "symbol": "AAPL", "side": "BUY", "quantity": "1e999999999"}
    response = client.post(reverse("live-trade-order-new"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert not TradeOrder.objects.exists()


@pytest.mark.parametrize("query", [f"offset={HUGE}", f"project_id={HUGE}", "limit=0", "offset=-1"])
def test_ids_and_offsets_beyond_the_database_range_are_422(api: Client, query: str) -> None:
    assert_shape(api.get(f"{URL}?{query}"), 422, "invalid")


@pytest.mark.parametrize("url", [f"/api/trade/orders/{HUGE}", f"/api/trade/positions?project_id={HUGE}"])
def test_path_and_query_ids_beyond_the_database_range_are_not_a_500(api: Client, url: str) -> None:
    response = api.get(url)
    assert_shape(response, response.status_code)
    assert response.status_code in (404, 422)


def test_page_ids_beyond_the_database_range_are_404(user: Any, project: Project) -> None:
    client = Client()
    client.force_login(user)
    assert client.get(reverse("live-trade-order", args=[int(HUGE)])).status_code == 404
    assert client.get(f"{reverse('live-trade')}?project={HUGE}").status_code in (200, 404)
    data = {"project": HUGE, "symbol": "AAPL", "side": "BUY", "quantity": "1"}
    assert client.post(reverse("live-trade-order-new"), data, HTTP_HX_REQUEST="true").status_code == 422


# --- 8. one error shape --------------------------------------------------------------------------------


def test_no_bad_or_revoked_token_on_a_post_is_401_json_not_a_csrf_403(
    token: str, api: Client, project: Project
) -> None:
    # As a real client (curl, a script) meets them: the test Client skips CSRF checks unless told not to.
    def client(authorization: str = "") -> Client:
        extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        return Client(enforce_csrf_checks=True, **extra)

    assert_shape(post(client("Bearer nope"), order(project)), 401, "unauthorized")
    api_token_revoke(token=ApiToken.objects.get())
    assert_shape(post(client(f"Bearer {token}"), order(project)), 401, "unauthorized")
    assert_shape(post(client(), order(project)), 401, "unauthorized")


def test_session_post_without_csrf_token_is_403_csrf_failed(user: Any, project: Project) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert_shape(post(client, order(project)), 403, "csrf_failed")
    assert not TradeOrder.objects.exists()


def test_bearer_requests_are_not_subject_to_csrf(token: str, project: Project) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert post(client, order(project)).status_code == 201


def test_a_body_over_the_cap_is_413_json(api: Client, project: Project, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1 << 20
    padding = "x" * (10 << 20)
    assert_shape(post(api, order(project, client_order_id=padding)), 413, "payload_too_large")
    assert not TradeOrder.objects.exists()


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_unsupported_methods_are_405_json(api: Client, method: str) -> None:
    response = getattr(api, method)(URL)
    assert_shape(response, 405, "method_not_allowed")


def test_unknown_api_routes_are_404_json(api: Client) -> None:
    assert_shape(api.get("/api/trade/nothing-here"), 404, "not_found")
    assert_shape(Client().get("/api/nope"), 404, "not_found")


@pytest.mark.parametrize("body", ["[]", "null", "[1, 2]", '"text"', "42", "{not json", "NaN"])
def test_non_object_bodies_are_400_with_a_code(api: Client, body: str) -> None:
    assert_shape(post(api, body), 400, "bad_request")


def test_domain_errors_always_carry_an_errors_object(api: Client) -> None:
    other = ProjectFactory(name="theirs", members=[UserFactory(username="bob")])
    assert assert_shape(post(api, order(other)), 404, "not_found")["errors"] == {}


# --- 9. strict JSON bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"project_id": True}, "project_id"),
        ({"project_id": "1"}, "project_id"),
        ({"project_id": 1.0}, "project_id"),
        ({"confirm": "yes"}, "confirm"),
        ({"confirm": 1}, "confirm"),
        ({"symbol": "ıbm"}, "symbol"),
        ({"symbol": "ßß"}, "symbol"),
        ({"side": "ſell"}, "side"),
        ({"quantity": "1_000"}, "quantity"),
        ({"quantity": "NaN"}, "quantity"),
        ({"quantity": "Infinity"}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"bogus": 1}, "bogus"),
        ({"params": {"source": "strategy"}}, "params.source"),
        ({"params": {"source": "manual", "extra": 1}}, "params.extra"),
    ],
)
def test_loose_values_and_unknown_fields_are_422_naming_the_field(
    api: Client, project: Project, extra: dict[str, Any], field: str
) -> None:
    body = assert_shape(post(api, order(project, **extra)), 422, "invalid")
    assert field in body["errors"], body
    assert not TradeOrder.objects.exists()


@pytest.mark.parametrize("quantity", [1, "1", "2.0", 2.0, " 2 "])
def test_numbers_and_numeric_strings_are_still_quantities(
    api: Client, project: Project, quantity: Any
) -> None:
    assert post(api, order(project, quantity=quantity)).status_code == 201


def test_params_project_id_alone_picks_the_project(api: Client, project: Project) -> None:
    body = {
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": 1,
        "params": {"source": "manual", "project_id": project.pk},
    }
    response = post(api, body)
    assert response.status_code == 201, response.content
    assert response.json()["project_id"] == project.pk


def test_project_ids_given_twice_must_agree(api: Client, project: Project, user: Any) -> None:
    other = ProjectFactory(name="beta", members=[user])
    body = order(project, params={"source": "manual", "project_id": other.pk, "mode": "paper"})
    assert "params.project_id" in assert_shape(post(api, body), 422)["errors"]
    agreeing = order(project, params={"source": "manual", "project_id": project.pk, "mode": "paper"})
    assert post(api, agreeing).status_code == 201
