"""The API and the page answer each precaution alike, the page in the trader's language."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from execution.ingest.prices import fresh_market_price
from orders.models import Project, TradeOrder
from orders.services.market import market_price_source_register
from tradedesk.web.reasons import translate_reason

pytestmark = pytest.mark.django_db
URL = "/api/trade/orders"


@pytest.fixture
def market() -> Iterator[dict[str, Decimal]]:
    prices: dict[str, Decimal] = {}
    market_price_source_register(lambda mode, symbol: prices.get(symbol))
    yield prices
    market_price_source_register(fresh_market_price)


def post(api: Client, project: Project, **extra: Any) -> Any:
    body = {"symbol": "AAPL", "side": "BUY", "quantity": 1, "order_type": "MKT", "project_id": project.pk}
    return api.post(URL, data=json.dumps({**body, **extra}), content_type="application/json")


def zh(reason: str) -> str:
    with translation.override("zh-hans"):
        return translate_reason(reason)


def test_api_refuses_fractional_shares_with_422_and_zh_hans_reason(api: Client, project: Project) -> None:
    response = post(api, project, quantity="1.5")
    assert response.status_code == 422 and response.json()["code"] == "invalid"
    reason = response.json()["errors"]["quantity"]
    assert reason == "must be whole shares (lot size 1)"
    assert zh(reason) == "必须是整股（每手 1 股）"
    assert not TradeOrder.objects.exists()


def test_api_refuses_a_price_off_the_tick_with_422_and_zh_hans_reason(api: Client, project: Project) -> None:
    response = post(api, project, order_type="LMT", limit_price="1.2345")
    assert response.status_code == 422
    reason = response.json()["errors"]["limit_price"]
    assert reason == "must be on the tick of 0.01"
    assert zh(reason) == "价格必须是最小变动价位 0.01 的整数倍"


def test_api_refuses_past_the_hard_band_even_with_confirm(
    api: Client, project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("188.00")
    response = post(api, project, order_type="LMT", limit_price="1900", confirm=True)
    assert response.status_code == 422 and response.json()["code"] == "risk_rejected"
    reason = response.json()["errors"]["limit_price"]
    assert zh(reason) == "价格偏离市价 188.00 达 910.6%（上限 50%）"


def test_api_asks_to_confirm_past_the_soft_band_and_confirm_places_it(
    api: Client, project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("188.00")
    asked = post(api, project, order_type="LMT", limit_price="220")
    assert asked.status_code == 422
    body = asked.json()
    assert body["code"] == "confirm_required" and body["checks"] == ["price_deviation"]
    assert zh(body["errors"]["confirm"]) == "价格偏离市价 188.00 达 17%：如需发送请勾选“仍然下单”"
    placed = post(api, project, order_type="LMT", limit_price="220", confirm=True)
    assert placed.status_code == 201


def test_the_page_shows_the_whole_shares_reason_in_zh_hans(
    client: Client, user: Any, project: Project
) -> None:
    client.force_login(user)
    response = client.post(
        "/live-trade/orders/new",
        {"project": project.pk, "symbol": "AAPL", "side": "BUY", "quantity": "1.5", "order_type": "MKT"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "必须是整股（每手 1 股）" in response.content.decode()
