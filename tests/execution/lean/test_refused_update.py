"""A modify IB refuses, end to end: the algorithm marks the Invalid line, the ledger keeps the order working.

IB's HandleError emits Invalid for the order itself when a modify fails with one of its InvalidatingCodes
(IB plugin InteractiveBrokersBrokerage.cs:2235-2259,5897-5904@d154917, tests/fixtures/ib/refused-update-excerpt.json),
while IB keeps working the original. Before issue 21 item 4 that Invalid made the order REJECTED.
"""

from __future__ import annotations

import json
import types
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from execution.ingest.events import apply_execution_events
from execution.ingest.lines import parse_lines
from orders.models import FLAG_UPDATE_REFUSED, AuditLog, OrderStatus, Position, TradeOrder
from orders.services.audit import Actor
from orders.services.modify import order_modify_clear, order_modify_record
from tests.execution.lean.fake_lean import (
    OrderRequestStatus,
    make_algorithm,
    order_event,
    read_lines,
    workdir,
)
from tests.execution.lean.fake_lean import OrderStatus as LeanStatus
from tests.execution.lean.fake_lean import lean as lean
from tests.factories import TradeOrderFactory, UserFactory

__all__ = ["lean", "workdir"]  # fixtures used by this module's tests

pytestmark = pytest.mark.django_db
REFUSAL = "110 - The price does not conform to the minimum price variation for this contract."
TEXT = "update refused by the broker: still working at IB until the engine says otherwise"


def working_limit(project: Any) -> TradeOrder:
    """A LMT BUY 10 @ 100 LEAN acknowledged as its order 7 in run r-1."""
    return TradeOrderFactory(
        project=project, symbol="AAPL", quantity=Decimal(10), order_type="LMT", limit_price=Decimal(100),
        status=OrderStatus.SUBMITTED, ib_order_id=7, dispatched_at=timezone.now(),
        params={"source": "manual", "manual_execution": {"run_id": "r-1", "handover": "command"}},
    )  # fmt: skip


def engine_lines(
    lean: types.ModuleType, workdir: Path, order: TradeOrder, *, refused_then_filled: bool
) -> list:
    """What the algorithm writes: the order's Submitted, IB's Invalid for a modify in flight, then a fill."""
    algo = make_algorithm(lean, workdir, None, run_id="r-1")
    algo.initialize()
    algo.transactions.orders[7] = types.SimpleNamespace(id=7, tag=order.client_order_id, broker_id=["1007"])
    algo.on_order_event(order_event(order_id=7, id=1, status=LeanStatus.SUBMITTED))
    algo.transactions.request_update(7, OrderRequestStatus.PROCESSED)  # LEAN ran the UpdateOrderCommand
    algo.on_order_event(order_event(order_id=7, id=2, status=LeanStatus.INVALID, message=REFUSAL))
    if refused_then_filled:
        algo.on_order_event(
            order_event(order_id=7, id=3, status=LeanStatus.FILLED, fill_quantity=10, fill_price=100.0)
        )
    return [line for line in read_lines(workdir) if line.get("tag")]


def test_a_refused_modify_keeps_the_order_working_flagged_and_a_later_fill_counts(
    lean: types.ModuleType, workdir: Path, project: Any, user: Any
) -> None:
    order = working_limit(project)
    order_modify_record(order=order, limit_price="99.5", user=user)
    lines = engine_lines(lean, workdir, order, refused_then_filled=True)
    submitted, refused, filled = lines
    assert refused["update_refused"] is True

    apply_execution_events([submitted, refused], mode="paper")
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED  # not REJECTED: IB still works the original
    assert order.update_refused and order.update_refused_message == REFUSAL
    assert not order.update_pending and order.limit_price == 100  # the refused values are dropped
    assert FLAG_UPDATE_REFUSED in order.flags

    apply_execution_events([filled], mode="paper")
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, 10)
    assert Position.objects.get(project=project, symbol="AAPL").quantity == 10


def test_an_unmarked_invalid_still_rejects_the_order(project: Any) -> None:
    order = working_limit(project)
    line = {"tag": order.client_order_id, "status": "Invalid", "order_id": 7, "event_id": 2, "run_id": "r-1",
            "symbol": "AAPL", "time": timezone.now().isoformat(), "message": "201 - Order rejected"}  # fmt: skip
    apply_execution_events([line], mode="paper")
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED and not order.update_refused


def test_the_mark_decides_in_any_order_of_arrival(
    lean: types.ModuleType, workdir: Path, project: Any
) -> None:
    """Replay and order-independence: fill first or refusal first, the same order at the end."""
    first, second = working_limit(project), TradeOrderFactory(
        project=project, symbol="AAPL", quantity=Decimal(10), order_type="LMT", limit_price=Decimal(100),
        status=OrderStatus.SUBMITTED, ib_order_id=8, dispatched_at=timezone.now(),
    )  # fmt: skip
    lines = engine_lines(lean, workdir, first, refused_then_filled=True)
    apply_execution_events(lines, mode="paper")
    other = [{**line, "tag": second.client_order_id, "order_id": 8} for line in lines]
    apply_execution_events([other[2]], mode="paper")
    apply_execution_events([other[1], other[0]], mode="paper")
    states = []
    for order in (first, second):
        order.refresh_from_db()
        states.append(
            (order.status, order.filled_quantity, order.update_refused, order.update_refused_message)
        )
    assert states[0] == states[1] == (OrderStatus.FILLED, 10, True, REFUSAL)


@pytest.mark.parametrize(
    ("change", "bad"),
    [({"update_refused": True, "status": "Submitted"}, True), ({"update_refused": "yes"}, True),
     ({"update_refused": False}, False)],
)  # fmt: skip
def test_the_mark_only_on_an_invalid_event(change: dict[str, Any], bad: bool) -> None:
    line = {"tag": "oi_1_1_1", "status": "Invalid", "order_id": 7, "event_id": 2, "run_id": "r-1",
            "symbol": "AAPL", "time": "2026-11-25T19:00:01Z", "message": "x"} | change  # fmt: skip
    batch = parse_lines([json.dumps(line).encode()])
    assert (batch.report.bad == 1) is bad


def test_page_api_and_admin_show_the_flag_and_staff_resolve_it(
    lean: types.ModuleType, workdir: Path, project: Any, user: Any, client: Client
) -> None:
    order = working_limit(project)
    order_modify_record(order=order, limit_price="99.5", user=user)
    apply_execution_events(engine_lines(lean, workdir, order, refused_then_filled=False), mode="paper")
    client.force_login(user)
    api = client.get(f"/api/trade/orders/{order.pk}").json()
    assert api["status"] == "SUBMITTED" and api["update_refused"] is True
    assert FLAG_UPDATE_REFUSED in api["flags"] and api["update_refused_message"] == REFUSAL
    listed = client.get("/api/trade/orders").json()["items"]
    assert FLAG_UPDATE_REFUSED in next(o for o in listed if o["id"] == order.pk)["flags"]
    detail = client.get(f"/live-trade/orders/{order.pk}", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="detail-update-refused"' in detail and TEXT in detail
    rows = client.get(f"/live-trade/orders?project={project.pk}", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="order-update-refused"' in rows and TEXT in rows
    lead = UserFactory(username="lead", is_staff=True, is_superuser=True)
    client.force_login(lead)
    admin = client.get(f"/admin/orders/tradeorder/{order.pk}/change/").content.decode()
    assert TEXT in admin and REFUSAL in admin

    cleared = order_modify_clear(order=order, reason="IB shows 10 @ 100 working", actor=Actor(user=lead))
    cleared.refresh_from_db()
    assert not cleared.update_refused and cleared.update_refused_message == ""
    assert cleared.status == OrderStatus.SUBMITTED
    entry = AuditLog.objects.get(action="order_update_cleared")
    assert entry.detail["update_refused"] is True and entry.detail["refused_message"] == REFUSAL
