"""Access and hardening: login everywhere, staff-only admin, security headers, throttled logins."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/live-trade",
        "/api/trade/orders",
        "/api/trade/positions?project_id=1",
        "/api/trade/engines",
        "/api/trade/projects",
    ],
)
def test_every_page_and_route_needs_a_login(url: str) -> None:
    response = Client().get(url)
    if url.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_admin_is_staff_only(user: Any) -> None:
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
    staff = UserFactory(username="lead", is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/orders/tradeorder/").status_code == 200


def test_security_headers_are_set(user: Any) -> None:
    client = Client()
    client.force_login(user)
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_repeated_failed_logins_are_locked_out(db: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="victim")
    client = Client()
    for _ in range(3):
        client.post("/accounts/login/", {"username": "victim", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "victim", "password": "pw"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_malformed_session_cookie_is_no_session_not_a_server_error(token: str) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.cookies["sessionid"] = "bad\x00key"
    assert client.get("/api/trade/orders").status_code == 200
    anonymous = Client()
    anonymous.cookies["sessionid"] = "bad\x00key"
    assert anonymous.get("/live-trade").status_code == 302


def test_failed_logins_for_one_user_never_lock_out_another_user_from_the_same_address(
    db: Any, settings: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="victim")
    UserFactory(username="bystander")
    attacker = Client(REMOTE_ADDR="10.0.0.7")
    for _ in range(4):
        attacker.post("/accounts/login/", {"username": "victim", "password": "wrong"})
    colleague = Client(REMOTE_ADDR="10.0.0.7")
    response = colleague.post("/accounts/login/", {"username": "bystander", "password": "pw"})
    assert response.status_code == 302 and "_auth_user_id" in colleague.session


def test_engines_endpoint_shows_a_trader_only_the_state_of_their_modes(db: Any, execution_root: Any) -> None:
    from orders.services import api_token_create
    from tests.factories import ProjectFactory

    trader = UserFactory(username="trader")
    ProjectFactory(name="p", members=[trader], mode="paper")
    lonely = UserFactory(username="lonely")
    (execution_root / "engines" / "aaa" / "events.jsonl").mkdir(parents=True)
    staff = UserFactory(username="lead", is_staff=True)

    def engines(user: Any) -> list[dict[str, Any]]:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user)[1]}")
        return client.get("/api/trade/engines").json()

    assert engines(lonely) == []
    (paper,) = engines(trader)
    assert paper["mode"] == "paper" and paper["state"] == "not started"
    assert all(paper[key] is None for key in ("pid", "run_id", "log_tail", "discrepancies", "message"))
    everything = engines(staff)
    assert {row["mode"] for row in everything} == {"paper", "live"}
    assert all(isinstance(row["log_tail"], list) for row in everything)
