"""The positions table's row actions: buy and sell from a row, close, close selected, liquidate."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Position, Project, TradeOrder
from tests.tradedesk.web.desk_page import HTMX, NEW_ORDER, row, seed_position

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_dispatch")]


def test_row_buy_then_sell_are_two_orders(client_in: Client, project: Project) -> None:
    seed_position(project)
    buy = client_in.post(NEW_ORDER, row(project, "BUY", "1", "oi_row_1"), **HTMX)
    sell = client_in.post(NEW_ORDER, row(project, "SELL", "1", "oi_row_2"), **HTMX)
    assert buy.status_code == sell.status_code == 200
    manual = TradeOrder.objects.filter(params__source="manual").order_by("id")
    assert [o.side for o in manual] == ["BUY", "SELL"]
    body = sell.content.decode()
    assert 'data-testid="account-positions-table"' in body
    assert '"client_order_id": "oi_row_2"' not in body  # the row rendered fresh keys


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "", "2000000"])
def test_row_bad_quantity_shows_the_error_in_the_row(
    client_in: Client, project: Project, quantity: str
) -> None:
    position = seed_position(project)
    response = client_in.post(NEW_ORDER, row(project, "BUY", quantity, "oi_row_bad"), **HTMX)
    assert response.status_code == 422
    body = response.content.decode()
    error = body.split(f'id="qty-{position.pk}-error" data-testid="row-error">')[1].split("</div>")[0]
    assert error.strip()
    assert f'value="{quantity}"' in body
    assert not TradeOrder.objects.filter(params__source="manual").exists()


def test_close_sends_the_opposite_side_for_the_whole_position(client_in: Client, project: Project) -> None:
    seed_position(project, quantity=10)
    response = client_in.post(
        reverse("live-trade-close"), {"project": project.pk, "symbols": ["AAPL"]}, **HTMX
    )
    assert response.status_code == 200
    order = TradeOrder.objects.get(params__source="manual")
    assert (order.side, order.quantity, order.params["action"]) == ("SELL", Decimal(10), "close")


def test_close_selected_without_a_selection_says_so(client_in: Client, project: Project) -> None:
    seed_position(project)
    response = client_in.post(reverse("live-trade-close"), {"project": project.pk}, **HTMX)
    assert response.status_code == 422
    assert "Select at least one position" in response.content.decode()


def test_liquidate_closes_every_position(client_in: Client, project: Project) -> None:
    seed_position(project, "AAPL", 10)
    seed_position(project, "MSFT", 5, "410.45")
    response = client_in.post(reverse("live-trade-liquidate"), {"project": project.pk}, **HTMX)
    assert response.status_code == 200
    closing = TradeOrder.objects.filter(params__source="manual").order_by("symbol")
    assert [(o.symbol, o.side, o.quantity) for o in closing] == [("AAPL", "SELL", 10), ("MSFT", "SELL", 5)]


def test_live_liquidate_needs_the_project_name(client_in: Client, project: Project, user: Any) -> None:
    seed_position(project)
    Project.objects.filter(pk=project.pk).update(mode="live")
    Position.objects.update(mode="live")
    user.is_superuser = True  # holds orders.trade_live
    user.save()
    refused = client_in.post(reverse("live-trade-liquidate"), {"project": project.pk}, **HTMX)
    assert refused.status_code == 422
    assert not TradeOrder.objects.filter(params__source="manual").exists()
    accepted = client_in.post(
        reverse("live-trade-liquidate"), {"project": project.pk, "confirm_name": "alpha"}, **HTMX
    )
    assert accepted.status_code == 200
    assert TradeOrder.objects.filter(params__source="manual", mode="live").count() == 1
