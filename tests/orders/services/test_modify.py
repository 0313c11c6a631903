"""Modifying a working order: refusals, validation and risk as for a new order, audit, and the engine's answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from execution.ingest.events import apply_execution_events
from orders.errors import Conflict, Forbidden, OrderValidationError, RiskRejected
from orders.models import AuditLog, OrderFlag, OrderStatus, TradeOrder
from orders.services.audit import Actor
from orders.services.modify import order_modify_clear, order_modify_record, order_modify_reject
from tests.factories import TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def working_limit(project: Any, **fields: Any) -> TradeOrder:
    """A LMT BUY 10 @ 100 the engine acknowledged (run r-1, engine order 7)."""
    values: dict[str, Any] = {
        "project": project, "quantity": Decimal(10), "order_type": "LMT", "limit_price": Decimal(100),
        "status": OrderStatus.SUBMITTED, "ib_order_id": 7, "dispatched_at": timezone.now(),
        "params": {"source": "manual", "manual_execution": {"run_id": "r-1", "handover": "command"}},
    }  # fmt: skip
    values.update(fields)
    return TradeOrderFactory(**values)


def event(order: TradeOrder, status: str, event_id: int, message: str = "") -> dict[str, Any]:
    return {"tag": order.client_order_id, "status": status, "order_id": order.ib_order_id, "event_id": event_id,
            "run_id": "r-1", "symbol": "AAPL", "time": timezone.now().isoformat(), "message": message}  # fmt: skip


def test_a_modify_is_stored_as_pending_and_audited_and_leaves_the_order_as_it_is(
    project: Any, user: Any
) -> None:
    order = working_limit(project)
    request = order_modify_record(order=order, quantity="12", limit_price="99.5", user=user)
    order.refresh_from_db()
    assert (request.quantity, request.limit_price, request.stop_price) == (Decimal(12), Decimal("99.5"), None)
    assert (
        order.update_pending and order.update_quantity == 12 and order.update_limit_price == Decimal("99.5")
    )
    assert order.quantity == 10 and order.limit_price == 100
    entry = AuditLog.objects.get(action="order_modify")
    assert entry.order_id == order.pk and entry.detail["limit_price"] == "99.5000000000"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": OrderStatus.FILLED}, "FILLED"),
        ({"status": OrderStatus.CANCEL_PENDING}, "cancel is pending"),
        ({"flag": OrderFlag.ENGINE_DOWN}, "engine run that held this order is down"),
        ({"status": OrderStatus.NEW, "params": {"source": "manual"}, "dispatched_at": None}, "not been sent"),
        ({"ib_order_id": None}, "not acknowledged"),
        (
            {"update_pending": True, "update_limit_price": Decimal(1), "update_requested_at": timezone.now()},
            "already pending",
        ),
    ],
)
def test_final_unknown_unsent_or_pending_orders_are_refused_with_the_reason(
    project: Any, user: Any, fields: dict[str, Any], reason: str
) -> None:
    order = working_limit(project, **fields)
    with pytest.raises(Conflict, match=reason):
        order_modify_record(order=order, limit_price="101", user=user)
    assert not AuditLog.objects.filter(action="order_modify").exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"stop_price": "90"}, "stop_price"),  # a LMT order has no stop
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "3"}, "quantity"),  # not above the 4 filled
        ({"limit_price": "-1"}, "limit_price"),
        ({"limit_price": "100"}, "quantity"),  # nothing changes
    ],
)
def test_new_values_are_validated_like_a_new_orders(
    project: Any, user: Any, values: dict[str, Any], field: str
) -> None:
    order = working_limit(project, status=OrderStatus.PARTIALLY_FILLED, filled_quantity=Decimal(4))
    with pytest.raises(OrderValidationError) as raised:
        order_modify_record(order=order, user=user, **values)
    assert field in raised.value.errors
    order.refresh_from_db()
    assert not order.update_pending


def test_risk_checks_run_again_for_the_new_size_without_counting_the_order_against_itself(
    project: Any, user: Any
) -> None:
    project.max_order_notional, project.max_working_orders = Decimal(2000), 1
    project.save()
    order = working_limit(project)
    with pytest.raises(RiskRejected, match="order value"):
        order_modify_record(order=order, quantity="25", user=user)
    # The order is the one working order of a limit of 1: its own modify is not refused for it.
    order_modify_record(order=order, quantity="15", user=user)
    assert TradeOrder.objects.get(pk=order.pk).update_quantity == 15


def test_the_engines_update_submitted_event_applies_the_pending_values(project: Any, user: Any) -> None:
    order = working_limit(project)
    order_modify_record(order=order, quantity="12", limit_price="99.5", user=user)
    apply_execution_events([event(order, "UpdateSubmitted", 2)], mode="paper")
    order.refresh_from_db()
    assert not order.update_pending and order.update_quantity is None and order.update_limit_price is None
    assert (order.quantity, order.limit_price, order.status) == (12, Decimal("99.5"), OrderStatus.SUBMITTED)


def test_leans_update_failure_event_or_a_final_status_drops_the_pending_values(
    project: Any, user: Any
) -> None:
    failed, filled = working_limit(project), working_limit(project, ib_order_id=8)
    for order in (failed, filled):
        order_modify_record(order=order, limit_price="99", user=user)
    apply_execution_events(
        [event(failed, "Submitted", 2, "Brokerage failed to update order"),
         {**event(filled, "Filled", 2), "filled": 10, "fill_price": 100}],
        mode="paper",
    )  # fmt: skip
    for order in (failed, filled):
        order.refresh_from_db()
        assert not order.update_pending and order.limit_price == 100
    assert filled.status == OrderStatus.FILLED


def test_a_rejected_update_is_dropped_and_audited_with_the_engines_message(project: Any, user: Any) -> None:
    order = working_limit(project)
    order_modify_record(order=order, limit_price="99", user=user)
    order_modify_reject(order=order, message="Order 7 is already Filled")
    order.refresh_from_db()
    assert not order.update_pending and order.limit_price == 100
    assert AuditLog.objects.get(action="order_modify_rejected").detail == {
        "message": "Order 7 is already Filled"
    }


def test_a_modify_records_when_it_was_asked_for_and_the_engines_answer_clears_it(
    project: Any, user: Any
) -> None:
    order = working_limit(project)
    before = timezone.now()
    order_modify_record(order=order, limit_price="99", user=user)
    order.refresh_from_db()
    assert order.update_requested_at is not None and before <= order.update_requested_at <= timezone.now()
    apply_execution_events([event(order, "UpdateSubmitted", 2)], mode="paper")
    order.refresh_from_db()
    assert not order.update_pending and order.update_requested_at is None


def test_staff_clear_an_update_the_engine_never_answered_and_the_reason_is_audited(
    project: Any, user: Any
) -> None:
    lead = UserFactory(username="lead", is_staff=True)
    order = working_limit(project)
    order_modify_record(order=order, quantity="12", limit_price="99", user=user)
    order.refresh_from_db()
    requested_at = order.update_requested_at
    assert requested_at is not None
    cleared = order_modify_clear(order=order, reason="  IB shows 10 @ 100  ", actor=Actor(user=lead))
    cleared.refresh_from_db()
    assert not cleared.update_pending and cleared.update_requested_at is None
    assert (cleared.update_quantity, cleared.update_limit_price) == (None, None)
    assert (cleared.quantity, cleared.limit_price) == (10, 100)
    entry = AuditLog.objects.get(action="order_update_cleared")
    assert entry.order_id == order.pk and entry.user == lead
    assert entry.detail["reason"] == "IB shows 10 @ 100"
    assert entry.detail["requested_at"] == requested_at.isoformat()
    assert Decimal(entry.detail["quantity"]) == 12 and Decimal(entry.detail["limit_price"]) == 99
    # The order can be modified again.
    order_modify_record(order=cleared, limit_price="98", user=user)
    assert TradeOrder.objects.get(pk=order.pk).update_pending


@pytest.mark.parametrize(
    ("who", "reason", "pending", "error"),
    [
        ("trader", "stuck", True, Forbidden),
        (None, "stuck", True, Forbidden),
        ("lead", "   ", True, OrderValidationError),
        ("lead", "x" * 501, True, OrderValidationError),
        ("lead", "stuck", False, Conflict),
    ],
)
def test_only_staff_clear_a_pending_update_and_only_with_a_reason(
    project: Any, user: Any, who: str | None, reason: str, pending: bool, error: type[Exception]
) -> None:
    actors = {"trader": Actor(user=user), "lead": Actor(user=UserFactory(username="lead", is_staff=True))}
    order = working_limit(project)
    if pending:
        order_modify_record(order=order, limit_price="99", user=user)
    with pytest.raises(error):
        order_modify_clear(order=order, reason=reason, actor=actors.get(who or ""))
    order.refresh_from_db()
    assert order.update_pending is pending and order.update_limit_price == (Decimal(99) if pending else None)
    assert not AuditLog.objects.filter(action="order_update_cleared").exists()
