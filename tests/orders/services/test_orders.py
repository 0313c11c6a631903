"""orders.services: creating orders, status rank, fills and positions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from orders.errors import Conflict, Forbidden, NotFound, OrderValidationError, RiskRejected
from orders.models import AuditLog, Position, Project, TradeOrder
from orders.services import (
    apply_fill_to_order,
    create_trade_order,
    positions_close,
    positions_liquidate,
    project_set_mode,
    update_trade_order_status,
)
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db

BUY = {"symbol": "aapl", "side": "buy", "quantity": 1, "order_type": "MKT"}


def test_create_sets_manual_params_and_normalises_fields(user: Any, project: Project) -> None:
    result = create_trade_order({**BUY, "project_id": project.pk}, user=user)
    order = result.order
    assert result.created
    assert (order.symbol, order.side, order.quantity, order.status) == ("AAPL", "BUY", Decimal(1), "NEW")
    assert order.params == {"source": "manual", "project_id": project.pk, "mode": "paper"}
    assert order.created_by == user
    assert order.client_order_id.startswith(f"oi_{project.pk}_{user.pk}_")


def test_same_client_order_id_and_payload_returns_the_existing_order(user: Any, project: Project) -> None:
    payload = {**BUY, "project_id": project.pk, "client_order_id": "abc-1"}
    first = create_trade_order(payload, user=user)
    again = create_trade_order(payload, user=user)
    assert again.order.pk == first.order.pk and not again.created
    assert TradeOrder.objects.count() == 1


def test_reused_client_order_id_with_another_payload_is_a_conflict(user: Any, project: Project) -> None:
    create_trade_order({**BUY, "project_id": project.pk, "client_order_id": "abc-1"}, user=user)
    with pytest.raises(Conflict):
        create_trade_order(
            {**BUY, "quantity": 2, "project_id": project.pk, "client_order_id": "abc-1"}, user=user
        )


@pytest.mark.parametrize("default_exists", [False, True], ids=["no projects", "a 'default' project"])
def test_a_user_without_a_project_is_told_to_ask_for_access_and_nothing_is_created(
    db: Any, default_exists: bool
) -> None:
    Project.objects.all().delete()  # the migration's `default` project, unless a flush took it already
    if default_exists:
        ProjectFactory(name="default")
    with pytest.raises(OrderValidationError) as info:
        create_trade_order(BUY, user=UserFactory(username="outsider"))
    assert "ask a desk lead for access" in info.value.message and "project_id" in info.value.errors
    assert not TradeOrder.objects.exists()
    assert Project.objects.count() == int(default_exists)
    assert not Project.objects.filter(members__isnull=False).exists()


def test_missing_project_uses_the_users_only_project(user: Any, project: Project) -> None:
    assert create_trade_order(BUY, user=user).order.project == project


def test_mode_that_differs_from_the_projects_is_refused(user: Any, project: Project) -> None:
    with pytest.raises(OrderValidationError) as info:
        create_trade_order({**BUY, "project_id": project.pk, "mode": "live"}, user=user)
    assert "mode" in info.value.errors


def test_non_member_project_is_not_found(user: Any) -> None:
    other = ProjectFactory(name="other")
    with pytest.raises(NotFound):
        create_trade_order({**BUY, "project_id": other.pk}, user=user)


def test_live_orders_need_trade_live_permission(user: Any) -> None:
    live = ProjectFactory(name="live-book", mode="live", members=[user])
    with pytest.raises(Forbidden):
        create_trade_order({**BUY, "project_id": live.pk}, user=user)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": "NaN"}, "quantity"),
        ({"quantity": "1e3000"}, "quantity"),
        ({"quantity": 1_000_001}, "quantity"),
        ({"quantity": "0.0000001"}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"symbol": "1BAD"}, "symbol"),
        ({"symbol": ""}, "symbol"),
        ({"side": "HOLD"}, "side"),
        ({"order_type": "MIT"}, "order_type"),
        ({"order_type": "LMT"}, "limit_price"),
        ({"order_type": "LMT", "limit_price": 0}, "limit_price"),
        ({"limit_price": 5}, "limit_price"),
        ({"client_order_id": "has space"}, "client_order_id"),
        ({"mode": "demo"}, "mode"),
    ],
)
def test_invalid_payload_is_refused_and_nothing_created(
    user: Any, project: Project, payload: dict, field: str
) -> None:
    with pytest.raises(OrderValidationError) as info:
        create_trade_order({**BUY, "project_id": project.pk, **payload}, user=user)
    assert field in info.value.errors
    assert not TradeOrder.objects.exists()


def test_database_refuses_a_market_order_with_a_limit_price(project: Project) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TradeOrderFactory(project=project, order_type="MKT", limit_price=Decimal(5))


def test_database_refuses_a_non_positive_quantity(project: Project) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TradeOrderFactory(project=project, quantity=Decimal(0))


def test_database_refuses_a_lower_case_symbol(project: Project) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TradeOrderFactory(project=project, symbol="aapl")


def test_closed_status_never_reopens(project: Project) -> None:
    order = TradeOrderFactory(project=project)
    update_trade_order_status(order, "FILLED")
    change = update_trade_order_status(order, "SUBMITTED")
    assert not change.applied and order.status == "FILLED"


def test_failed_only_from_new(project: Project) -> None:
    order = TradeOrderFactory(project=project)
    update_trade_order_status(order, "SUBMITTED")
    assert not update_trade_order_status(order, "FAILED").applied
    assert order.status == "SUBMITTED"


def test_fill_moves_order_and_position_together(project: Project) -> None:
    order = TradeOrderFactory(project=project, quantity=Decimal(3))
    apply_fill_to_order(order, quantity=1, price="10.5", fee="0.5")
    apply_fill_to_order(order, quantity=2, price="11")
    assert order.filled_quantity == Decimal(3)
    assert order.avg_fill_price == Decimal("10.8333333333")  # 32.5 / 3 kept to 10 places
    assert order.fees == Decimal("0.5")
    position = Position.objects.get(project=project, symbol="AAPL")
    assert position.quantity == Decimal(3) and position.last_fill_price == Decimal(11)


def test_same_fill_event_key_is_applied_once(project: Project) -> None:
    order = TradeOrderFactory(project=project, quantity=Decimal(3))
    apply_fill_to_order(order, quantity=1, price=1, event_key="fill-1")
    apply_fill_to_order(order, quantity=1, price=1, event_key="fill-1")
    assert order.filled_quantity == Decimal(1)


def test_close_creates_one_opposite_order_for_the_full_position(user: Any, project: Project) -> None:
    seed = TradeOrderFactory(project=project, symbol="MSFT", quantity=Decimal(7))
    apply_fill_to_order(seed, quantity=7, price=100)
    result = positions_close(project=project, symbols=["MSFT", "TSLA"], user=user)
    orders, skipped = result.orders, result.skipped
    assert [(o.symbol, o.side, o.quantity) for o in orders] == [("MSFT", "SELL", Decimal(7))]
    assert orders[0].params["source"] == "manual"
    assert skipped == {"TSLA": "no position"}


def test_closing_twice_does_not_flip_the_position(user: Any, project: Project) -> None:
    seed = TradeOrderFactory(project=project, symbol="MSFT", quantity=Decimal(7))
    apply_fill_to_order(seed, quantity=7, price=100)
    positions_close(project=project, symbols=["MSFT"], user=user)
    again = positions_close(project=project, symbols=["MSFT"], user=user)
    assert again.orders == [] and again.skipped == {"MSFT": "already being closed"}


def test_liquidate_closes_every_non_zero_position(user: Any, project: Project) -> None:
    for symbol, side in (("AAPL", "BUY"), ("MSFT", "SELL")):
        seed = TradeOrderFactory(project=project, symbol=symbol, side=side, quantity=Decimal(2))
        apply_fill_to_order(seed, quantity=2, price=50)
    orders = positions_liquidate(project=project, user=user).orders
    assert sorted((o.symbol, o.side) for o in orders) == [("AAPL", "SELL"), ("MSFT", "BUY")]


def test_halted_project_refuses_new_orders(user: Any, project: Project) -> None:
    project.trading_state = "HALTED"
    project.save()
    with pytest.raises(RiskRejected):
        create_trade_order({**BUY, "project_id": project.pk}, user=user)
    assert not TradeOrder.objects.exists()


def test_every_created_order_is_in_the_audit_log(user: Any, project: Project) -> None:
    order = create_trade_order({**BUY, "project_id": project.pk}, user=user).order
    entry = AuditLog.objects.get(action="order_create")
    assert entry.order == order and entry.username == "alice"


def test_audit_log_is_append_only(user: Any, project: Project) -> None:
    create_trade_order({**BUY, "project_id": project.pk}, user=user)
    entry = AuditLog.objects.get()
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_switching_to_live_needs_permission(user: Any, project: Project) -> None:
    from orders.services import Actor

    with pytest.raises(Forbidden):
        project_set_mode(project=project, mode="live", actor=Actor(user=user))
