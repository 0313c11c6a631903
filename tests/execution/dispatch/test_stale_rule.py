"""STALE means a running engine said nothing about an order that should have moved; nothing else."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from execution import actions as services
from execution.contract import market_hours
from execution.engine import process as engines
from orders.models import OrderStatus, TradeOrder
from tests.factories import TradeOrderFactory


@pytest.fixture
def engine_running(monkeypatch: Any) -> None:
    monkeypatch.setattr(engines, "engine_state", lambda mode: engines.EngineState(mode=mode, state="running"))


def silent_order(project: Any, **extra: Any) -> TradeOrder:
    params = {"source": "manual", "project_id": project.pk, "mode": project.mode}
    order = TradeOrderFactory(project=project, params=params, status=OrderStatus.SUBMITTED, **extra)
    TradeOrder.objects.filter(pk=order.pk).update(last_status_ts=timezone.now() - timedelta(hours=1))
    return order


def test_a_resting_limit_order_is_never_stale(project: Any, engine_running: None) -> None:
    limit = silent_order(project, order_type="LMT", limit_price=Decimal(100))
    stop = silent_order(project, order_type="STP", stop_price=Decimal(100))
    report = services.orders_sweep(enqueue=lambda _: None)
    limit.refresh_from_db()
    stop.refresh_from_db()
    assert report.flagged == [] and limit.flag == "" and stop.flag == ""


def test_a_silent_market_order_is_stale_while_the_market_is_open(project: Any, engine_running: None) -> None:
    order = silent_order(project, order_type="MKT")
    services.orders_sweep(enqueue=lambda _: None)
    order.refresh_from_db()
    assert order.flag == "STALE" and order.flag_message == "no engine event for 120 s"


def test_a_market_order_waiting_for_the_open_is_not_stale(
    project: Any, engine_running: None, settings: Any, monkeypatch: Any
) -> None:
    settings.TRADEDESK_SIM_MARKET_HOURS = "us-equity"
    monkeypatch.setattr(market_hours, "exchange_open_at", lambda *, now, hours: False)
    order = silent_order(project, order_type="MKT")
    services.orders_sweep(enqueue=lambda _: None)
    order.refresh_from_db()
    assert order.flag == ""


def test_an_unanswered_cancel_is_stale_whatever_the_order_type(project: Any, engine_running: None) -> None:
    order = silent_order(project, order_type="LMT", limit_price=Decimal(100))
    TradeOrder.objects.filter(pk=order.pk).update(status=OrderStatus.CANCEL_PENDING)
    services.orders_sweep(enqueue=lambda _: None)
    order.refresh_from_db()
    assert order.flag == "STALE"


def test_no_order_is_stale_while_its_engine_is_not_running(project: Any) -> None:
    order = silent_order(project, order_type="MKT")
    services.orders_sweep(enqueue=lambda _: None)
    order.refresh_from_db()
    assert order.flag != "STALE"
