"""Cancel requests as rows: the asking side records them, the engine host sends each once; tasks route by mode."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from execution import actions as services
from execution import routing, tasks
from execution.dispatch import cancels
from execution.engine import process as engines
from orders.models import AuditLog, OrderStatus, Project, TradeOrder, TradingState
from orders.services import update_trade_order_status
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(project: Project, execution_root: Path) -> TradeOrder:
    """A resting order the paper engine run r-1 holds (engine order id 7)."""
    order = TradeOrderFactory(
        project=project,
        ib_order_id=7,
        order_type="LMT",
        limit_price=Decimal("1.00"),
        params={"source": "manual", "manual_execution": {"run_id": "r-1"}},
    )
    TradeOrder.objects.filter(pk=order.pk).update(dispatched_at=order.created_at)
    update_trade_order_status(order, OrderStatus.SUBMITTED)
    order.refresh_from_db()
    return order


@pytest.fixture
def engine_running(monkeypatch: Any, execution_root: Path) -> Path:
    """The paper engine run r-1 is alive on this host; returns its folder."""
    monkeypatch.setattr(engines, "running_engine", lambda mode: {"pid": 1, "run_id": "r-1"})
    folder = engines.engine_dir("paper")
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def broker_down(monkeypatch: Any) -> None:
    def down(**kwargs: Any) -> None:
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(tasks.cancel_order, "apply_async", down)


def test_cancel_of_a_held_order_answers_202_and_leaves_its_status_to_the_engine(
    api: Client, held: TradeOrder, broker_down: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/trade/orders/{held.pk}/cancel")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "SUBMITTED" and body["cancel_requested"] is True
    held.refresh_from_db()
    assert held.cancel_requested_at is not None and held.cancel_sent_at is None
    assert AuditLog.objects.filter(action="order_cancel_requested", order=held).exists()


def test_cancel_of_an_unsent_order_answers_200_canceled(api: Client, project: Project) -> None:
    order = TradeOrderFactory(project=project, params={"source": "manual"})
    response = api.post(f"/api/trade/orders/{order.pk}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "CANCELED" and response.json()["cancel_requested"] is False


def test_the_engine_host_sends_a_request_once_and_marks_it_cancel_pending(
    held: TradeOrder, engine_running: Path
) -> None:
    cancels.order_cancel_request(order=held)
    assert cancels.order_cancel_send(order_id=held.pk) == "sent"
    assert cancels.order_cancel_send(order_id=held.pk) == "nothing pending"
    commands = list(engine_running.glob("command-*.json"))
    assert len(commands) == 1 and '"OrderId": 7' in commands[0].read_text()
    held.refresh_from_db()
    assert held.status == OrderStatus.CANCEL_PENDING and held.cancel_sent_at is not None


def test_a_request_waits_while_the_engine_has_not_acknowledged_the_order(
    held: TradeOrder, engine_running: Path
) -> None:
    TradeOrder.objects.filter(pk=held.pk).update(ib_order_id=None)
    held.refresh_from_db()
    assert cancels.order_cancel_request(order=held).requested
    assert cancels.order_cancel_send(order_id=held.pk) == "not acknowledged by the engine yet"
    TradeOrder.objects.filter(pk=held.pk).update(ib_order_id=7)
    assert cancels.cancels_send_pending(mode="paper") == [held.pk]


def test_halt_with_the_broker_down_commits_the_requests_and_the_sweep_sends_them(
    held: TradeOrder,
    project: Project,
    engine_running: Path,
    broker_down: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        project, outcomes = services.project_trading_state_change(project=project, state=TradingState.HALTED)
    assert project.trading_state == TradingState.HALTED
    assert outcomes == {held.client_order_id: services.CANCEL_REQUESTED}
    assert not list(engine_running.glob("command-*.json"))
    report = tasks.sweep_orders(mode="paper")
    assert report["cancels_sent"] == [held.pk]
    assert len(list(engine_running.glob("command-*.json"))) == 1


def test_the_sweep_of_one_mode_leaves_the_other_modes_requests_alone(
    held: TradeOrder, engine_running: Path
) -> None:
    cancels.order_cancel_request(order=held)
    assert tasks.sweep_orders(mode="live")["cancels_sent"] == []
    held.refresh_from_db()
    assert held.cancel_sent_at is None


def test_engine_tasks_carrying_a_mode_go_to_its_hosts_queue(settings: Any) -> None:
    settings.TRADEDESK_ENGINE_QUEUES = {"paper": "engine.paper", "live": "engine.live"}
    name = "execution.tasks.cancel_order"
    assert routing.route_task(name, (), {"order_id": 1, "mode": "live"}, {}) == {"queue": "engine.live"}
    assert routing.route_task("execution.tasks.ingest_events", (), {}, {}) is None
    settings.TRADEDESK_ENGINE_QUEUES = {}
    assert routing.route_task(name, (), {"order_id": 1, "mode": "live"}, {}) is None
