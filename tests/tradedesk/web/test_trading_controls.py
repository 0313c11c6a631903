"""The page's controls over trading: the kill switch, an order's cancel, the switch to live mode."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import OrderStatus, Project, TradeOrder, TradingState
from tests.factories import TradeOrderFactory
from tests.tradedesk.web.desk_page import HTMX, NEW_ORDER, PAGE, seed_position, ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]


def test_kill_switch_halts_and_then_a_new_order_is_refused(client_in: Client, project: Project) -> None:
    working = TradeOrderFactory(project=project)
    response = client_in.post(
        reverse("live-trade-trading-state"), {"project": project.pk, "state": "HALTED"}, **HTMX
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.trading_state == TradingState.HALTED
    working.refresh_from_db()
    assert working.status == OrderStatus.CANCELED  # never sent: canceled locally
    assert "Trading halted" in response.content.decode()
    refused = client_in.post(NEW_ORDER, ticket(project), **HTMX)
    assert refused.status_code == 422
    assert "trading is halted" in refused.content.decode()
    assert TradeOrder.objects.count() == 1
    back = client_in.post(
        reverse("live-trade-trading-state"), {"project": project.pk, "state": "ACTIVE"}, **HTMX
    )
    assert back.status_code == 200
    assert client_in.post(NEW_ORDER, ticket(project, key="k9"), **HTMX).status_code == 200


def test_cancel_of_an_unsent_order_cancels_it(client_in: Client, project: Project) -> None:
    order = TradeOrderFactory(project=project)
    response = client_in.post(reverse("live-trade-order-cancel", args=[order.pk]), **HTMX)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED


def test_cancel_of_a_final_order_explains_why_not(client_in: Client, project: Project) -> None:
    seed_position(project)
    order = TradeOrder.objects.get()
    response = client_in.post(reverse("live-trade-order-cancel", args=[order.pk]), **HTMX)
    assert response.status_code == 409
    assert "cannot be canceled" in response.content.decode()


def test_mode_switch_to_live_needs_permission_and_the_typed_name(
    client_in: Client, project: Project, user: Any
) -> None:
    from django.contrib.auth.models import Permission

    url = "/live-trade/mode"
    client_in.post(url, {"project": project.pk, "mode": "live", "confirm_name": project.name})
    project.refresh_from_db()
    assert project.mode == "paper"  # no orders.trade_live permission
    user.user_permissions.add(Permission.objects.get(codename="trade_live"))
    client_in.post(url, {"project": project.pk, "mode": "live", "confirm_name": "wrong"})
    project.refresh_from_db()
    assert project.mode == "paper"
    response = client_in.post(
        url, {"project": project.pk, "mode": "live", "confirm_name": project.name}, HTTP_HX_REQUEST="true"
    )
    project.refresh_from_db()
    assert project.mode == "live" and response["HX-Redirect"].startswith("/live-trade")
    assert 'data-testid="mode-switch"' in client_in.get(PAGE, {"project": project.pk}).content.decode()
    client_in.post(url, {"project": project.pk, "mode": "paper"})
    project.refresh_from_db()
    assert project.mode == "paper"
