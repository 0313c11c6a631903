"""LEAN's command results: a refusal carries no reason, and a true Success is never final.

Read in QuantConnect/Lean at 24863901deffa9ec7985e21ef8fbdb0258efb9e4 (tests/fixtures/lean/command-results-excerpt.json):
CommandResultPacket has only CommandName and Success (Common/Commands/CommandResultsPacket.cs:24-44); OrderCommand
logs its reason with algorithm.Error (OrderCommand.cs:76-93); an update's Success is LEAN's synchronous check
(UpdateOrderCommand.cs:57-68, BrokerageTransactionHandler.cs:474-477); a cancel of a filled order answers Success
(CancelOrderCommand.cs:34-40 with BrokerageTransactionHandler.cs:505-510,527-531).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from execution import actions as services
from execution import tasks
from execution.actions.modify import UPDATE_REFUSED_SEE_LOG, order_modify
from execution.contract import COMMAND_REFUSED, command_refusal
from execution.dispatch import cancels
from execution.engine import process as engines
from execution.engine.process import Handover
from execution.ingest.events import apply_execution_events
from orders.errors import Conflict
from orders.models import OrderStatus, TradeOrder
from orders.services import update_trade_order_status
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db

EXCERPT = Path(__file__).resolve().parents[2] / "fixtures" / "lean" / "command-results-excerpt.json"


def excerpt(path_end: str, lines: str) -> str:
    found = [e for e in json.loads(EXCERPT.read_text())["excerpts"] if e["path"].endswith(path_end)]
    return "\n".join(line for e in found if e["lines"] == lines for line in e["text"])


def lean_result(command_name: str, success: bool) -> dict[str, Any]:
    """What LEAN writes to result-command-<Id>.json: the packet's properties (and Packet's Type and Channel)."""
    properties = re.findall(
        r"public (?:bool\?|string) (\w+) \{ get; set; \}", excerpt("CommandResultsPacket.cs", "24-44")
    )
    assert properties == ["CommandName", "Success"]
    written = {"CommandName": command_name, "Success": success, "Type": "CommandResult", "Channel": ""}
    return {key.lower(): value for key, value in written.items()}  # engines.read_command_result's form


def test_lean_gives_no_reason_so_a_refusal_points_at_engine_log() -> None:
    assert "algorithm.Error(message);" in excerpt("OrderCommand.cs", "76-93")
    assert (
        command_refusal(lean_result("OrderCommand", False))
        == COMMAND_REFUSED
        == ("refused by the engine, see engine.log")
    )
    assert (
        command_refusal({"success": False, "message": "Order 7 is already Filled"})
        == "Order 7 is already Filled"
    )
    assert command_refusal(lean_result("OrderCommand", True)) is None and command_refusal(None) is None


def test_an_order_command_lean_refuses_is_rejected_with_see_engine_log(
    project: Any, monkeypatch: Any
) -> None:
    def running(*, mode: str, intent_path: Path, command: dict[str, Any], refusal: str = "") -> Handover:
        return Handover(kind="command", run_id="r-run", pid=1, command_id=command["Id"], command_path="x")

    monkeypatch.setattr(engines, "hand_over", running)
    monkeypatch.setattr(engines, "wait_command_result", lambda *a, **k: lean_result("OrderCommand", False))
    order = TradeOrderFactory(project=project, params={"source": "manual", "project_id": project.pk})
    assert services.order_dispatch(order_id=order.pk).outcome == "rejected"
    order.refresh_from_db()
    assert (order.status, order.status_message) == ("REJECTED", "refused by the engine, see engine.log")


def held_by_run_r1(project: Any, **extra: Any) -> TradeOrder:
    """A LMT BUY 10 @ 100 that engine run r-1 holds as its order 7."""
    order = TradeOrderFactory(
        project=project, quantity=Decimal(10), order_type="LMT", limit_price=Decimal(100),
        ib_order_id=7, dispatched_at=timezone.now(),
        params={"source": "manual", "manual_execution": {"run_id": "r-1", "handover": "command"}}, **extra,
    )  # fmt: skip
    update_trade_order_status(order, OrderStatus.SUBMITTED)
    order.refresh_from_db()
    return order


@pytest.fixture
def run_r1(monkeypatch: Any, execution_root: Path) -> list[dict[str, Any]]:
    """Engine run r-1 is running here; the commands sent to it (none reaches a file)."""
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(engines, "running_engine", lambda mode: {"pid": 4242, "run_id": "r-1"})
    monkeypatch.setattr(engines, "send_command", lambda mode, command: sent.append(command))
    return sent


def test_an_update_lean_refuses_drops_the_pending_values_and_points_at_engine_log(
    project: Any, user: Any, monkeypatch: Any, run_r1: list[dict[str, Any]]
) -> None:
    monkeypatch.setattr(
        engines, "wait_command_result", lambda *a, **k: lean_result("UpdateOrderCommand", False)
    )
    order = held_by_run_r1(project)
    with pytest.raises(Conflict) as refused:
        order_modify(order=order, limit_price="99", user=user)
    assert (
        refused.value.message
        == UPDATE_REFUSED_SEE_LOG
        == "the update was refused by the engine, see engine.log"
    )
    order.refresh_from_db()
    assert not order.update_pending and order.limit_price == 100 and order.status == OrderStatus.SUBMITTED


def test_an_update_answered_success_stays_pending_until_the_engine_confirms(
    project: Any, user: Any, monkeypatch: Any, run_r1: list[dict[str, Any]]
) -> None:
    assert "request.SetResponse(OrderResponse.Success(request), OrderRequestStatus.Processing);" in excerpt(
        "BrokerageTransactionHandler.cs", "474-477"
    )
    monkeypatch.setattr(
        engines, "wait_command_result", lambda *a, **k: lean_result("UpdateOrderCommand", True)
    )
    order = order_modify(order=held_by_run_r1(project), limit_price="99", user=user)
    assert order.update_pending and order.limit_price == 100  # Success is no confirmation
    # The broker refuses it afterwards (the engine marks that Invalid): the order still works at 100.
    apply_execution_events(
        [{"tag": order.client_order_id, "status": "Invalid", "order_id": 7, "event_id": 2, "run_id": "r-1",
          "time": "2026-11-25T14:30:02Z", "message": "Error 201", "update_refused": True}]
    )  # fmt: skip
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED and not order.update_pending and order.limit_price == 100


def test_a_cancel_answered_success_for_an_order_already_filled_leaves_it_to_its_fill(
    project: Any, run_r1: list[dict[str, Any]]
) -> None:
    cancel = excerpt("CancelOrderCommand.cs", "34-40")
    assert "ticket.CancelRequest != null && ticket.Status != Orders.OrderStatus.Invalid" in cancel
    assert "Cannot cancel order already" in excerpt("BrokerageTransactionHandler.cs", "505-510,527-531")
    order = held_by_run_r1(project)
    cancels.order_cancel_request(order=order)
    assert cancels.order_cancel_send(order_id=order.pk) == "sent"
    # IB filled it before the cancel arrived: LEAN answers the cancel Success all the same.
    folder = engines.engine_dir("paper")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"result-command-{run_r1[0]['Id']}.json").write_text(
        json.dumps({"CommandName": "CancelOrderCommand", "Success": True, "QuantityFilled": 10})
    )
    tasks.sweep_orders(mode="paper")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCEL_PENDING  # the result decides nothing
    apply_execution_events(
        [{"tag": order.client_order_id, "status": "Filled", "order_id": 7, "event_id": 2, "run_id": "r-1",
          "time": "2026-11-25T14:30:02Z", "filled": 10, "fill_price": 99.5}]
    )  # fmt: skip
    order.refresh_from_db()
    assert (order.status, order.filled_quantity, order.avg_fill_price) == (
        "FILLED",
        Decimal(10),
        Decimal("99.5"),
    )
