"""order_modify (execution/actions/modify.py): the run that holds the order must still be running to be sent an update."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from execution.actions.modify import order_modify
from orders.errors import Conflict
from orders.models import AuditLog, OrderStatus, TradeOrder
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db


def held_by_run_r1(project: Any) -> TradeOrder:
    """A LMT BUY 10 @ 100 handed to engine run r-1, which acknowledged it as engine order 7."""
    return TradeOrderFactory(
        project=project, quantity=Decimal(10), order_type="LMT", limit_price=Decimal(100),
        status=OrderStatus.SUBMITTED, ib_order_id=7, dispatched_at=timezone.now(),
        params={"source": "manual", "manual_execution": {"run_id": "r-1", "handover": "command"}},
    )  # fmt: skip


@pytest.fixture
def sent(monkeypatch: Any) -> list[dict[str, Any]]:
    """Commands sent to the engine (none reaches a file); every command is answered with success."""
    commands: list[dict[str, Any]] = []
    monkeypatch.setattr(
        "execution.engine.process.send_command", lambda mode, command: commands.append(command)
    )
    monkeypatch.setattr("execution.engine.process.wait_command_result", lambda *a, **k: {"success": True})
    return commands


@pytest.mark.parametrize("running", [None, {"pid": 4242, "run_id": "r-2"}], ids=["no engine", "a newer run"])
def test_an_order_whose_engine_run_has_ended_is_refused_and_nothing_is_stored_or_sent(
    project: Any, user: Any, monkeypatch: Any, sent: list[dict[str, Any]], running: dict[str, Any] | None
) -> None:
    monkeypatch.setattr("execution.engine.process.running_engine", lambda mode: running)
    order = held_by_run_r1(project)
    with pytest.raises(Conflict, match="the engine run that holds this order is no longer running"):
        order_modify(order=order, limit_price="99", user=user)
    order.refresh_from_db()
    assert not order.update_pending and order.update_requested_at is None and order.limit_price == 100
    assert sent == [] and not AuditLog.objects.filter(action="order_modify").exists()


def test_the_same_order_is_sent_its_update_while_its_run_is_running(
    project: Any, user: Any, monkeypatch: Any, sent: list[dict[str, Any]]
) -> None:
    monkeypatch.setattr(
        "execution.engine.process.running_engine", lambda mode: {"pid": 4242, "run_id": "r-1"}
    )
    order = order_modify(order=held_by_run_r1(project), limit_price="99", user=user)
    assert order.update_pending and order.update_limit_price == 99
    assert [command["OrderId"] for command in sent] == [7]


def test_a_trailing_stops_and_a_limit_if_touched_modify_go_out_as_tradedesks_update_command(
    project: Any, user: Any, monkeypatch: Any, sent: list[dict[str, Any]]
) -> None:
    # LEAN's UpdateOrderCommand carries neither field (Common/Commands/UpdateOrderCommand.cs:57-65@24863901).
    monkeypatch.setattr(
        "execution.engine.process.running_engine", lambda mode: {"pid": 4242, "run_id": "r-1"}
    )
    working = {"status": OrderStatus.SUBMITTED, "dispatched_at": timezone.now(), "quantity": Decimal(10),
               "params": {"source": "manual", "manual_execution": {"run_id": "r-1", "handover": "command"}}}  # fmt: skip
    trail = TradeOrderFactory(project=project, side="SELL", order_type="TRAIL", trailing_amount=Decimal("2.5"),
                              trailing_as_percent=True, stop_price=Decimal(180), ib_order_id=7, **working)  # fmt: skip
    lit = TradeOrderFactory(project=project, order_type="LIT", trigger_price=Decimal(185), limit_price=Decimal(186),
                            ib_order_id=8, **working)  # fmt: skip

    order_modify(order=trail, trailing_amount="1.5", quantity="8", user=user)
    order_modify(order=lit, trigger_price="184.5", user=user)

    fields = (
        "$type",
        "OrderId",
        "Quantity",
        "LimitPrice",
        "StopPrice",
        "TriggerPrice",
        "TrailingAmount",
        "Tag",
    )
    assert [tuple(command[name] for name in fields) for command in sent] == [
        (
            "TradedeskUpdateCommand",
            7,
            -8,
            None,
            None,
            None,
            0.015,
            None,
        ),  # a SELL's signed total; LEAN's fraction
        ("TradedeskUpdateCommand", 8, None, None, None, 184.5, None, None),
    ]
