"""A trailing stop's current stop from its engine's lines (`stop_price`): it only trails the market's way, so the
stored stop is the same whatever order the lines arrive in, and the risk checks value the order at it."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from execution.ingest.events import apply_execution_events
from execution.ingest.lines import parse_lines
from orders.models import Project, TradeOrder
from orders.services.buying_power import working_orders_value
from orders.services.trailing import trailing_stop_ratchet
from tests.factories import TradeOrderFactory

pytestmark = pytest.mark.django_db


def line(tag: str, stop: float | None, *, status: str = "Submitted", second: int = 0) -> dict[str, Any]:
    """A move line as the engines write it: no event_id, so its identity is its JSON's hash."""
    event: dict[str, Any] = {
        "tag": tag,
        "status": status,
        "order_id": 7,
        "run_id": "r-1",
        "symbol": "AAPL",
        "time": f"2026-12-07T15:00:{second:02d}.000Z",
        "filled": 0,
        "fee": 0,
        "fee_currency": "",
        "message": f"trailing stop moved to {stop}",
        "broker_ids": ["1007"],
    }
    if stop is not None:
        event["stop_price"] = stop
    return event


def trailing(project: Project, side: str, tag: str, quantity: int = 1) -> TradeOrder:
    return TradeOrderFactory(
        project=project,
        client_order_id=tag,
        side=side,
        quantity=Decimal(quantity),
        order_type="TRAIL",
        trailing_amount=Decimal(2),
    )


@pytest.mark.parametrize("side", ["SELL", "BUY"])
def test_the_stored_stop_is_the_same_in_every_arrival_order(project: Project, side: str) -> None:
    stops = [187.5, 188.25, 189.0]
    expected = Decimal("189") if side == "SELL" else Decimal("187.5")
    for n, order in enumerate(itertools.permutations(range(3))):
        tag = f"oi_tr_{side}_{n}"
        trailing(project, side, tag)
        apply_execution_events([line(tag, stops[i], second=i) for i in order], source="test")
        assert TradeOrder.objects.get(client_order_id=tag).stop_price == expected


def test_a_sell_stop_never_moves_back_down_and_the_order_is_valued_at_it(
    project: Project, market: dict[str, Decimal]
) -> None:
    market["AAPL"] = Decimal(200)
    order = trailing(project, "SELL", "oi_tr_1")
    assert working_orders_value(project=project) == Decimal(198)  # from the market until the engine says
    apply_execution_events([line("oi_tr_1", 190.0, second=1)], source="test")
    apply_execution_events([line("oi_tr_1", 185.0, second=2)], source="test")
    order.refresh_from_db()
    assert order.stop_price == Decimal(190) and order.status == "SUBMITTED"
    assert working_orders_value(project=project) == Decimal(190)


def test_a_stop_price_on_another_types_line_changes_nothing(project: Project) -> None:
    order = TradeOrderFactory(
        project=project, client_order_id="oi_lmt", order_type="LMT", limit_price=Decimal(5)
    )
    apply_execution_events([line("oi_lmt", 4.0)], source="test")
    order.refresh_from_db()
    assert order.stop_price is None and order.status == "SUBMITTED"


def test_a_move_line_never_lowers_a_partly_filled_order(project: Project) -> None:
    order = trailing(project, "SELL", "oi_tr_2", quantity=5)
    apply_execution_events(
        [
            {
                **line("oi_tr_2", None, status="PartiallyFilled", second=1),
                "event_id": 3,
                "filled": 1,
                "fill_price": 187.0,
            },
            line("oi_tr_2", 188.0, second=2),
        ],
        source="test",
    )
    order.refresh_from_db()
    assert order.status == "PARTIALLY_FILLED" and order.filled_quantity == 1
    assert order.stop_price == Decimal(188)


def test_a_stop_price_that_is_not_a_positive_number_is_a_bad_line() -> None:
    for value in ("188", -1, 0):
        raw = f'{{"tag": "oi_x", "status": "Submitted", "stop_price": {value!r}}}'.replace("'", '"')
        batch = parse_lines([raw.encode()])
        assert batch.report.bad == 1, value


def test_the_ratchet_rule() -> None:
    assert trailing_stop_ratchet(side="SELL", current=None, reported=Decimal(5)) == 5
    assert trailing_stop_ratchet(side="SELL", current=Decimal(5), reported=Decimal(4)) == 5
    assert trailing_stop_ratchet(side="BUY", current=Decimal(5), reported=Decimal(4)) == 4
