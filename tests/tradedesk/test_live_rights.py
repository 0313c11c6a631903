"""LIVE rights in one place: adding risk to a LIVE project or changing its set-up needs orders.trade_live
(page, API and admin alike); reducing risk (cancel, close, liquidate, HALT, REDUCING) is open to members."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from orders.models import AuditLog, OrderStatus, Project, TradeOrder
from orders.services import apply_fill_to_order, update_trade_order_status
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def live(user: Any) -> Project:
    """A LIVE project alice (no orders.trade_live) is a member of, holding 5 KO."""
    project = ProjectFactory(name="live-book", mode="live", members=[user])
    seed = TradeOrderFactory(project=project, symbol="KO", quantity=Decimal(5))
    apply_fill_to_order(seed, quantity=5, price=50)
    update_trade_order_status(seed, OrderStatus.FILLED)
    return project


@pytest.fixture
def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(api: Client, path: str, body: dict[str, Any]) -> Any:
    return api.post(path, data=json.dumps(body), content_type="application/json")


def state_of(project: Project) -> tuple[str, str]:
    project.refresh_from_db()
    return project.mode, project.trading_state


@pytest.mark.parametrize(
    ("start", "target"), [("HALTED", "ACTIVE"), ("HALTED", "REDUCING"), ("REDUCING", "ACTIVE")]
)
def test_api_moves_towards_active_on_live_need_the_permission(
    api: Client, live: Project, start: str, target: str
) -> None:
    Project.objects.filter(pk=live.pk).update(trading_state=start)
    response = post(api, f"/api/trade/projects/{live.pk}/trading-state", {"trading_state": target})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert state_of(live) == ("live", start)
    assert not AuditLog.objects.filter(action="trading_state").exists()


@pytest.mark.parametrize("target", ["HALTED", "REDUCING"])
def test_api_halt_and_reduce_only_on_live_are_open_to_members(
    api: Client, live: Project, target: str
) -> None:
    response = post(api, f"/api/trade/projects/{live.pk}/trading-state", {"trading_state": target})
    assert response.status_code == 200 and state_of(live) == ("live", target)


def test_api_live_order_without_the_permission_is_403_and_nothing_is_created(
    api: Client, live: Project
) -> None:
    before = TradeOrder.objects.count()
    response = post(
        api, "/api/trade/orders", {"symbol": "KO", "side": "BUY", "quantity": 1, "project_id": live.pk}
    )
    assert response.status_code == 403
    assert TradeOrder.objects.count() == before


def test_api_close_cancel_and_liquidate_on_live_are_open_to_members(api: Client, live: Project) -> None:
    working = TradeOrderFactory(project=live, symbol="MSFT", params={"source": "manual"})
    assert post(api, f"/api/trade/orders/{working.pk}/cancel", {}).status_code == 200
    closed = post(api, "/api/trade/positions/close", {"project_id": live.pk, "symbols": ["KO"]})
    assert closed.status_code == 200 and len(closed.json()["orders"]) == 1
    again = post(api, "/api/trade/positions/liquidate", {"project_id": live.pk})
    assert again.status_code == 200 and again.json()["skipped"] == {"KO": "already being closed"}


def test_page_resume_on_live_without_the_permission_is_403_and_unchanged(
    browser: Client, live: Project
) -> None:
    Project.objects.filter(pk=live.pk).update(trading_state="HALTED")
    for state in ("ACTIVE", "REDUCING"):
        response = browser.post(
            reverse("live-trade-trading-state"),
            {"project": live.pk, "state": state, "confirm_name": live.name},
            **HTMX,
        )
        assert response.status_code == 403
        assert state_of(live) == ("live", "HALTED")


def test_page_mode_switch_of_live_without_the_permission_is_403_and_unchanged(
    browser: Client, live: Project
) -> None:
    response = browser.post(reverse("live-trade-mode"), {"project": live.pk, "mode": "paper"}, **HTMX)
    assert response.status_code == 403
    assert state_of(live) == ("live", "ACTIVE")
    assert not AuditLog.objects.filter(action="mode_switch").exists()


def test_page_live_order_without_the_permission_is_403(browser: Client, live: Project) -> None:
    before = TradeOrder.objects.count()
    response = browser.post(
        reverse("live-trade-order-new"),
        {"project": live.pk, "symbol": "KO", "side": "BUY", "quantity": "1", "order_type": "MKT"},
        **HTMX,
    )
    assert response.status_code == 403
    assert TradeOrder.objects.count() == before


@pytest.fixture
def staff_client(live: Project) -> Client:
    """A staff member who may change projects in the admin, without orders.trade_live."""
    staff = UserFactory(username="staffer", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["change_project", "view_project"]))
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"mode": "paper"}, ("live", "ACTIVE")),
        ({"max_order_quantity": "999999"}, ("live", "ACTIVE")),
    ],
)
def test_admin_set_up_changes_of_live_without_the_permission_change_nothing(
    staff_client: Client, live: Project, change: dict[str, str], expected: tuple[str, str]
) -> None:
    url = reverse("admin:orders_project_change", args=[live.pk])
    form = {"name": live.name, "mode": "live", "trading_state": "ACTIVE", "members": [], **change}
    response = staff_client.post(url, form)
    assert response.status_code == 200 and "orders.trade_live" in response.content.decode()
    assert state_of(live) == expected
    live.refresh_from_db()
    assert live.max_order_quantity is None and live.members.count() == 1


def test_admin_unhalt_of_live_without_the_permission_changes_nothing(
    staff_client: Client, live: Project
) -> None:
    Project.objects.filter(pk=live.pk).update(trading_state="HALTED")
    url = reverse("admin:orders_project_change", args=[live.pk])
    form = {
        "name": live.name,
        "mode": "live",
        "trading_state": "ACTIVE",
        "members": [str(m.pk) for m in live.members.all()],
    }
    response = staff_client.post(url, form)
    assert response.status_code == 200 and "orders.trade_live" in response.content.decode()
    assert state_of(live) == ("live", "HALTED")
