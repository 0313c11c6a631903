"""The page's inline modify: every refusal in the trader's language, and how long an update has been pending."""

from __future__ import annotations

import ast
import zoneinfo
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from orders.models import OrderFlag, OrderStatus, Project, TradeOrder
from orders.services.modify import order_modify_record
from tests.factories import TradeOrderFactory
from tradedesk.web.reasons import SERVICE_REASONS, translate_reason

ROOT = Path(__file__).resolve().parents[3]
MODIFY_MODULES = ("orders/services/modify.py", "execution/actions/modify.py")
HTMX = {"HTTP_HX_REQUEST": "true"}


def refusal_texts() -> list[str]:
    """The fixed text of every Conflict the modify services raise."""
    texts = []
    for name in MODIFY_MODULES:
        tree = ast.parse((ROOT / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Conflict":
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    texts.append(first.value)
            returned = node.value if isinstance(node, ast.Return) else None
            if isinstance(returned, ast.Constant) and isinstance(returned.value, str):
                texts.append(returned.value)  # order_modify_refusal's reasons
    return texts


def test_every_fixed_modify_refusal_is_a_service_reason() -> None:
    texts = refusal_texts()
    assert "the engine run that holds this order is no longer running: it cannot be modified" in texts
    assert len(texts) >= 8
    assert [text for text in texts if text not in SERVICE_REASONS] == []


@pytest.mark.parametrize(
    "reason",
    [
        *refusal_texts(),
        "order is FILLED and cannot be modified",
        "must be more than the 4 already filled",
        "the engine refused the update: Order 7 is already Filled",
        "the update was refused by the engine, see engine.log",
        "the update could not be sent to the engine: disk full",
        "nothing to change: give a new quantity or price",
    ],
)
def test_every_modify_refusal_reads_in_simplified_chinese(reason: str) -> None:
    with translation.override("zh-hans"):
        text = translate_reason(reason)
    assert text != reason and any("\u4e00" <= char <= "\u9fff" for char in text), text


def test_a_final_orders_status_is_named_in_the_pages_language() -> None:
    with translation.override("zh-hans"):
        assert translate_reason("order is FILLED and cannot be modified") == "订单状态为已成交，无法修改"


@pytest.fixture
def client_zh(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    client.cookies["django_language"] = "zh-hans"
    return client


def acknowledged(project: Project, **fields: Any) -> TradeOrder:
    values: dict[str, Any] = {
        "project": project, "order_type": "LMT", "limit_price": Decimal(100), "status": OrderStatus.SUBMITTED,
        "ib_order_id": 7, "dispatched_at": timezone.now(),
        "params": {"source": "manual", "manual_execution": {"run_id": "r-1", "handover": "command"}},
    }  # fmt: skip
    values.update(fields)
    return TradeOrderFactory(**values)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "body", "expected"),
    [
        ({}, {"limit_price": "99"}, "持有该订单的引擎运行已结束：无法修改"),  # run r-1 is not running
        ({"status": OrderStatus.FILLED}, {"limit_price": "99"}, "订单状态为已成交，无法修改"),
        ({"flag": OrderFlag.ENGINE_DOWN}, {"limit_price": "99"}, "持有该订单的引擎运行已停止"),
    ],
)
def test_the_page_shows_a_modify_refusal_in_the_traders_language(
    client_zh: Client, project: Project, fields: dict[str, Any], body: dict[str, str], expected: str
) -> None:
    order = acknowledged(project, **fields)
    response = client_zh.post(reverse("live-trade-order-modify", args=[order.pk]), body, **HTMX)
    assert response.status_code == 409
    assert expected in response.content.decode()


@pytest.mark.django_db
def test_a_field_refusal_names_the_field_in_the_traders_language(
    client_zh: Client, project: Project, monkeypatch: Any
) -> None:
    monkeypatch.setattr("execution.engine.process.running_engine", lambda mode: {"pid": 1, "run_id": "r-1"})
    order = acknowledged(project)
    response = client_zh.post(reverse("live-trade-order-modify", args=[order.pk]), {"quantity": "0"}, **HTMX)
    assert response.status_code == 422
    assert "数量: 必须大于 0" in response.content.decode()


@pytest.mark.django_db
def test_a_pending_update_shows_since_when_for_the_page_to_count_its_age(
    client_zh: Client, project: Project, user: Any
) -> None:
    order = acknowledged(project)
    order_modify_record(order=order, limit_price="99", user=user)
    asked = timezone.now() - timedelta(minutes=7)
    TradeOrder.objects.filter(pk=order.pk).update(update_requested_at=asked)
    body = client_zh.get(reverse("live-trade-orders"), {"project": project.pk}, **HTMX).content.decode()
    assert 'data-testid="order-update-pending-age"' in body
    local = asked.astimezone(zoneinfo.ZoneInfo(settings.TRADEDESK_TIME_ZONE))  # the page's zone
    assert f'data-since="{local.isoformat()}"' in body
    assert f"自 {local:%H:%M:%S} 起" in body


@pytest.mark.django_db
def test_a_modify_refused_by_the_engine_halt_says_who_and_why_not_a_field_name(
    client_zh: Client, project: Project, monkeypatch: Any
) -> None:
    from orders.services import Actor, engine_halt_set
    from tests.factories import UserFactory

    monkeypatch.setattr("execution.engine.process.running_engine", lambda mode: {"pid": 1, "run_id": "r-1"})
    order = acknowledged(project)
    lead = UserFactory(username="desk-lead", is_staff=True)
    engine_halt_set(mode=project.mode, halted=True, reason="feed down", actor=Actor(user=lead))
    response = client_zh.post(reverse("live-trade-order-modify", args=[order.pk]), {"quantity": "5"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert "project_id" not in body
    assert "desk-lead" in body and "feed down" in body
    assert TradeOrder.objects.get(pk=order.pk).update_pending is False


@pytest.mark.django_db
def test_a_modify_refused_by_the_project_halt_names_no_internal_field(
    client_zh: Client, project: Project, monkeypatch: Any
) -> None:
    monkeypatch.setattr("execution.engine.process.running_engine", lambda mode: {"pid": 1, "run_id": "r-1"})
    order = acknowledged(project)
    Project.objects.filter(pk=project.pk).update(trading_state="HALTED")
    response = client_zh.post(reverse("live-trade-order-modify", args=[order.pk]), {"quantity": "5"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert "project_id" not in body
    with translation.override("zh-hans"):
        assert translate_reason("trading halted") in body
