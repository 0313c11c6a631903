"""Buying power before an order: the confirmation (`confirm_required`, check `buying_power`) when an order's
value is more than what the account has left, decided under the project's lock (real parallel requests on
PostgreSQL), and the ticket's preview line "leaves $X of $Y buying power"."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from orders.errors import ConfirmRequired
from orders.models import Project, TradeOrder
from orders.services import (
    apply_fill_to_order,
    buying_power_left,
    create_trade_order,
    update_trade_order_status,
)
from tests.factories import TradeOrderFactory
from tests.test_concurrency import in_parallel, post_json


def order(project: Project, user: Any, **fields: Any) -> TradeOrder:
    payload = {"project_id": project.pk, "symbol": "AAPL", "side": "BUY", "quantity": 10, "order_type": "MKT"}
    return create_trade_order({**payload, **fields}, user=user).order


@pytest.mark.django_db
def test_an_order_above_the_buying_power_asks_for_confirmation(
    project: Project, user: Any, market: dict[str, Decimal], buying_power: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("190")
    buying_power["paper"] = Decimal("1000")
    with pytest.raises(ConfirmRequired) as asked:
        order(project, user, quantity=6)  # 1,140 > 1,000
    assert asked.value.checks == ["buying_power"]
    assert asked.value.as_dict()["code"] == "confirm_required"
    assert TradeOrder.objects.count() == 0
    assert order(project, user, quantity=6, confirm=True).quantity == 6


@pytest.mark.django_db
def test_working_orders_take_their_share_and_reducing_orders_never_ask(
    project: Project, user: Any, market: dict[str, Decimal], buying_power: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("100")
    buying_power["paper"] = Decimal("1500")
    order(project, user, quantity=5, order_type="LMT", limit_price="100")  # works: takes 500
    assert buying_power_left(project=project) == Decimal(1000)
    with pytest.raises(ConfirmRequired):
        order(project, user, quantity=11)
    held = TradeOrderFactory(project=project, symbol="MSFT", quantity=Decimal(50))
    update_trade_order_status(held, "SUBMITTED")
    apply_fill_to_order(held, quantity=50, price="400")
    update_trade_order_status(held, "FILLED")
    market["MSFT"] = Decimal("400")
    assert order(project, user, symbol="MSFT", side="SELL", quantity=50).side == "SELL"  # 20,000 frees power


@pytest.mark.django_db
def test_without_a_fresh_account_snapshot_nothing_asks(
    project: Project, user: Any, market: dict[str, Decimal], buying_power: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("190")
    assert order(project, user, quantity=1000).quantity == 1000


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_parallel_orders_that_together_exceed_the_buying_power_cannot_all_pass_unconfirmed(
    project: Project, token: str, market: dict[str, Decimal], buying_power: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal("100")
    buying_power["paper"] = Decimal("1000")
    body = {"project_id": project.pk, "symbol": "AAPL", "side": "BUY", "quantity": 6, "order_type": "LMT"}
    responses = in_parallel(
        4,
        lambda i: post_json(
            token, "/api/trade/orders", {**body, "limit_price": "100", "client_order_id": f"bp-{i}"}
        ),
    )
    codes = sorted(response.status_code for response in responses)
    assert codes == [201, 422, 422, 422], [r.content for r in responses]
    asked = [json.loads(r.content) for r in responses if r.status_code == 422]
    assert all(a["code"] == "confirm_required" and a["checks"] == ["buying_power"] for a in asked)
    assert TradeOrder.objects.filter(project=project).count() == 1


@pytest.mark.django_db
def test_the_ticket_preview_says_what_the_order_leaves_of_the_buying_power(
    project: Project, user: Any, market: dict[str, Decimal], buying_power: dict[str, Decimal]
) -> None:
    client = Client()
    client.force_login(user)
    market["AAPL"] = Decimal("188.10")
    buying_power["paper"] = Decimal("44962")
    query = {"project": project.pk, "symbol": "AAPL", "quantity": "20", "order_type": "MKT"}
    text = client.get("/live-trade/preview", query, headers={"HX-Request": "true"}).content.decode()
    assert "≈ $3,762" in text and "leaves $41,200 of $44,962 buying power" in text
    assert "confirm needed" not in text
    over = client.get(
        "/live-trade/preview", {**query, "quantity": "300"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "more than the buying power: confirm needed" in over
    zh = client.get(
        "/live-trade/preview", {**query, "lang": "zh-hans"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "剩余购买力 $41,200 / $44,962" in zh
