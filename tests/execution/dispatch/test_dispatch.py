"""Handing orders to the engine: intent file, signal -> task, exactly-once claim, failures, sweep."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from execution import actions as services
from execution import signals, tasks
from execution.contract.intents import write_manual_order_intent
from execution.engine import process as engines
from execution.engine.process import Handover
from orders.models import OrderStageTimes, OrderStatus, ProjectVersion, TradeOrder
from orders.services import create_trade_order
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db


class HandOverRecorder:
    """Stands in for engines.hand_over: records each call, answers like a fresh engine start."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(
        self, *, mode: str, intent_path: Path, command: dict[str, Any], refusal: str = ""
    ) -> Handover:
        self.calls.append({"mode": mode, "intent_path": intent_path, "command": command, "refusal": refusal})
        return Handover(kind="start", run_id="r-test", pid=4242)


@pytest.fixture
def recorder(monkeypatch: Any) -> HandOverRecorder:
    rec = HandOverRecorder()
    monkeypatch.setattr(engines, "hand_over", rec)
    return rec


def manual_order(project: Any, **extra: Any) -> TradeOrder:
    params = {"source": "manual", "project_id": project.pk, "mode": project.mode}
    return TradeOrderFactory(project=project, params=params, **extra)


def test_sell_intent_has_the_client_order_id_and_negative_quantity(project: Any, tmp_path: Path) -> None:
    order = manual_order(project, client_order_id="oi_3_1_99", side="SELL", quantity=Decimal(1))
    path = write_manual_order_intent(order, tmp_path)
    intent = json.loads(path.read_text())
    assert path.name == "oi_3_1_99.json"
    assert intent["order_intent_id"] == "oi_3_1_99"
    assert intent["quantity"] == -1
    assert intent["symbol"] == "AAPL" and intent["order_type"] == "MKT" and intent["limit_price"] is None
    assert intent["project_id"] == project.pk and intent["mode"] == "paper"
    assert intent["created_at"].endswith("Z")
    assert not list(tmp_path.glob(".*.tmp"))


def test_executing_a_manual_order_launches_the_engine(project: Any, recorder: HandOverRecorder) -> None:
    order = manual_order(project)
    result = services.order_dispatch(order_id=order.pk)
    assert result.outcome == "dispatched"
    assert len(recorder.calls) == 1
    call = recorder.calls[0]
    assert call["mode"] == "paper" and call["intent_path"].exists()
    assert call["command"]["Tag"] == order.client_order_id and call["command"]["Quantity"] == 1
    order.refresh_from_db()
    record = order.params["manual_execution"]
    assert record["run_id"] == "r-test" and record["pid"] == 4242 and record["handover"] == "start"
    assert record["intent_path"] == str(call["intent_path"])
    assert order.dispatched_at is not None and order.status == "NEW"


def test_a_dispatch_moves_the_projects_counter_once_at_the_hand_over_not_at_its_claim(
    project: Any, recorder: HandOverRecorder
) -> None:
    # Each move is a push to every screen of the project and a fetch of its orders table; the claim alone
    # changes nothing a screen shows.
    order = manual_order(project)
    before = ProjectVersion.objects.get(project=project).orders

    services.order_dispatch(order_id=order.pk)

    assert ProjectVersion.objects.get(project=project).orders == before + 1
    times = OrderStageTimes.objects.get(order=order)
    assert times.picked_up_at is not None and times.handed_over_at is not None
    assert times.picked_up_at <= times.handed_over_at


def test_a_command_to_a_running_engine_leaves_the_counter_to_the_engines_answer(
    project: Any, monkeypatch: Any
) -> None:
    def running(*, mode: str, intent_path: Path, command: dict[str, Any], refusal: str = "") -> Handover:
        return Handover(kind="command", run_id="r-run", pid=1, command_id=command["Id"], command_path="x")

    monkeypatch.setattr(engines, "hand_over", running)
    monkeypatch.setattr(engines, "wait_command_result", lambda *a, **k: {"success": True})
    order = manual_order(project)
    before = ProjectVersion.objects.get(project=project).orders

    assert services.order_dispatch(order_id=order.pk).outcome == "dispatched"

    # Nothing a screen shows changed yet: the engine's Submitted line is the next push.
    assert ProjectVersion.objects.get(project=project).orders == before
    order.refresh_from_db()
    assert order.params["manual_execution"]["handover"] == "command" and order.dispatched_at is not None


def test_a_second_task_for_the_same_order_hands_nothing_over(
    project: Any, recorder: HandOverRecorder
) -> None:
    order = manual_order(project)
    services.order_dispatch(order_id=order.pk)
    again = services.order_dispatch(order_id=order.pk)
    assert again.outcome == "skipped" and len(recorder.calls) == 1


def test_dispatch_failure_marks_the_order_failed_with_a_reason(project: Any, monkeypatch: Any) -> None:
    def broken(**kwargs: Any) -> Handover:
        raise engines.EngineError("engine for paper did not start: no dotnet")

    monkeypatch.setattr(engines, "hand_over", broken)
    order = manual_order(project)
    result = services.order_dispatch(order_id=order.pk)
    order.refresh_from_db()
    assert result.outcome == "failed"
    assert order.status == "FAILED" and "no dotnet" in order.status_message


def test_command_refused_by_the_engine_marks_the_order_rejected(project: Any, monkeypatch: Any) -> None:
    def running(*, mode: str, intent_path: Path, command: dict[str, Any], refusal: str = "") -> Handover:
        return Handover(kind="command", run_id="r-run", pid=1, command_id=command["Id"], command_path="x")

    monkeypatch.setattr(engines, "hand_over", running)
    monkeypatch.setattr(
        engines,
        "wait_command_result",
        lambda *a, **k: {"success": False, "message": "Unable to submit order"},
    )
    order = manual_order(project)
    result = services.order_dispatch(order_id=order.pk)
    order.refresh_from_db()
    assert result.outcome == "rejected"
    assert (order.status, order.status_message) == ("REJECTED", "Unable to submit order")


def test_new_manual_order_is_enqueued_after_commit(
    user: Any, project: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(
        tasks.execute_manual_order, "apply_async", lambda kwargs: sent.append(kwargs["order_id"])
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = create_trade_order(
            {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}, user=user
        ).order
        assert sent == []
    for callback in callbacks:
        callback()
    assert sent == [order.pk]


def test_orders_not_from_a_manual_source_are_not_enqueued(
    project: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sent: list[int] = []
    monkeypatch.setattr(
        tasks.execute_manual_order, "apply_async", lambda kwargs: sent.append(kwargs["order_id"])
    )
    with django_capture_on_commit_callbacks(execute=True):
        TradeOrderFactory(project=project)
        order = manual_order(project)
        order.status_message = "saved again"
        order.save()
    assert sent == [order.pk]


def test_broker_outage_keeps_the_order_and_still_answers_201(
    api: Client, project: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def down(kwargs: dict[str, Any]) -> None:
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(tasks.execute_manual_order, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/trade/orders",
            data=json.dumps({"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk}),
            content_type="application/json",
        )
    assert response.status_code == 201
    assert TradeOrder.objects.get().status == "NEW"
    assert signals  # the receiver module is what swallowed the outage


def test_sweep_reenqueues_new_orders_never_claimed(project: Any) -> None:
    order = manual_order(project)
    TradeOrder.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    fresh = manual_order(project)
    sent: list[int] = []
    report = services.orders_sweep(enqueue=sent.append)
    assert sent == [order.pk] and report.reenqueued == [order.pk] and fresh.pk not in sent


def test_sweep_releases_a_claim_that_never_reached_the_engine(project: Any) -> None:
    order = manual_order(project)
    TradeOrder.objects.filter(pk=order.pk).update(dispatched_at=timezone.now() - timedelta(minutes=5))
    sent: list[int] = []
    report = services.orders_sweep(enqueue=sent.append)
    order.refresh_from_db()
    assert report.released == [order.pk] and sent == [order.pk] and order.dispatched_at is None


def test_sweep_flags_an_unread_command_and_keeps_the_claim(project: Any) -> None:
    order = manual_order(project)
    TradeOrder.objects.filter(pk=order.pk).update(
        dispatched_at=timezone.now() - timedelta(minutes=5),
        params={**order.params, "manual_execution": {"handed_over_at": "x"}},
    )
    engines.engine_dir("paper").mkdir(parents=True)
    engines.write_command("paper", {"Id": engines.command_id_for(order.client_order_id)})
    sent: list[int] = []
    report = services.orders_sweep(enqueue=sent.append)
    order.refresh_from_db()
    assert sent == [] and report.flagged == [order.pk]
    assert order.flag == "COMMAND_UNREAD" and order.dispatched_at is not None


def test_sweep_flags_submitted_market_orders_silent_for_too_long(
    project: Any, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(engines, "engine_state", lambda mode: engines.EngineState(mode=mode, state="running"))
    order = manual_order(project, status=OrderStatus.SUBMITTED, order_type="MKT")
    TradeOrder.objects.filter(pk=order.pk).update(last_status_ts=timezone.now() - timedelta(hours=1))
    report = services.orders_sweep(enqueue=lambda _: None)
    order.refresh_from_db()
    assert report.flagged == [order.pk] and order.flag == "STALE"


def test_an_engine_event_clears_the_stale_flag(project: Any) -> None:
    from execution.ingest.events import apply_execution_events

    order = manual_order(project, status=OrderStatus.SUBMITTED, flag="STALE")
    apply_execution_events([{"tag": order.client_order_id, "status": "Filled", "filled": 1, "fill_price": 2}])
    order.refresh_from_db()
    assert order.flag == "" and order.status == "FILLED"


def test_sweep_never_resends_an_order_whose_intent_a_started_engine_was_given(project: Any) -> None:
    from execution.contract.files import write_json_atomic

    order = manual_order(project)
    TradeOrder.objects.filter(pk=order.pk).update(dispatched_at=timezone.now() - timedelta(minutes=5))
    intent = engines.engine_dir("paper") / "intents" / f"{order.client_order_id}.json"
    # The write-ahead record a crashed worker left when it started the engine with this order's intent.
    write_json_atomic(
        engines.engine_dir("paper") / "runs" / "r-x.parameters.json",
        {"intent-file": str(intent.resolve()), "run-id": "r-x"},
    )
    report = services.orders_sweep(enqueue=lambda pk: pytest.fail("re-sent an order the engine may have"))
    order.refresh_from_db()
    assert report.released == [] and order.dispatched_at is not None
    assert engines.intent_handed_over("paper", intent) == "r-x"
