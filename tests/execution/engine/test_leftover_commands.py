"""An old run's Cancel/Update command file never reaches a new run (issue 21, item 2).

LEAN numbers orders from 1 in every run (reloaded IB orders take the first ids: Engine/Setup/
BrokerageSetupHandler.cs:485-518@24863901) and reads every `command*.json` of its folder once up
(Common/Commands/FileCommandHandler.cs:32,47-52@24863901, tests/fixtures/lean/command-handling-excerpt.json),
so a cancel a dead run never read would cancel the new run's order 1. The simulator reads command files the
same way and numbers its orders from 1 in every run, so it shows the whole path.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from execution import actions
from execution.contract import cancel_command, update_command
from execution.engine import process as engines
from orders.models import AuditLog, OrderStatus, TradeOrder
from tests.factories import TradeOrderFactory
from tests.waiting import wait_for


def old_run_order(project: Any, *, engine_order_id: int, **fields: Any) -> TradeOrder:
    """A working order of the dead run r-old whose engine order id is `engine_order_id`."""
    sent = timezone.now() - timedelta(minutes=5)
    values: dict[str, Any] = {"status": OrderStatus.SUBMITTED, **fields}
    return TradeOrderFactory(
        project=project, order_type="LMT", limit_price=Decimal("1.00"), ib_order_id=engine_order_id,
        dispatched_at=sent,
        params={"source": "test", "mode": "paper", "manual_execution": {"run_id": "r-old", "handover": "start"}},
        **values,
    )  # fmt: skip


@pytest.mark.django_db
def test_an_old_runs_cancel_and_update_files_never_reach_the_new_run(project: Any) -> None:
    now = timezone.now()
    canceled = old_run_order(
        project, engine_order_id=1, status=OrderStatus.CANCEL_PENDING, cancel_requested_at=now,
        cancel_sent_at=now,
    )  # fmt: skip
    updated = old_run_order(
        project, engine_order_id=2, update_pending=True, update_quantity=Decimal(3), update_requested_at=now
    )
    cancel = cancel_command(command_id="c0ffee00-0000-0000-0000-000000000001", engine_order_id=1)
    update = update_command(
        command_id="c0ffee00-0000-0000-0000-000000000002", engine_order_id=2, quantity=3, limit_price=None,
        stop_price=None,
    )  # fmt: skip
    engines.write_command("paper", cancel)  # written for r-old, which died before reading them
    engines.write_command("paper", update)
    folder = engines.engine_folder("paper")

    # A new order starts a new run: in it, the new order is order 1 (and the next one 2).
    fresh = TradeOrderFactory(
        project=project,
        order_type="LMT",
        limit_price=Decimal("1.00"),
        params={"source": "test", "mode": "paper"},
    )
    result = actions.order_dispatch(order_id=fresh.pk)

    assert result.outcome == "dispatched"
    assert sorted(p.name for p in folder.path.glob("command*.json")) == []  # none left for the new run
    assert sorted(p.name for p in folder.retracted_commands()) == [
        f".command-{cancel['Id']}.retracted",
        f".command-{update['Id']}.retracted",
    ]

    def acknowledged() -> TradeOrder | None:
        actions.ingest_execution_events(mode="paper")
        order = TradeOrder.objects.get(pk=fresh.pk)
        return order if order.ib_order_id is not None else None

    order = wait_for(acknowledged, 15)
    assert order is not None and order.ib_order_id == 1  # the id the old cancel addressed
    assert order.status == OrderStatus.SUBMITTED
    assert "CancelOrderCommand" not in (folder.log).read_text()

    # The old requests are shown as not sent: the cancel is pending again, the update dropped; both audited.
    canceled.refresh_from_db()
    assert canceled.cancel_requested_at is not None and canceled.cancel_sent_at is None
    unsent = AuditLog.objects.get(order=canceled, action="order_cancel_unsent")
    assert unsent.detail["command_id"] == cancel["Id"] and "not sent" in unsent.detail["reason"]
    updated.refresh_from_db()
    assert not updated.update_pending and updated.update_quantity is None
    rejected = AuditLog.objects.get(order=updated, action="order_modify_rejected")
    assert "not sent" in rejected.detail["message"] and engines.running_engine("paper") is not None


@pytest.mark.django_db
def test_an_order_command_of_a_dead_run_stays_for_the_next_run(settings: Any, project: Any) -> None:
    # An OrderCommand carries the order's tag, not a run's id: it stays (the sweep follows it).
    settings.TRADEDESK_COMMAND_RESULT_TIMEOUT = 0
    path = engines.write_command(
        "paper",
        engines.order_command(
            command_id="c0ffee00-0000-0000-0000-000000000003", symbol="AAPL", quantity=1, order_type="MKT",
            limit_price=None, tag="oi_x_1",
        ),
    )  # fmt: skip
    engines.engine_start("paper")
    assert not list(engines.engine_folder("paper").retracted_commands())
    assert wait_for(
        lambda: "reading command file " + path.name in engines.engine_folder("paper").log.read_text(), 10
    )
