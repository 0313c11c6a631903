"""Pre-trade risk checks: each refusal is a clear message, a 422 in the API, and nothing is created."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from orders.errors import ConfirmRequired, RiskRejected
from orders.models import Project, TradeOrder
from orders.services import apply_fill_to_order, create_trade_order
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db


def order(project: Project, **extra: Any) -> dict[str, Any]:
    return {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk, **extra}


def refused(user: Any, payload: dict[str, Any]) -> RiskRejected:
    before = TradeOrder.objects.count()
    with pytest.raises(RiskRejected) as info:
        create_trade_order(payload, user=user)
    assert TradeOrder.objects.count() == before
    return info.value


def test_quantity_above_the_projects_limit_is_refused(user: Any, project: Project) -> None:
    project.max_order_quantity = Decimal(10)
    project.save()
    assert "limit of 10" in refused(user, order(project, quantity=11)).message
    create_trade_order(order(project, quantity=10), user=user)


def test_notional_uses_the_limit_price(user: Any, project: Project) -> None:
    project.max_order_notional = Decimal(1000)
    project.save()
    error = refused(user, order(project, quantity=20, order_type="LMT", limit_price="60"))
    assert "order value 1,200.00" in error.message


def test_notional_uses_the_last_known_price_for_market_orders(user: Any, project: Project) -> None:
    project.max_order_notional = Decimal(1000)
    project.save()
    seed = TradeOrderFactory(project=project, quantity=Decimal(1))
    apply_fill_to_order(seed, quantity=1, price="250")
    refused(user, order(project, quantity=5))
    create_trade_order(order(project, quantity=4), user=user)


def test_too_many_working_orders_is_refused(user: Any, project: Project) -> None:
    project.max_working_orders = 2
    project.save()
    TradeOrderFactory.create_batch(2, project=project)
    assert "2 working orders" in refused(user, order(project)).message


def test_orders_per_minute_per_user_is_limited(user: Any, project: Project) -> None:
    project.max_orders_per_minute = 2
    project.save()
    create_trade_order(order(project), user=user)
    create_trade_order(order(project, quantity=2), user=user)
    assert "last minute" in refused(user, order(project, quantity=3)).message


def test_duplicate_order_within_seconds_needs_confirm(user: Any, project: Project, settings: Any) -> None:
    settings.TRADEDESK_DUPLICATE_WINDOW_SECONDS = 5
    create_trade_order(order(project), user=user)
    with pytest.raises(ConfirmRequired) as info:
        create_trade_order(order(project), user=user)
    assert info.value.checks == ["duplicate"] and "confirm" in info.value.errors
    assert TradeOrder.objects.count() == 1
    assert create_trade_order(order(project, confirm=True), user=user).created


def test_duplicate_guard_compares_order_type_and_price(user: Any, project: Project, settings: Any) -> None:
    settings.TRADEDESK_DUPLICATE_WINDOW_SECONDS = 5
    create_trade_order(order(project, order_type="LMT", limit_price="10"), user=user)
    assert create_trade_order(order(project, order_type="LMT", limit_price="11"), user=user).created
    assert create_trade_order(order(project), user=user).created
    with pytest.raises(ConfirmRequired):
        create_trade_order(order(project, order_type="LMT", limit_price="11"), user=user)


def test_confirm_never_overrides_a_hard_limit(user: Any, project: Project, settings: Any) -> None:
    settings.TRADEDESK_DUPLICATE_WINDOW_SECONDS = 5
    project.max_order_quantity = Decimal(1)
    project.save()
    refused(user, order(project, quantity=2, confirm=True))


def test_confirm_required_is_422_with_the_checks_that_asked(
    api: Client, project: Project, settings: Any
) -> None:
    settings.TRADEDESK_DUPLICATE_WINDOW_SECONDS = 5
    body = json.dumps(order(project))
    assert api.post("/api/trade/orders", data=body, content_type="application/json").status_code == 201
    response = api.post("/api/trade/orders", data=body, content_type="application/json")
    assert response.status_code == 422
    data = response.json()
    assert (
        data["code"] == "confirm_required" and data["checks"] == ["duplicate"] and "confirm" in data["errors"]
    )
    again = json.dumps(order(project, confirm=True))
    assert api.post("/api/trade/orders", data=again, content_type="application/json").status_code == 201


def test_reduce_only_counts_working_orders(user: Any, project: Project) -> None:
    seed = TradeOrderFactory(project=project, quantity=Decimal(5))
    apply_fill_to_order(seed, quantity=5, price=10)
    project.trading_state = "REDUCING"
    project.save()
    assert create_trade_order(order(project, side="SELL", quantity=5), user=user).created
    refused(user, order(project, side="SELL", quantity=5, confirm=True))
    refused(user, order(project, side="SELL", quantity=1, confirm=True))


def test_reducing_allows_only_orders_that_shrink_a_position(user: Any, project: Project) -> None:
    seed = TradeOrderFactory(project=project, quantity=Decimal(5))
    apply_fill_to_order(seed, quantity=5, price=10)
    project.trading_state = "REDUCING"
    project.save()
    refused(user, order(project, side="BUY"))
    refused(user, order(project, side="SELL", quantity=6))
    refused(user, order(project, symbol="MSFT", side="SELL"))
    assert create_trade_order(order(project, side="SELL", quantity=5), user=user).created


def test_risk_refusal_is_422_in_the_api(api: Client, project: Project) -> None:
    project.max_order_quantity = Decimal(1)
    project.save()
    response = api.post(
        "/api/trade/orders", data=json.dumps(order(project, quantity=2)), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "risk_rejected" and "limit" in response.json()["detail"]
    assert not TradeOrder.objects.exists()
