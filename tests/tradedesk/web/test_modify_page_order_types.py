"""The page's inline modify of a trailing stop (its trailing amount, in its unit; never its stop) and of a limit
if touched (its trigger beside its limit): the fields are offered by type, sent, pending, and refused readably."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import OrderStatus, Project, TradeOrder
from tests.tradedesk.web.test_modify_page import HTMX, acknowledged, client_zh

__all__ = ["client_zh"]  # a fixture used by this module's tests

pytestmark = pytest.mark.django_db


def trailing_stop(project: Project, **fields: Any) -> TradeOrder:
    values = {"side": "SELL", "order_type": "TRAIL", "limit_price": None, "trailing_amount": Decimal(2),
              "stop_price": Decimal(188), **fields}  # fmt: skip
    return acknowledged(project, **values)


def limit_if_touched(project: Project) -> TradeOrder:
    return acknowledged(
        project, order_type="LIT", trigger_price=Decimal(185), limit_price=Decimal(186), ib_order_id=8
    )


def row(client: Client, project: Project, order: TradeOrder) -> str:
    body = client.get(reverse("live-trade-orders"), {"project": project.pk}, **HTMX).content.decode()
    start = body.index(f'id="order-{order.pk}"')
    return body[start : body.index("</tr>", start)]


def test_the_edit_form_offers_each_type_its_own_prices(client_in: Client, project: Project) -> None:
    trail = row(
        client_in, project, trailing_stop(project, trailing_as_percent=True, trailing_amount=Decimal("2.5"))
    )
    lit = row(client_in, project, limit_if_touched(project))

    assert (
        'data-testid="order-edit-trail"' in trail and 'placeholder="2.50"' in trail and "%</label>" in trail
    )
    assert 'data-testid="order-edit-stop"' not in trail and 'data-testid="order-edit-trigger"' not in trail
    assert 'data-testid="order-edit-trigger"' in lit and 'data-testid="order-edit-limit"' in lit
    assert 'data-testid="order-edit-trail"' not in lit


def test_a_new_trailing_amount_from_the_page_is_sent_and_shown_pending(
    client_in: Client, project: Project, monkeypatch: Any
) -> None:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr("execution.engine.process.running_engine", lambda mode: {"pid": 1, "run_id": "r-1"})
    monkeypatch.setattr("execution.engine.process.send_command", lambda mode, command: sent.append(command))
    monkeypatch.setattr("execution.engine.process.wait_command_result", lambda *a, **k: {"success": True})
    order = trailing_stop(project)

    response = client_in.post(
        reverse("live-trade-order-modify", args=[order.pk]), {"trailing_amount": "1.5"}, **HTMX
    )

    assert response.status_code == 200
    assert 'data-testid="order-update-pending"' in response.content.decode()
    assert [(c["$type"], c["TrailingAmount"]) for c in sent] == [("TradedeskUpdateCommand", 1.5)]
    assert TradeOrder.objects.get(pk=order.pk).update_trailing_amount == Decimal("1.5")


def test_a_trigger_refused_names_the_field_in_the_traders_language(
    client_zh: Client, project: Project, monkeypatch: Any
) -> None:
    monkeypatch.setattr("execution.engine.process.running_engine", lambda mode: {"pid": 1, "run_id": "r-1"})
    order = limit_if_touched(project)

    response = client_zh.post(
        reverse("live-trade-order-modify", args=[order.pk]), {"trigger_price": "184.555"}, **HTMX
    )

    assert response.status_code == 422
    assert "触发价: 价格必须是最小变动价位 0.01 的整数倍" in response.content.decode()
    assert TradeOrder.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED
