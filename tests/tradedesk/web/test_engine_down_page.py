"""The page's ticket, Close and Liquidate say why the engine is down (422), in the page's language, and place
nothing (execution.dispatch.engine_down_reason)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Project, TradeOrder

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
TICKET = {"symbol": "AAPL", "side": "BUY", "quantity": "1", "order_type": "MKT"}


@pytest.fixture
def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_ticket_shows_why_the_engine_is_down_and_places_nothing(
    browser: Client,
    project: Project,
    engine_down: str,
) -> None:
    response = browser.post(reverse("live-trade-order-new"), {"project": project.pk, **TICKET}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "the PAPER engine is down (stopped: LEAN ended the run on a brokerage message: " in html
    assert "2FA authentication confirmation required to reconnect." in html and "nothing was placed" in html
    assert not TradeOrder.objects.exists()


def test_the_ticket_says_it_in_chinese(browser: Client, project: Project, engine_down: str) -> None:
    response = browser.post(
        reverse("live-trade-order-new") + "?lang=zh-hans", {"project": project.pk, **TICKET}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 422 and "PAPER 引擎已停止（stopped: LEAN ended the run" in html, html[
        -3000:
    ]
    assert "未下任何订单" in html


@pytest.mark.parametrize(
    ("name", "data"), [("live-trade-close", {"symbols": "KO"}), ("live-trade-liquidate", {})]
)
def test_close_and_liquidate_on_the_page_say_the_same(
    browser: Client,
    holding: Project,
    engine_down: str,
    name: str,
    data: dict[str, str],
) -> None:
    count = TradeOrder.objects.count()
    response = browser.post(reverse(name), {"project": holding.pk, **data}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "the PAPER engine is down (stopped: LEAN ended the run on a brokerage message: " in html
    assert engine_down in html
    assert TradeOrder.objects.count() == count
