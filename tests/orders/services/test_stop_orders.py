"""Stop (STP) and stop-limit (STP LMT) orders: validation, database constraints, risk, API, the page's form,
and the intent / OrderCommand they become."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from execution import actions as services
from execution.contract.intents import intent_payload
from execution.dispatch import handover
from execution.engine import process as engines
from orders.errors import OrderValidationError, RiskRejected
from orders.models import Project, TradeOrder
from orders.services import clean_order_payload, create_trade_order
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db

BUY = {"symbol": "AAPL", "side": "BUY", "quantity": 10}


def test_stop_order_needs_a_positive_stop_price_and_no_limit() -> None:
    clean = clean_order_payload({**BUY, "order_type": "STP", "stop_price": "195.5"})
    assert clean.order_type == "STP" and clean.stop_price == Decimal("195.5") and clean.limit_price is None
    for extra, field in (
        ({}, "stop_price"),
        ({"stop_price": 0}, "stop_price"),
        ({"stop_price": "x"}, "stop_price"),
        ({"stop_price": 195, "limit_price": 196}, "limit_price"),
    ):
        with pytest.raises(OrderValidationError) as caught:
            clean_order_payload({**BUY, "order_type": "STP", **extra})
        assert field in caught.value.errors


def test_stop_limit_order_needs_both_prices() -> None:
    clean = clean_order_payload({**BUY, "order_type": "stp  lmt", "stop_price": 195, "limit_price": "196.25"})
    assert (clean.order_type, clean.stop_price, clean.limit_price) == (
        "STP LMT",
        Decimal(195),
        Decimal("196.25"),
    )
    with pytest.raises(OrderValidationError) as caught:
        clean_order_payload({**BUY, "order_type": "STP LMT"})
    assert set(caught.value.errors) == {"stop_price", "limit_price"}


@pytest.mark.parametrize("order_type", ["MKT", "LMT"])
def test_market_and_limit_orders_refuse_a_stop_price(order_type: str) -> None:
    with pytest.raises(OrderValidationError) as caught:
        clean_order_payload({**BUY, "order_type": order_type, "limit_price": 5, "stop_price": 4})
    assert caught.value.errors["stop_price"] == "only a stop order has a stop price"


@pytest.mark.parametrize(
    ("order_type", "limit_price", "stop_price"),
    [
        ("STP", None, None),
        ("STP", Decimal(5), Decimal(4)),
        ("STP LMT", None, Decimal(4)),
        ("STP LMT", Decimal(5), None),
        ("MKT", None, Decimal(4)),
        ("LMT", Decimal(5), Decimal(4)),
    ],
)
def test_database_refuses_prices_that_do_not_match_the_type(
    project: Project, order_type: str, limit_price: Decimal | None, stop_price: Decimal | None
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TradeOrderFactory(
            project=project, order_type=order_type, limit_price=limit_price, stop_price=stop_price
        )


def test_database_accepts_each_type_with_its_prices(project: Project) -> None:
    for order_type, limit_price, stop_price in (
        ("MKT", None, None),
        ("LMT", Decimal(5), None),
        ("STP", None, Decimal(4)),
        ("STP LMT", Decimal(5), Decimal(4)),
    ):
        TradeOrderFactory(
            project=project, order_type=order_type, limit_price=limit_price, stop_price=stop_price
        )
    assert TradeOrder.objects.count() == 4


def test_risk_values_a_stop_order_at_its_stop_price(project: Project, user: Any) -> None:
    project.max_order_notional = Decimal(1000)
    project.save()
    create_trade_order({**BUY, "order_type": "STP", "stop_price": 99, "project_id": project.pk}, user=user)
    with pytest.raises(RiskRejected) as caught:
        create_trade_order(
            {**BUY, "order_type": "STP", "stop_price": 101, "project_id": project.pk}, user=user
        )
    assert "1,010.00" in caught.value.message


def test_risk_values_a_stop_limit_at_the_larger_of_its_prices(project: Project, user: Any) -> None:
    project.max_order_notional = Decimal(1000)
    project.save()
    with pytest.raises(RiskRejected):
        create_trade_order(
            {**BUY, "order_type": "STP LMT", "stop_price": 95, "limit_price": 105, "project_id": project.pk},
            user=user,
        )


def test_replay_with_another_stop_price_is_a_conflict(api: Client, project: Project) -> None:
    body = {**BUY, "order_type": "STP", "stop_price": 180, "project_id": project.pk, "client_order_id": "s-1"}
    first = api.post("/api/trade/orders", json.dumps(body), content_type="application/json")
    same = api.post("/api/trade/orders", json.dumps(body), content_type="application/json")
    other = api.post(
        "/api/trade/orders", json.dumps({**body, "stop_price": 181}), content_type="application/json"
    )
    assert (first.status_code, same.status_code, other.status_code) == (201, 200, 409)
    data = first.json()
    assert data["order_type"] == "STP" and data["stop_price"] == "180" and data["limit_price"] is None


def test_api_stop_limit_without_stop_price_is_422(api: Client, project: Project) -> None:
    body = {**BUY, "order_type": "STP LMT", "limit_price": 180, "project_id": project.pk}
    response = api.post("/api/trade/orders", json.dumps(body), content_type="application/json")
    assert response.status_code == 422 and "stop_price" in response.json()["errors"]
    assert not TradeOrder.objects.exists()


def test_ticket_form_places_a_stop_limit_order(client: Client, user: Any, project: Project) -> None:
    client.force_login(user)
    response = client.post(
        "/live-trade/orders/new",
        {
            "project": project.pk,
            "symbol": "aapl",
            "side": "SELL",
            "quantity": "3",
            "order_type": "STP LMT",
            "stop_price": "180",
            "limit_price": "179.5",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content
    order = TradeOrder.objects.get()
    assert (order.order_type, order.stop_price, order.limit_price) == (
        "STP LMT",
        Decimal(180),
        Decimal("179.5"),
    )


def test_ticket_form_shows_the_stop_price_error_in_chinese(
    client: Client, user: Any, project: Project
) -> None:
    client.force_login(user)
    response = client.post(
        "/live-trade/orders/new?lang=zh-hans",
        {"project": project.pk, "symbol": "AAPL", "side": "BUY", "quantity": "1", "order_type": "STP"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 422
    assert "止损单必须填写" in response.content.decode()


def test_stop_orders_become_stop_intents_and_lean_order_commands(project: Project) -> None:
    stop = TradeOrderFactory(
        project=project, order_type="STP", stop_price=Decimal("180.5"), quantity=Decimal(2)
    )
    stop_limit = TradeOrderFactory(
        project=project,
        side="SELL",
        order_type="STP LMT",
        stop_price=Decimal(180),
        limit_price=Decimal("179.75"),
    )
    assert intent_payload(stop)["stop_price"] == 180.5 and intent_payload(stop)["limit_price"] is None
    assert (
        intent_payload(stop_limit)["stop_price"] == 180
        and intent_payload(stop_limit)["limit_price"] == 179.75
    )

    command = handover._order_command(stop)
    assert (command["OrderType"], command["StopPrice"], command["LimitPrice"]) == ("StopMarket", 180.5, 0)
    command = handover._order_command(stop_limit)
    assert (command["OrderType"], command["StopPrice"], command["LimitPrice"]) == ("StopLimit", 180, 179.75)
    assert command["Quantity"] < 0


def test_market_and_limit_commands_are_unchanged(project: Project) -> None:
    market = TradeOrderFactory(project=project)
    limit = TradeOrderFactory(project=project, order_type="LMT", limit_price=Decimal(5))
    assert handover._order_command(market)["OrderType"] == "Market"
    assert handover._order_command(market)["StopPrice"] == 0
    assert (handover._order_command(limit)["OrderType"], handover._order_command(limit)["LimitPrice"]) == (
        "Limit",
        5,
    )


def test_a_stop_order_reaches_the_simulator_and_fills_once_triggered(
    project: Project, user: Any, settings: Any, execution_root: Path
) -> None:
    """A buy stop below the walk's price triggers at once; the simulator fills it."""
    from execution.ingest.events import ingest_execution_events
    from tests.waiting import wait_for

    settings.TRADEDESK_SIM_FILL_DELAY = 0.01
    order = create_trade_order(
        {**BUY, "order_type": "STP", "stop_price": 100, "project_id": project.pk}, user=user
    ).order
    result = services.order_dispatch(order_id=order.pk)
    assert result.outcome == "dispatched", result.detail

    def filled() -> bool:
        ingest_execution_events()
        order.refresh_from_db()
        return order.status == "FILLED"

    assert wait_for(filled, timeout=30), order.status
    assert order.filled_quantity == 10 and order.avg_fill_price is not None and order.avg_fill_price > 100
    log = (engines.engine_dir("paper") / "engine.log").read_text()
    assert "stop 100.0 triggered" in log
