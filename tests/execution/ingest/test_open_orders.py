"""The ingest of open-orders lines and of untagged events (issue 21, item 3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from execution.ingest.events import apply_execution_events
from execution.models import EngineOpenOrder
from orders.models import ExecutionEvent, OrderStatus
from tests.factories import TradeOrderFactory


def event(**fields: Any) -> dict[str, Any]:
    return {
        "tag": "", "status": "Filled", "order_id": 1, "event_id": 2, "run_id": "r-2", "symbol": "AAPL",
        "time": "2026-12-07T15:00:00.000Z", "filled": 5, "fill_price": 0.9, "fee": 1, "fee_currency": "USD",
        "message": "", "broker_ids": ["1007"], **fields,
    }  # fmt: skip


def open_orders(*entries: dict[str, Any], run_id: str = "r-2") -> dict[str, Any]:
    return {
        "type": "open_orders",
        "run_id": run_id,
        "time": "2026-12-07T15:00:00.000Z",
        "orders": list(entries),
    }


ENTRY = {"order_id": 1, "broker_ids": ["1007"], "symbol": "AAPL", "side": "BUY", "quantity": 5,
         "order_type": "Limit", "limit_price": 1.0, "stop_price": None, "tag": ""}  # fmt: skip


@pytest.fixture
def resting(project: Any) -> Any:
    return TradeOrderFactory(
        project=project, symbol="AAPL", quantity=Decimal(5), order_type="LMT", limit_price=Decimal("1.00"),
        status=OrderStatus.SUBMITTED, ib_order_id=4, broker_order_id="1007",
        params={"source": "test", "mode": "paper", "manual_execution": {"run_id": "r-1"}},
    )  # fmt: skip


@pytest.mark.django_db
def test_an_untagged_fill_after_the_open_orders_line_lands_on_the_re_homed_order(resting: Any) -> None:
    result = apply_execution_events([open_orders(ENTRY), event()], mode="paper", source="test")

    assert result.applied == 1 and result.unmatched == 0 and result.bad == 0
    resting.refresh_from_db()
    assert resting.status == OrderStatus.FILLED and resting.filled_quantity == Decimal(5)
    assert EngineOpenOrder.objects.get(run_id="r-2", engine_order_id=1).order_id == resting.pk


@pytest.mark.django_db
def test_an_untagged_event_no_order_was_re_homed_to_is_unmatched_with_the_reason(resting: Any) -> None:
    result = apply_execution_events([event(order_id=9)], mode="paper", source="test")

    assert result.unmatched == 1
    stored = ExecutionEvent.objects.get(engine_order_id=9)
    assert stored.order is None and "no desk order was re-homed to run r-2 order 9" in stored.reason
    resting.refresh_from_db()
    assert resting.status == OrderStatus.SUBMITTED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "line",
    [
        event(run_id=None),  # untagged, nothing to find its order by
        open_orders({**ENTRY, "side": "BUYS"}),
        open_orders({**ENTRY, "quantity": -5}),
        open_orders(ENTRY, run_id=""),
        {"type": "open_orders", "run_id": "r-2", "orders": "AAPL"},
        event(broker_ids="1007"),
    ],
)
def test_lines_that_break_the_contract_are_bad_lines_and_change_nothing(
    resting: Any, line: dict[str, Any]
) -> None:
    result = apply_execution_events([line], mode="paper", source="test")

    assert result.bad == 1 and result.applied == 0
    resting.refresh_from_db()
    assert resting.params["manual_execution"]["run_id"] == "r-1" and resting.ib_order_id == 4
    assert not EngineOpenOrder.objects.exists()
