"""The engine-wide halt of a mode: staff only, audited; it refuses what adds risk in every project of the mode."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from execution.dispatch.cancels import order_cancel_request
from orders.errors import EngineHalted, Forbidden, OrderValidationError, RiskRejected
from orders.models import AuditLog, EngineHalt, Project, TradeOrder
from orders.services import (
    Actor,
    apply_fill_to_order,
    create_trade_order,
    engine_halt_get,
    engine_halt_set,
    positions_close,
    positions_liquidate,
)
from tests.factories import ProjectFactory, TradeOrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db: Any) -> Any:
    return UserFactory(username="desk-lead", is_staff=True)


def hold(project: Project, symbol: str, quantity: int) -> None:
    """Give the project a long position (a filled order that reaches no engine)."""
    seed = TradeOrderFactory(project=project, symbol=symbol, quantity=Decimal(quantity))
    apply_fill_to_order(seed, quantity=quantity, price=50)


def order(project: Project, **extra: Any) -> dict[str, Any]:
    return {"symbol": "AAPL", "side": "BUY", "quantity": 1, "project_id": project.pk, **extra}


def test_a_paper_halt_refuses_an_opening_buy_in_every_paper_project(user: Any, staff: Any) -> None:
    first = ProjectFactory(members=[user])
    second = ProjectFactory(members=[user])
    engine_halt_set(mode="paper", halted=True, reason="IB gateway flapping", actor=Actor(user=staff))
    for project in (first, second):
        with pytest.raises(EngineHalted) as info:
            create_trade_order(order(project), user=user)
        assert info.value.code == "engine_halted"
        assert info.value.status_code == 422
        assert info.value.message == (
            "the PAPER engine is halted for all projects by desk-lead: IB gateway flapping; "
            "only Close and Liquidate are allowed"
        )
        assert info.value.errors == {"project_id": "engine halted"}
    assert TradeOrder.objects.filter(project__in=[first, second]).count() == 0


def test_a_paper_halt_leaves_live_projects_trading(user: Any, staff: Any) -> None:
    live = ProjectFactory(members=[user], mode="live")
    user.user_permissions.add(Permission.objects.get(codename="trade_live"))
    engine_halt_set(mode="paper", halted=True, reason="paper drill", actor=Actor(user=staff))
    assert create_trade_order(order(live), user=user).created


def test_a_halt_allows_the_reducing_close_and_liquidate(user: Any, project: Project, staff: Any) -> None:
    hold(project, "AAPL", 5)
    hold(project, "MSFT", 3)
    engine_halt_set(mode="paper", halted=True, reason="broker outage", actor=Actor(user=staff))
    with pytest.raises(EngineHalted):
        create_trade_order(order(project, side="SELL", quantity=10), user=user)
    closed = positions_close(project=project, symbols=["AAPL"], user=user)
    assert [(o.symbol, o.side, o.quantity) for o in closed.orders] == [("AAPL", "SELL", Decimal(5))]
    liquidated = positions_liquidate(project=project, user=user)
    assert [(o.symbol, o.side, o.quantity) for o in liquidated.orders] == [("MSFT", "SELL", Decimal(3))]


def test_a_halt_leaves_cancels_working(user: Any, project: Project, staff: Any) -> None:
    working = TradeOrderFactory(project=project)
    engine_halt_set(mode="paper", halted=True, reason="broker outage", actor=Actor(user=staff))
    result = order_cancel_request(order=working, actor=Actor(user=user))
    working.refresh_from_db()
    assert working.status == "CANCELED", result


def test_resuming_the_engine_accepts_orders_again(user: Any, project: Project, staff: Any) -> None:
    engine_halt_set(mode="paper", halted=True, reason="broker outage", actor=Actor(user=staff))
    with pytest.raises(RiskRejected):
        create_trade_order(order(project), user=user)
    row = engine_halt_set(mode="paper", halted=False, actor=Actor(user=staff))
    assert (row.halted, row.reason, row.changed_by_name) == (False, "", "desk-lead")
    assert create_trade_order(order(project), user=user).created


def test_the_project_halt_still_refuses_while_the_engine_runs(user: Any, project: Project) -> None:
    project.trading_state = "HALTED"
    project.save()
    with pytest.raises(RiskRejected) as info:
        create_trade_order(order(project), user=user)
    assert not isinstance(info.value, EngineHalted)
    assert info.value.message == "trading is halted for this project"


def test_halt_and_resume_are_audited_with_the_detail(staff: Any) -> None:
    engine_halt_set(
        mode="live",
        halted=True,
        reason="fat finger",
        actor=Actor(user=staff, source_address="10.0.0.7", channel="api"),
    )
    engine_halt_set(mode="live", halted=False, actor=Actor(user=staff, channel="admin"))
    resume, halt = AuditLog.objects.order_by("-id")[:2]
    assert (halt.action, halt.username, halt.channel, halt.source_address) == (
        "engine_halt",
        "desk-lead",
        "api",
        "10.0.0.7",
    )
    assert halt.detail == {"mode": "live", "halted": True, "was_halted": False, "reason": "fat finger"}
    assert (resume.action, resume.channel) == ("engine_resume", "admin")
    assert resume.detail == {"mode": "live", "halted": False, "was_halted": True, "reason": ""}


def test_the_stored_halt_names_who_when_and_why(staff: Any) -> None:
    engine_halt_set(mode="paper", halted=True, reason="  drill  ", actor=Actor(user=staff))
    row = engine_halt_get(mode="paper")
    assert (row.halted, row.reason, row.changed_by, row.changed_by_name) == (
        True,
        "drill",
        staff,
        "desk-lead",
    )
    assert row.changed_at is not None
    assert engine_halt_get(mode="live").halted is False


def test_a_trader_may_not_halt_the_engine(user: Any) -> None:
    with pytest.raises(Forbidden):
        engine_halt_set(mode="paper", halted=True, reason="no", actor=Actor(user=user))
    with pytest.raises(Forbidden):
        engine_halt_set(mode="paper", halted=True, reason="no", actor=None)
    assert not EngineHalt.objects.filter(halted=True).exists()
    assert not AuditLog.objects.filter(action="engine_halt").exists()


def test_the_halt_engine_permission_is_enough_without_staff_status(user: Any) -> None:
    user.user_permissions.add(Permission.objects.get(codename="halt_engine"))
    user = type(user).objects.get(pk=user.pk)
    assert engine_halt_set(mode="paper", halted=True, reason="on call", actor=Actor(user=user)).halted


def test_a_halt_needs_a_reason_and_a_known_mode(staff: Any) -> None:
    with pytest.raises(OrderValidationError) as info:
        engine_halt_set(mode="paper", halted=True, reason="   ", actor=Actor(user=staff))
    assert info.value.errors == {"reason": "required"}
    with pytest.raises(OrderValidationError):
        engine_halt_set(mode="demo", halted=True, reason="x", actor=Actor(user=staff))
    assert not EngineHalt.objects.filter(halted=True).exists()
